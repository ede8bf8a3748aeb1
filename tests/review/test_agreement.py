"""Agreement statistics against values worked out by hand (the working is in the comments).

Krippendorff's alpha, nominal, two values: from the coincidence matrix o (each image with m ratings adds
every ordered pair of its ratings with weight 1/(m-1)), n = sum of o, n_c = row sums,
alpha = 1 - (n - 1) * (o_01 + o_10) / (2 * n_0 * n_1).
Specific agreement with n_k positives out of m_k ratings on image k, r_k = m_k - n_k:
PA = sum n_k(n_k-1) / sum n_k(m_k-1), NA = sum r_k(r_k-1) / sum r_k(m_k-1).
"""

import math

import pytest

from cxrviz.review.agreement import agreement_table, conflicts, formatted, specific_agreement
from cxrviz.review.record import Review


def _review(image, reviewer, labels, status="corrected"):
    return Review(image, reviewer, tuple(labels), status, "", None, None, "t", "t")


def _reviews(decisions):
    """{(image, reviewer): [labels]} -> reviews; an empty list is 'No Finding'."""
    return [_review(image, who, labels or ["No Finding"]) for (image, who), labels in decisions.items()]


def _two_reviewers():
    # Mass:     ann 1 1 0 0, bob 1 0 1 0 on images 0-3
    # Effusion: ann 1 1 0 0, bob 1 1 0 0
    decisions = {}
    for i in range(4):
        decisions[(f"{i}.png", "ann")] = (["Mass"] if i in (0, 1) else []) + (["Effusion"] if i < 2 else [])
        decisions[(f"{i}.png", "bob")] = (["Mass"] if i in (0, 2) else []) + (["Effusion"] if i < 2 else [])
    return _reviews(decisions)


def test_two_reviewers_cohen_kappa_and_alpha_hand_computed():
    table = agreement_table(_two_reviewers()).set_index("finding")
    mass = table.loc["Mass"]
    # Cohen: p_o = 2/4; p_e = 0.5*0.5 + 0.5*0.5 = 0.5 -> kappa = 0 (a real zero, not n/a)
    assert mass["kappa"] == pytest.approx(0.0)
    # alpha: o_11 = 2 (image 0), o_00 = 2 (image 3), o_10 = o_01 = 2 (images 1, 2); n = 8, n_0 = n_1 = 4
    # alpha = 1 - 7 * 4 / (2 * 4 * 4) = 1 - 28/32 = 0.125
    assert mass["alpha"] == pytest.approx(0.125)
    # a = 1 (both yes), b = c = 1, d = 1: PA = 2/(2+2) = 0.5, NA = 2/(2+2) = 0.5
    assert mass["positive_agreement"] == pytest.approx(0.5)
    assert mass["negative_agreement"] == pytest.approx(0.5)
    assert (mass["images"], mass["images_with_positive"], mass["reviewers"]) == (4, 3, 2)
    assert mass["reason"] == ""
    effusion = table.loc["Effusion"]
    # identical ratings with both values present: every statistic is 1
    assert [effusion[s] for s in ("kappa", "alpha", "positive_agreement", "negative_agreement")] == pytest.approx([1, 1, 1, 1])
    assert effusion["images_with_positive"] == 2


def test_finding_nobody_ticked_is_not_available_with_a_reason():
    table = agreement_table(_two_reviewers()).set_index("finding")
    nodule = table.loc["Nodule"]
    assert math.isnan(nodule["alpha"]) and math.isnan(nodule["kappa"]) and math.isnan(nodule["positive_agreement"])
    assert nodule["alpha"] != 1 and nodule["kappa"] != 1
    # NA: r_k = 2 on all four images: sum 2*1 / sum 2*1 = 1 (agreement on "absent" is defined)
    assert nodule["negative_agreement"] == pytest.approx(1.0)
    assert nodule["images_with_positive"] == 0 and nodule["images"] == 4
    assert "nobody ticked it" in nodule["reason"]
    assert "alpha" in nodule["reason"] and "kappa" in nodule["reason"] and "positive_agreement" in nodule["reason"]
    shown = formatted(table.reset_index()).set_index("finding")
    assert shown.loc["Nodule", "alpha"] == "n/a" and shown.loc["Nodule", "kappa"] == "n/a"
    assert shown.loc["Mass", "kappa"] == "0.000" and shown.loc["Mass", "alpha"] == "0.125"


def test_finding_everybody_ticked_everywhere_is_not_available_with_a_reason():
    decisions = {(f"{i}.png", who): ["Effusion"] for i in range(3) for who in ("ann", "bob", "cat")}
    effusion = agreement_table(_reviews(decisions)).set_index("finding").loc["Effusion"]
    assert math.isnan(effusion["alpha"]) and math.isnan(effusion["negative_agreement"])
    assert effusion["positive_agreement"] == pytest.approx(1.0)
    assert "every reviewer ticked it" in effusion["reason"] and "negative_agreement" in effusion["reason"]


def test_three_reviewers_alpha_and_specific_agreement():
    # Nodule: image 0 = (1,1,1), images 1, 2 = (1,1,0) for ann, bob, cat
    decisions = {(f"{i}.png", who): (["Nodule"] if who != "cat" or i == 0 else []) for i in range(3) for who in ("ann", "bob", "cat")}
    reviews = _reviews(decisions) + [_review("3.png", "ann", ["Mass"], status="skipped"), _review("0.png", "dan", ["Mass"], status="skipped")]
    table = agreement_table(reviews).set_index("finding")
    nodule = table.loc["Nodule"]
    # o_11 = 3 (image 0: 6 pairs / 2) + 1 + 1 = 5, o_10 = o_01 = 1 + 1 = 2; n = 9, n_1 = 7, n_0 = 2
    # alpha = 1 - 8 * 4 / (2 * 7 * 2) = 1 - 32/28 = -1/7
    assert nodule["alpha"] == pytest.approx(-1 / 7)
    # n_k = 3, 2, 2 with m = 3: PA = (6+2+2)/(6+4+4) = 5/7; r_k = 0, 1, 1: NA = 0/(0+2+2) = 0
    assert nodule["positive_agreement"] == pytest.approx(5 / 7)
    assert nodule["negative_agreement"] == 0.0
    # skipped reviews stay out: 3.png has no decision, dan does not count
    assert (nodule["images"], nodule["reviewers"]) == (3, 3)
    assert math.isnan(nodule["kappa"]) and "Cohen's kappa is for two" in nodule["reason"]
    listed = conflicts(reviews)
    assert set(listed["image"]) == {"1.png", "2.png"}
    assert "Nodule" in listed.iloc[0]["disputed"] and "cat: No Finding" in listed.iloc[0]["reviewers"]


def test_varying_reviewers_per_image_uses_every_shared_image():
    # Mass for ann, bob (, cat):  A = (1,1)  B = (0,0)  C = (1,1,0)  D = (0,0,0)  E = ann alone (left out)
    decisions = {
        ("A", "ann"): ["Mass"], ("A", "bob"): ["Mass"],
        ("B", "ann"): [], ("B", "bob"): [],
        ("C", "ann"): ["Mass"], ("C", "bob"): ["Mass"], ("C", "cat"): [],
        ("D", "ann"): [], ("D", "bob"): [], ("D", "cat"): [],
        ("E", "ann"): ["Mass"],
    }
    mass = agreement_table(_reviews(decisions)).set_index("finding").loc["Mass"]
    assert (mass["images"], mass["images_with_positive"], mass["reviewers"]) == (4, 2, 3)
    # o_11 = 2 (A) + 1 (C) = 3, o_00 = 2 (B) + 3 (D) = 5, o_10 = o_01 = 1 (C); n = 10, n_1 = 4, n_0 = 6
    # alpha = 1 - 9 * 2 / (2 * 4 * 6) = 1 - 18/48 = 0.625
    assert mass["alpha"] == pytest.approx(0.625)
    # n_k = 2, 0, 2, 0 with m_k = 2, 2, 3, 3: PA = (2+0+2+0)/(2+0+4+0) = 2/3
    # r_k = 0, 2, 1, 3: NA = (0+2+0+6)/(0+2+2+6) = 0.8
    assert mass["positive_agreement"] == pytest.approx(2 / 3)
    assert mass["negative_agreement"] == pytest.approx(0.8)


def test_specific_agreement_two_raters_matches_the_two_by_two_formula():
    # a = 3 both yes, b + c = 2 one yes, d = 5 both no: PA = 6/8, NA = 10/12
    positives = [2] * 3 + [1] * 2 + [0] * 5
    pa, na = specific_agreement(positives, [2] * 10)
    assert (pa, na) == pytest.approx((0.75, 10 / 12))
    assert all(math.isnan(v) for v in specific_agreement([], []))


def test_no_shared_image():
    table = agreement_table([_review("0.png", "ann", ["Mass"]), _review("1.png", "bob", ["Mass"])])
    assert table["images"].max() == 0
    assert table["alpha"].isna().all() and table["reason"].str.contains("no image has two or more reviewers").all()
