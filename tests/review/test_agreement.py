import math

import pytest

from cxrviz.review.agreement import agreement_table, conflicts, fleiss_kappa
from cxrviz.review.record import Review


def _review(image, reviewer, labels, status="corrected"):
    return Review(image, reviewer, tuple(labels), status, "", None, None, "t", "t")


def test_cohen_kappa_hand_computed():
    # Mass: ann says yes on images 0-1, bob on 0 and 2; over 4 images.
    # agreement p_o = 2/4; p_e = (2/4*2/4) + (2/4*2/4) = 0.5 -> kappa 0
    # Effusion: identical on all four with two yes -> kappa 1
    reviews = []
    for i in range(4):
        ann = (["Mass"] if i in (0, 1) else []) + (["Effusion"] if i < 2 else [])
        bob = (["Mass"] if i in (0, 2) else []) + (["Effusion"] if i < 2 else [])
        reviews += [_review(f"{i}.png", "ann", ann or ["No Finding"]), _review(f"{i}.png", "bob", bob or ["No Finding"])]
    table = agreement_table(reviews).set_index("finding")
    assert table.loc["Mass", "statistic"] == "Cohen"
    assert table.loc["Mass", "kappa"] == pytest.approx(0.0)
    assert table.loc["Effusion", "kappa"] == pytest.approx(1.0)
    assert table.loc["Mass", "images"] == 4


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971)-style check: 3 raters, 4 items, two categories.
    counts = [[3, 0], [0, 3], [2, 1], [1, 2]]
    # P_i = [1, 1, 1/3, 1/3] -> P̄ = 2/3; p = [0.5, 0.5] -> P_e = 0.5; kappa = (2/3-1/2)/(1/2) = 1/3
    assert fleiss_kappa(counts) == pytest.approx(1 / 3)
    assert math.isnan(fleiss_kappa([[2, 0], [1, 0]]))  # unequal raters


def test_three_reviewers_use_fleiss_and_conflicts_are_listed():
    reviews = []
    for i in range(3):
        for who in ("ann", "bob", "cat"):
            labels = ["Nodule"] if (who != "cat" or i == 0) else ["No Finding"]
            reviews.append(_review(f"{i}.png", who, labels))
    reviews.append(_review("3.png", "ann", ["Mass"], status="skipped"))
    table = agreement_table(reviews).set_index("finding")
    assert table.loc["Nodule", "statistic"] == "Fleiss"
    listed = conflicts(reviews)
    assert set(listed["image"]) == {"1.png", "2.png"}
    assert "Nodule" in listed.iloc[0]["disputed"] and "cat: No Finding" in listed.iloc[0]["reviewers"]
