"""Reviewer corrections against the Google 2019 experts, on a tiny store and the small expert table
of tests/data/test_expert.py; every figure is worked out by hand in the comments."""

import math

import pytest

from cxrviz.data.expert import load_expert_labels, wilson
from cxrviz.review.expert_corrections import corrections_against_experts, reviewed_labels
from cxrviz.review.store import Store
from tests.data.test_expert import HEADER, ROWS

# expert (PTX, nodule/mass, airspace) and the file's NIH labels:
#   a  Y N N  Pneumothorax           b  N Y N  Pneumothorax|Mass     c  Y N Y  No Finding
#   d  N Y Y  Infiltration|Nodule    e  N - N  Pneumonia (nodule cell blank)
REVIEWS = [  # image, reviewer, labels, status, saved at
    ("a.png", "bob", ["No Finding"], "corrected", "2024-01-01T00:00:00Z"),
    ("a.png", "ann", ["Pneumothorax"], "confirmed", "2024-01-02T00:00:00Z"),  # latest decided: ann
    ("a.png", "carl", ["No Finding"], "skipped", "2024-01-03T00:00:00Z"),  # skipped: left out
    ("b.png", "ann", ["Mass"], "corrected", "2024-01-01T00:00:00Z"),  # PTX dropped: toward the experts
    ("c.png", "ann", ["Pneumothorax"], "corrected", "2024-01-01T00:00:00Z"),  # PTX added: toward
    ("d.png", "ann", ["Nodule"], "corrected", "2024-01-01T00:00:00Z"),  # Infiltration dropped: away (airspace)
    ("e.png", "ann", ["No Finding"], "uncertain", "2024-01-01T00:00:00Z"),  # uncertain: left out
    ("x.png", "ann", ["Mass"], "corrected", "2024-01-01T00:00:00Z"),  # no expert label
]


@pytest.fixture()
def experts(tmp_path):
    path = tmp_path / "experts.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n")
    return load_expert_labels(path)


@pytest.fixture()
def reviews(tmp_path):
    store = Store(str(tmp_path / "reviews.sqlite"))
    for image, who, labels, status, at in REVIEWS:
        store.save_review(image, who, labels, status, at=at)
    saved = store.reviews()
    store.dispose()
    return saved


def test_the_latest_decided_review_speaks_for_an_image(reviews):
    assert reviewed_labels(reviews) == {"a.png": ("Pneumothorax",), "b.png": ("Mass",), "c.png": ("Pneumothorax",),
                                        "d.png": ("Nodule",), "x.png": ("Mass",)}


def test_nih_and_reviewers_against_the_experts_hand_computed(experts, reviews):
    stats = corrections_against_experts(experts, reviews)[0]
    assert list(zip(stats["finding"], stats["labels"])) == [
        ("Pneumothorax", "NIH"), ("Pneumothorax", "reviewers"), ("Nodule or mass", "NIH"), ("Nodule or mass", "reviewers"),
        ("Airspace opacity", "NIH"), ("Airspace opacity", "reviewers")]
    assert set(stats["images"]) == {4}  # a, b, c, d (e only uncertain, x not adjudicated)
    row = stats.set_index(["finding", "labels"]).loc
    # PTX  NIH a y b y c n d n, experts y n y n: both 1 -> PPV 1/2, sensitivity 1/2, agreement 2/4
    ptx = row[("Pneumothorax", "NIH")]
    assert (ptx["nih_positive"], ptx["ppv"], ptx["sensitivity"], ptx["agreement"]) == (2, 0.5, 0.5, 0.5)
    # reviewers y n y n: PPV 2/2, sensitivity 2/2, agreement 4/4
    ptx = row[("Pneumothorax", "reviewers")]
    assert (ptx["nih_positive"], ptx["ppv"], ptx["sensitivity"], ptx["agreement"]) == (2, 1.0, 1.0, 1.0)
    assert (ptx["ppv_low"], ptx["ppv_high"]) == pytest.approx(wilson(2, 2))
    assert (ptx["agreement_low"], ptx["agreement_high"]) == pytest.approx(wilson(4, 4))
    # nodule/mass: n y n y on every side
    assert row[("Nodule or mass", "reviewers")]["agreement"] == row[("Nodule or mass", "NIH")]["agreement"] == 1.0
    # airspace  NIH n n n y, experts n n y y: PPV 1/1, sensitivity 1/2, agreement 3/4
    air = row[("Airspace opacity", "NIH")]
    assert (air["ppv"], air["sensitivity"], air["agreement"]) == (1.0, 0.5, 0.75)
    # reviewers n n n n: PPV undefined, sensitivity 0/2, agreement 2/4
    air = row[("Airspace opacity", "reviewers")]
    assert math.isnan(air["ppv"]) and (air["sensitivity"], air["agreement"]) == (0.0, 0.5)
    assert (air["sensitivity_low"], air["sensitivity_high"]) == pytest.approx(wilson(0, 2))


def test_moves_toward_and_away_from_the_experts(experts, reviews):
    table = corrections_against_experts(experts, reviews)[1].set_index("finding")
    assert table.loc["Pneumothorax"].tolist() == [4, 2, 2, 0]  # b and c changed, both now agree with the experts
    assert table.loc["Nodule or mass"].tolist() == [4, 0, 0, 0]
    assert table.loc["Airspace opacity"].tolist() == [4, 1, 0, 1]  # d: Infiltration dropped, the experts say present


def test_no_reviewed_image_with_an_expert_label(experts, reviews):
    only_elsewhere = [r for r in reviews if r.image in ("x.png", "e.png")]
    assert corrections_against_experts(experts, only_elsewhere)[0].empty
    stats, moved = corrections_against_experts(experts, [])
    assert stats.empty and moved.set_index("finding")["images"].tolist() == [0, 0, 0]
