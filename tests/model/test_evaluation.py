"""The AUROC every figure rests on: the rank form agrees with scikit-learn's, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cxrviz.model.evaluation import auroc, auroc_table


def test_auroc_by_hand_and_against_scikit_learn_with_ties():
    # positives 0.8 and 0.4 against negatives 0.4 and 0.1: pairs won 1 + 1 + 0.5 (tie) + 1 of 4
    assert auroc(np.array([1, 1, 0, 0]), np.array([0.8, 0.4, 0.4, 0.1])) == pytest.approx(3.5 / 4)
    rng = np.random.default_rng(3)
    for i in range(300):
        n = int(rng.integers(2, 200))
        y = rng.integers(0, 2, n)
        if not 0 < y.sum() < n:
            continue
        s = rng.integers(0, 5, n) / 5 if i % 2 else rng.random(n)  # every other case full of ties
        assert auroc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auroc_refuses_one_class_and_non_finite_scores():
    with pytest.raises(ValueError):
        auroc(np.array([1, 1]), np.array([0.2, 0.3]))
    with pytest.raises(ValueError):
        auroc(np.array([1, 0]), np.array([np.nan, 0.3]))
    with pytest.raises(ValueError):  # a missing target is not a positive
        auroc(np.array([1, np.nan, 0]), np.array([0.3, 0.2, 0.1]))


def test_auroc_table_interval_brackets_the_point_and_nan_without_both_classes():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, (120, 2))
    y[:, 1] = 0
    s = y + rng.normal(0, 0.8, y.shape)
    table = auroc_table(y, s, ["a", "b"], n_bootstrap=200)
    a, b = table.iloc[0], table.iloc[1]
    assert a.ci_low < a.auroc < a.ci_high and a.auroc == pytest.approx(roc_auc_score(y[:, 0], s[:, 0]))
    assert np.isnan(b.auroc) and b.positives == 0
