import numpy as np

from cxrviz.data.filters import Filter, apply_filter
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
