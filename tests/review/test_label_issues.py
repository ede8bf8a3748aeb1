"""cleanlab on a synthetic case where the wrong labels are known: they must come out on top."""

import numpy as np
import pytest

from cxrviz.review.label_issues import MISSING, SPURIOUS, LabelIssueError, find_label_issues, naive_pair_scores, ranked_pairs

FINDINGS = ("A", "B", "C", "D", "E")
# Per-finding miscalibration p -> p**gamma, as a class-weighted loss leaves it: rare findings'
# probabilities inflated, so a plain |p - label| order reads their negatives as misses.
GAMMA = np.array([1.0, 0.7, 0.4, 0.25, 1.5])


def synthetic(n=800, flips=30, seed=0, gamma=None):
    """True labels with uneven prevalence, probabilities from a good but imperfect model that
    saw the truth, then `flips` labels flipped: the flipped pairs are what cleanlab must find."""
    rng = np.random.default_rng(seed)
    prevalence = np.array([0.4, 0.2, 0.1, 0.05, 0.3])
    truth = (rng.random((n, len(prevalence))) < prevalence).astype(int)
    probs = np.where(truth == 1, rng.beta(6, 2, truth.shape), rng.beta(2, 8, truth.shape))
    if gamma is not None:
        probs = probs ** gamma
    given = truth.copy()
    flat = rng.choice(truth.size, size=flips, replace=False)
    rows, cols = np.unravel_index(flat, truth.shape)
    given[rows, cols] = 1 - given[rows, cols]
    names = [f"{i:08d}_000.png" for i in range(n)]
    return names, given, probs, set(zip((names[r] for r in rows), (FINDINGS[c] for c in cols))), truth


def hits(table, flipped, k):
    return len({(i, f) for i, f in zip(table["image"].head(k), table["finding"].head(k))} & flipped)


def test_flipped_labels_rank_at_the_top_with_the_right_direction():
    names, given, probs, flipped, truth = synthetic()
    table = ranked_pairs(names, given, probs, FINDINGS, only_flagged=False)
    assert len(table) == given.size and list(table.columns)[:4] == ["image", "finding", "label", "direction"]
    assert hits(table, flipped, 20) >= 15
    assert (table["score"].diff().dropna() >= 0).all()
    for _, row in table.head(20).iterrows():
        assert row["direction"] == (SPURIOUS if row["label"] == 1 else MISSING)
        assert row["label"] == given[names.index(row["image"]), FINDINGS.index(row["finding"])]
        if (row["image"], row["finding"]) in flipped:
            assert row["label"] == 1 - truth[names.index(row["image"]), FINDINGS.index(row["finding"])]
    flagged = ranked_pairs(names, given, probs, FINDINGS)
    assert flagged["flagged"].all() and 0 < len(flagged) < len(table)
    assert hits(flagged, flipped, len(flagged)) >= 0.6 * len(flagged)  # confident learning's flags are mostly real


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cleanlab_beats_the_naive_order_when_findings_are_miscalibrated(seed):
    names, given, probs, flipped, _ = synthetic(seed=seed, gamma=GAMMA)
    table = ranked_pairs(names, given, probs, FINDINGS, only_flagged=False)
    naive = naive_pair_scores(given, probs).ravel()
    top = np.argsort(naive, kind="stable")[:30]
    naive_hits = len({(names[i // 5], FINDINGS[i % 5]) for i in top} & flipped)
    assert hits(table, flipped, 30) >= 15 and hits(table, flipped, 30) >= naive_hits + 6


def test_image_scores_put_images_with_a_flipped_label_lowest():
    names, given, probs, flipped, _ = synthetic()
    issues = find_label_issues(given, probs)
    assert issues.image_scores.shape == (len(names),) and issues.flagged.shape == given.shape
    bad_images = {names.index(i) for i, _ in flipped}
    lowest = set(np.argsort(issues.image_scores)[: len(bad_images)].tolist())
    assert len(lowest & bad_images) >= 0.7 * len(bad_images)


def test_a_finding_without_positives_is_still_scored():
    names, given, probs, _, _ = synthetic(n=300, flips=10, seed=2)
    given[:, 3] = 0
    table = ranked_pairs(names, given, probs, FINDINGS, only_flagged=False)
    assert len(table) == given.size and np.isfinite(table["score"]).all()
    assert np.array_equal(naive_pair_scores(given, probs), 1 - np.abs(probs - given))


def test_bad_input_is_a_user_error():
    with pytest.raises(LabelIssueError, match="same"):
        find_label_issues(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(LabelIssueError, match="0 \\(absent\\) or 1"):
        find_label_issues(np.full((3, 2), 2), np.zeros((3, 2)))
    with pytest.raises(LabelIssueError, match="between 0 and 1"):
        find_label_issues(np.zeros((3, 2)), np.full((3, 2), np.nan))
    with pytest.raises(LabelIssueError, match="image names"):
        ranked_pairs(["a.png"], np.zeros((3, 2)), np.zeros((3, 2)), ("A", "B"))
