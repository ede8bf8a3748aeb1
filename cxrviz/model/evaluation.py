"""Per-finding AUROC with bootstrap intervals: the figure every chest X-ray paper reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


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
            auc = float(roc_auc_score(y, s))
            boot = [roc_auc_score(y[d], s[d]) for d in draws if 0 < y[d].sum() < n]
            if boot:
                low, high = (float(v) for v in np.percentile(boot, [2.5, 97.5]))
        rows.append({"finding": label, "positives": positives, "auroc": auc, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def mean_auroc(targets: np.ndarray, scores: np.ndarray) -> float:
    """Mean AUROC over the labels that have both classes present (no bootstrap: for training)."""
    values = [
        roc_auc_score(targets[:, j], scores[:, j])
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
