import numpy as np
import pytest

from cxrviz.data.filters import (
    AGE_SLIDER,
    LINK_KEYS,
    Filter,
    apply_filter,
    filter_from_form,
    filter_from_params,
    filter_to_params,
    form_values,
    parse_patient_ids,
)
from cxrviz.data.stats import ages, by_view, cooccurrence, prevalence
from cxrviz.findings import ALL_LABELS


def test_no_filter_keeps_everything(metadata):
    assert apply_filter(metadata, Filter()).sum() == 112_120


def test_match_modes(metadata):
    any_of = apply_filter(metadata, Filter(findings=("Effusion", "Mass"), match="any of")).sum()
    all_of = apply_filter(metadata, Filter(findings=("Effusion", "Mass"), match="all of")).sum()
    exactly = apply_filter(metadata, Filter(findings=("Effusion", "Mass"), match="exactly these")).sum()
    assert exactly < all_of < any_of
    assert exactly == (metadata.table["finding_labels"] == "Effusion|Mass").sum()
    assert any_of == 13_317 + 5_782 - all_of


def test_demographic_filters(metadata):
    table = metadata.table
    women = apply_filter(metadata, Filter(genders=("F",)))
    assert women.sum() == (table["gender"] == "F").sum()
    ap = apply_filter(metadata, Filter(views=("AP",)))
    assert ap.sum() == (table["view"] == "AP").sum()
    aged = apply_filter(metadata, Filter(age_min=30, age_max=40, include_unknown_age=False))
    assert table.loc[aged, "age"].between(30, 40).all() and aged.sum() > 1000
    patient = apply_filter(metadata, Filter(patient_ids=(1,)))
    assert patient.sum() == 3


def test_local_and_box_masks(metadata):
    present = np.zeros(len(metadata), dtype=bool)
    present[:10] = True
    assert apply_filter(metadata, Filter(has_image=True), present=present).sum() == 10
    assert apply_filter(metadata, Filter(has_image=True)).sum() == 0


def test_cooccurrence_reproduces_dataset_counts(metadata):
    matrix = cooccurrence(metadata, np.ones(len(metadata), dtype=bool))
    assert matrix.loc["Infiltration", "Infiltration"] == 19_894
    assert matrix.loc["Effusion", "Effusion"] == 13_317
    assert (matrix.to_numpy() == matrix.to_numpy().T).all()
    both = (metadata.labels[:, ALL_LABELS.index("Effusion")] & metadata.labels[:, ALL_LABELS.index("Infiltration")]).sum()
    assert matrix.loc["Effusion", "Infiltration"] == both
    assert matrix.loc["No Finding", "Effusion"] == 0


def test_prevalence_ages_views(metadata):
    mask = apply_filter(metadata, Filter(findings=("Hernia",)))
    table = prevalence(metadata, mask)
    assert table.iloc[0]["label"] == "Hernia" and table.iloc[0]["images"] == 227
    assert len(ages(metadata, mask)) <= 227
    views = by_view(metadata, mask)
    assert views[views["label"] == "Hernia"]["images"].sum() == 227


# ---- filters in a link ----

BROWSE_DEFAULT = Filter(has_image=True)  # the Browse default on a server with images


@pytest.mark.parametrize(
    "spec",
    [
        Filter(),
        BROWSE_DEFAULT,
        Filter(findings=("Mass", "Effusion"), match="all of", has_image=True),
        Filter(findings=("Pleural_Thickening",), match="exactly these", no_finding=False, has_box=True),
        Filter(no_finding=True, genders=("F",), views=("AP", "PA"), has_image=False),
        Filter(age_min=30, age_max=40, include_unknown_age=False, patient_ids=(1, 30805), has_image=True),
        Filter(age_min=0, age_max=17, include_unknown_age=False, genders=("M", "F")),
        Filter(age_min=65, age_max=None, include_unknown_age=True),
        Filter(has_expert=True, has_image=True),
        Filter(findings=("Pneumothorax",), nih_disagrees=True, has_image=False),
        Filter(has_expert=True, nih_disagrees=True, has_box=True),
    ],
)
def test_a_filter_round_trips_through_link_params(spec):
    params = filter_to_params(spec, BROWSE_DEFAULT)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    assert set(params) <= set(LINK_KEYS)
    assert filter_from_params(params, BROWSE_DEFAULT) == (spec, [])


def test_link_params_name_only_what_differs_from_the_default():
    assert filter_to_params(BROWSE_DEFAULT, BROWSE_DEFAULT) == {}
    assert filter_to_params(Filter(has_image=False), BROWSE_DEFAULT) == {"local": "0"}
    params = filter_to_params(Filter(findings=("Mass", "Nodule"), match="all of", age_min=30, age_max=40, include_unknown_age=False,
                                     genders=("F",), views=("PA",), patient_ids=(7, 30805), has_box=True), Filter())
    assert params == {"findings": "Mass,Nodule", "match": "all", "age": "30-40", "gender": "F", "view": "PA",
                      "patients": "7,30805", "boxes": "1"}
    assert filter_to_params(Filter(has_expert=True, nih_disagrees=True), Filter()) == {"expert": "1", "disagree": "1"}
    assert filter_from_params({"expert": "yes", "disagree": "0"})[0] == Filter(has_expert=True)


def test_the_browse_form_round_trips_through_a_link():
    spec = filter_from_form(["Hernia", "Mass"], "all of", False, (20, 60), ["M"], ["AP"], (1, 2), False, True, True, False)
    form = form_values(filter_from_params(filter_to_params(spec, BROWSE_DEFAULT), BROWSE_DEFAULT)[0])
    assert form == {"findings": ["Hernia", "Mass"], "match": "all of", "no_finding": False, "age_range": (20, 60),
                    "genders": ["M"], "views": ["AP"], "patients": "1, 2", "has_image": False, "has_box": True,
                    "has_expert": True, "nih_disagrees": False}
    again = filter_from_form(form["findings"], form["match"], form["no_finding"], form["age_range"], form["genders"], form["views"],
                             parse_patient_ids(form["patients"])[0], form["has_image"], form["has_box"], form["has_expert"],
                             form["nih_disagrees"])
    assert again == spec
    assert form_values(BROWSE_DEFAULT)["age_range"] == AGE_SLIDER


def test_links_written_by_hand_are_read_leniently():
    spec, problems = filter_from_params({"findings": "mass, pleural thickening,Mass", "gender": "f", "view": "pa", "match": "ALL",
                                         "local": "no", "age": " 30 - 40 "})
    assert problems == []
    assert spec.findings == ("Mass", "Pleural_Thickening") and spec.genders == ("F",) and spec.views == ("PA",)
    assert spec.match == "all of" and spec.has_image is False
    assert (spec.age_min, spec.age_max, spec.include_unknown_age) == (30, 40, False)
    full, _ = filter_from_params({"age": "0-120"})
    assert (full.age_min, full.age_max, full.include_unknown_age) == (None, None, True)  # the whole slider: no age filter
    open_ended, _ = filter_from_params({"age": "65-"})
    assert (open_ended.age_min, open_ended.age_max) == (65, None)


@pytest.mark.parametrize(
    "params, field, kept, named",
    [
        ({"age": "abc"}, "age_min", None, "abc"),
        ({"age": "40-30"}, "age_min", None, "40-30"),
        ({"age": "-5-10"}, "age_min", None, "-5-10"),
        ({"age": "30-400"}, "age_max", None, "30-400"),
        ({"age": "30.5-40"}, "age_min", None, "30.5-40"),
        ({"match": "most"}, "match", "any of", "most"),
        ({"local": "maybe"}, "has_image", True, "maybe"),
        ({"boxes": ""}, "has_box", False, "boxes"),
        ({"no_finding": "2"}, "no_finding", False, "2"),
        ({"disagree": "maybe"}, "nih_disagrees", False, "maybe"),
        ({"findings": "Mass,**bold**"}, "findings", ("Mass",), "**bold**"),
        ({"findings": "No Finding"}, "findings", (), "No Finding"),
        ({"gender": "X,F"}, "genders", ("F",), "X"),
        ({"view": "LL"}, "views", (), "LL"),
        ({"patients": "1,²,x1,99999999999999999999"}, "patient_ids", (1,), "99999999999999999999"),
    ],
)
def test_a_bad_value_in_a_link_is_named_and_ignored(metadata, params, field, kept, named):
    spec, problems = filter_from_params(params, BROWSE_DEFAULT)
    assert getattr(spec, field) == kept
    assert len(problems) == 1 and named in problems[0]
    apply_filter(metadata, spec)  # whatever a link says, the filter it yields applies


def test_unknown_parameters_belong_to_someone_else():
    assert filter_from_params({"image": "x.png", "embed": "true"}, BROWSE_DEFAULT) == (BROWSE_DEFAULT, [])


def test_patient_ids_that_are_not_plain_whole_numbers_are_refused():
    assert parse_patient_ids("1, 30805 ² 12a 1234567890") == ((1, 30805), ["²", "12a", "1234567890"])
