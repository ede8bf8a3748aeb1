"""Expert reference labels: mapping, statistics and Browse's per-row masks on a hand-computed table,
the real file's figures (loosely), and bad files."""

import gzip

import pandas as pd
import pytest

from cxrviz.data.expert import (
    ExpertLabelsError,
    agreement_statistics,
    comparison,
    describe,
    disagreements,
    load_expert_labels,
    nih_positive,
    row_masks,
    wilson,
)
from cxrviz.data.filters import Filter, apply_filter
from cxrviz.data.metadata import Metadata, label_matrix

HEADER = "Image Index,Finding Labels,Patient ID,Fracture,Pneumothorax,Airspace opacity,Nodule or mass,Set Id\n"
ROWS = [
    "a.png,Pneumothorax,1,NO,YES,NO,NO,val",  # PTX agree
    "b.png,Pneumothorax|Mass,2,NO,NO,NO,YES,val",  # PTX NIH over-calls; nodule/mass agree via Mass
    "c.png,No Finding,3,YES,YES,YES,NO,test",  # PTX NIH missed; airspace missed
    "d.png,Infiltration|Nodule,4,NO,NO,YES,YES,test",  # airspace agree via Infiltration; nodule agree
    "e.png,Pneumonia,5,NO,NO,NO,,test",  # airspace over-call; nodule blank -> not compared
]


@pytest.fixture()
def small(tmp_path):
    path = tmp_path / "experts.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n")
    return load_expert_labels(path)


def test_mapping():
    assert nih_positive({"Mass"}, "Nodule or mass") and nih_positive({"Nodule", "Effusion"}, "Nodule or mass")
    # airspace opacity is the paper's any-opacity-filling-the-airspaces, not one NIH finding
    assert all(nih_positive({f}, "Airspace opacity") for f in ("Consolidation", "Infiltration", "Pneumonia", "Atelectasis", "Edema"))
    assert not nih_positive({"Effusion", "Nodule"}, "Airspace opacity")
    assert not nih_positive({"Pneumothorax"}, "Fracture")


def test_statistics_match_hand_computed_values(small):
    assert len(small) == 5 and "c.png" in small and small.of("e.png") == {
        "Pneumothorax": False, "Airspace opacity": False, "Fracture": False}
    assert describe(small.of("a.png")) == ("Google 2019 adjudicated: Pneumothorax present, Nodule or mass absent, "
                                           "Airspace opacity absent, Fracture absent")
    assert small.of("zzz.png") == {} and describe({}) == ""
    compared = comparison(small)
    assert len(compared) == 5 + 4 + 5  # the blank nodule cell is left out; Fracture is never compared
    stats = agreement_statistics(compared).set_index("finding")
    ptx = stats.loc["Pneumothorax"]  # NIH+: a, b; expert+: a, c; both: a
    assert (ptx["nih_positive"], ptx["expert_positive"], ptx["both_positive"]) == (2, 2, 1)
    assert ptx["ppv"] == 0.5 and ptx["sensitivity"] == 0.5 and ptx["agreement"] == 3 / 5
    assert ptx["nih_positive_disagree"] == 0.5
    assert (ptx["ppv_low"], ptx["ppv_high"]) == pytest.approx(wilson(1, 2))
    nod = stats.loc["Nodule or mass"]  # b, d both positive on both sides; a, c negative on both
    assert (nod["images"], nod["ppv"], nod["sensitivity"], nod["agreement"]) == (4, 1.0, 1.0, 1.0)
    air = stats.loc["Airspace opacity"]  # NIH+: d, e; expert+: c, d
    assert (air["ppv"], air["sensitivity"], air["agreement"]) == (0.5, 0.5, 3 / 5)
    diff = disagreements(compared)
    assert sorted(zip(diff["image"], diff["finding"], diff["direction"])) == [
        ("b.png", "Pneumothorax", "NIH over-calls it"), ("c.png", "Airspace opacity", "NIH missed it"),
        ("c.png", "Pneumothorax", "NIH missed it"), ("e.png", "Airspace opacity", "NIH over-calls it")]
    # NIH labels from elsewhere (e.g. reviewers' corrections): images it lacks are left out
    corrected = comparison(small, {"b.png": ["Mass"], "c.png": ["Pneumothorax"]})
    ptx = agreement_statistics(corrected).set_index("finding").loc["Pneumothorax"]
    assert (ptx["images"], ptx["agreement"]) == (2, 1.0)


def _metadata(rows: list[tuple[str, str]], tmp_path) -> Metadata:
    table = pd.DataFrame({"image": [r[0] for r in rows], "finding_labels": [r[1] for r in rows]})
    return Metadata(table=table, labels=label_matrix(table["finding_labels"], tmp_path / "m.csv"), source=tmp_path / "m.csv")


def test_browse_row_masks_match_hand_computed_values(tmp_path):
    path = tmp_path / "experts.csv"  # the small table, plus an adjudicated image the metadata lacks
    path.write_text(HEADER + "\n".join(ROWS) + "\nz.png,Pneumothorax,9,NO,NO,NO,NO,val\n")
    metadata = _metadata([
        ("f.png", "Pneumothorax"),  # not adjudicated
        ("a.png", "Pneumothorax"),  # PTX yes/yes, nodule no/no, airspace no/no: agrees
        ("b.png", "Pneumothorax|Mass"),  # PTX: NIH yes, experts no -> disagrees
        ("c.png", "No Finding"),  # PTX and airspace: experts yes, NIH no -> disagrees (Fracture yes: never compared)
        ("d.png", "Infiltration|Nodule"),  # airspace via Infiltration, nodule via Nodule: agrees
        ("e.png", "Effusion|Nodule"),  # the metadata, not the file's 'Pneumonia', is used: airspace no/no; nodule
    ], tmp_path)                       # cell blank -> not compared, so the NIH Nodule contradicts nothing: agrees
    has, disagrees = row_masks(metadata, load_expert_labels(path))
    assert has.tolist() == [False, True, True, True, True, True]
    assert disagrees.tolist() == [False, False, True, True, False, False]
    assert apply_filter(metadata, Filter(has_expert=True), expert=has).tolist() == has.tolist()
    both = apply_filter(metadata, Filter(findings=("Pneumothorax",), has_expert=True, nih_disagrees=True),
                        expert=has, disagrees=disagrees)
    assert both.tolist() == [False, False, True, False, False, False]
    assert not apply_filter(metadata, Filter(nih_disagrees=True)).any()  # no masks (an unreadable file): nothing is known


def test_browse_row_masks_on_the_real_metadata(metadata):
    experts = load_expert_labels()
    has, disagrees = row_masks(metadata, experts)
    assert has.sum() == 4376 and not (disagrees & ~has).any()
    # independently: per image, the comparison table built from the metadata's own labels
    nih = {image: metadata.findings_of(image) or set() for image in experts.table.index}
    expected = set(disagreements(comparison(experts, nih))["image"])
    assert set(metadata.table["image"].to_numpy()[disagrees]) == expected and 1500 < len(expected) < 2500


def test_wilson_interval():
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert wilson(0, 0) != wilson(0, 0)  # NaN


def test_the_real_file_about_half_of_nih_pneumothorax_positives_disagree():
    experts = load_expert_labels()
    assert len(experts) == 4376
    stats = agreement_statistics(comparison(experts)).set_index("finding")
    ptx = stats.loc["Pneumothorax"]
    assert ptx["nih_positive"] == 238 and 0.45 < ptx["nih_positive_disagree"] < 0.65  # 129 of 238: 54%
    assert 0.35 < stats.loc["Nodule or mass", "nih_positive_disagree"] < 0.5
    assert stats.loc["Airspace opacity", "ppv"] > stats.loc["Pneumothorax", "ppv"]


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("Image Index,Pneumothorax\na.png,YES\n", "lacks the column"),
    (HEADER + "a.png,No Finding,1,NO,maybe,NO,NO,val\n", "expected YES or NO"),
    (HEADER + ROWS[0] + "\n" + ROWS[0] + "\n", "twice"),
    (b"\x1f\x8b\x08garbage", "cannot be read"),
])
def test_bad_files_are_user_errors(tmp_path, content, message):
    path = tmp_path / "experts.csv.gz"
    if isinstance(content, str):
        with gzip.open(path, "wt") as out:
            out.write(content)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ExpertLabelsError, match=message):
        load_expert_labels(path)


def test_one_image_is_debatable_on_the_findings_nih_and_the_experts_call_differently():
    from cxrviz.data.expert import image_disagreements

    verdicts = {"Pneumothorax": True, "Nodule or mass": False, "Airspace opacity": False, "Fracture": True}
    # NIH says Mass but no pneumothorax: both disagree with the experts; Fracture is never compared
    assert image_disagreements({"Mass"}, verdicts) == ["Pneumothorax", "Nodule or mass"]
    assert image_disagreements({"Mass"}, verdicts, ["Pneumothorax"]) == ["Pneumothorax"]  # only what a quiz asks
    assert image_disagreements({"Pneumothorax"}, verdicts, ["Pneumothorax", "Nodule", "Infiltration"]) == []
    assert image_disagreements({"Edema"}, verdicts, ["Edema"]) == ["Airspace opacity"]
    assert image_disagreements({"Atelectasis"}, {"Airspace opacity": True}) == []
    assert image_disagreements({"Mass"}, {}) == [] and image_disagreements({"Mass"}, None) == []


def test_the_pages_help_text_is_the_mapping_itself():
    from cxrviz.data.expert import mapping_text

    assert mapping_text() == ("Pneumothorax (NIH Pneumothorax); Nodule or mass (NIH Nodule or Mass); Airspace opacity "
                              "(NIH Consolidation, Infiltration, Pneumonia, Atelectasis or Edema)")
