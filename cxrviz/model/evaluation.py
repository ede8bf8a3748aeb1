"""Per-finding AUROC with bootstrap intervals: the figure every chest X-ray paper reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score


def auroc(y: np.ndarray, s: np.ndarray) -> float:
    """The AUROC of scores `s` for 0/1 targets `y` (both classes present), as the Mann–Whitney U over
    average ranks: the same value as `sklearn.metrics.roc_auc_score` (ties count one half), at about
    a twentieth of its cost, which the bootstrap pays a thousand times per finding. Scores that are
    not all finite go to scikit-learn, which refuses them with its own message; so do targets other than 0 and 1."""
    y, s = np.asarray(y), np.asarray(s, dtype=float)
    if not np.isfinite(s).all() or not np.isin(y, (0, 1)).all():  # NaN, -1, 2 targets: scikit-learn refuses them
        return float(roc_auc_score(y, s))
    positive = y.astype(bool)
    n1 = int(positive.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("AUROC needs both classes: only one is present in y_true.")
    ranks = rankdata(s)
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auroc_table(
    targets: np.ndarray,
    scores: np.ndarray,
    labels: list[str] | tuple[str, ...],
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per label: positives, AUROC and its 95% percentile-bootstrap interval.

    A label with no positives or no negatives has no AUROC (NaN) rather than a made-up one.
    """
    rng = np.random.default_rng(seed)
    n = len(targets)
    draws = rng.integers(0, n, size=(n_bootstrap, n)) if n else np.zeros((0, 0), dtype=int)
    rows = []
    for j, label in enumerate(labels):
        y, s = targets[:, j].astype(int), scores[:, j]
        positives = int(y.sum())
        auc = low = high = float("nan")
        if 0 < positives < n:
            auc = auroc(y, s)
            boot = [auroc(y[d], s[d]) for d in draws if 0 < y[d].sum() < n]
            if boot:
                low, high = (float(v) for v in np.percentile(boot, [2.5, 97.5]))
        rows.append({"finding": label, "positives": positives, "auroc": auc, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def mean_auroc(targets: np.ndarray, scores: np.ndarray) -> float:
    """Mean AUROC over the labels that have both classes present (no bootstrap: for training)."""
    values = [
        auroc(targets[:, j], scores[:, j])
        for j in range(targets.shape[1])
        if 0 < targets[:, j].sum() < len(targets)
    ]
    return float(np.mean(values)) if values else float("nan")


def youden_thresholds(targets: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per-label threshold maximising sensitivity + specificity on validation data."""
    from sklearn.metrics import roc_curve

    thresholds = np.full(targets.shape[1], 0.5)
    for j in range(targets.shape[1]):
        if 0 < targets[:, j].sum() < len(targets):
            fpr, tpr, cuts = roc_curve(targets[:, j], scores[:, j])
            best = int(np.argmax(tpr - fpr))
            thresholds[j] = float(min(cuts[best], 1.0))
    return thresholds
