"""Inter-reviewer agreement per finding: Cohen's kappa for two reviewers, Fleiss' kappa for more,
and the list of images where reviewers disagree."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from cxrviz.findings import ALL_LABELS
from cxrviz.review.record import Review


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from an (items, categories) matrix of rater counts, equal raters per item."""
    counts = np.asarray(counts, dtype=float)
    n_items, _ = counts.shape
    raters = counts.sum(axis=1)
    if n_items == 0 or not np.all(raters == raters[0]) or raters[0] < 2:
        return float("nan")
    n = raters[0]
    p_j = counts.sum(axis=0) / (n_items * n)
    p_i = (np.sum(counts**2, axis=1) - n) / (n * (n - 1))
    p_bar, p_e = p_i.mean(), np.sum(p_j**2)
    return float((p_bar - p_e) / (1 - p_e)) if p_e < 1 else float("nan")


def _decisions(reviews: list[Review]) -> pd.DataFrame:
    """One row per (image, reviewer), one boolean column per label; skipped reviews left out."""
    rows = [{"image": r.image, "reviewer": r.reviewer, **{l: l in r.labels for l in ALL_LABELS}}
            for r in reviews if r.status != "skipped"]
    return pd.DataFrame(rows, columns=["image", "reviewer", *ALL_LABELS])


def agreement_table(reviews: list[Review]) -> pd.DataFrame:
    """Per label: images seen by 2+ reviewers, the statistic used and its value."""
    decisions = _decisions(reviews)
    shared = decisions.groupby("image").filter(lambda g: len(g) >= 2)
    reviewers_per_image = shared.groupby("image").size()
    rows = []
    for label in ALL_LABELS:
        if shared.empty:
            rows.append({"finding": label, "images": 0, "statistic": "", "kappa": float("nan")})
            continue
        if shared["reviewer"].nunique() == 2 and (reviewers_per_image == 2).all():
            wide = shared.pivot(index="image", columns="reviewer", values=label).dropna()
            a, b = wide.iloc[:, 0].astype(int), wide.iloc[:, 1].astype(int)
            kappa = float(cohen_kappa_score(a, b)) if len(set(a) | set(b)) > 1 else (1.0 if (a == b).all() else float("nan"))
            rows.append({"finding": label, "images": len(wide), "statistic": "Cohen", "kappa": kappa})
        else:
            n = int(reviewers_per_image.min())
            usable = reviewers_per_image[reviewers_per_image == n].index
            votes = shared[shared["image"].isin(usable)].groupby("image")[label].sum()
            counts = np.stack([n - votes.to_numpy(), votes.to_numpy()], axis=1)
            rows.append({"finding": label, "images": len(votes), "statistic": "Fleiss", "kappa": fleiss_kappa(counts)})
    return pd.DataFrame(rows)


def conflicts(reviews: list[Review]) -> pd.DataFrame:
    """Images where reviewers disagree, with the labels in dispute and who set what."""
    decisions = _decisions(reviews)
    rows = []
    for image, group in decisions.groupby("image"):
        if len(group) < 2:
            continue
        disputed = [l for l in ALL_LABELS if group[l].nunique() > 1]
        if disputed:
            who = "; ".join(f"{r['reviewer']}: {'|'.join(l for l in ALL_LABELS if r[l])}" for _, r in group.iterrows())
            rows.append({"image": image, "disputed": "|".join(disputed), "reviewers": who})
    return pd.DataFrame(rows, columns=["image", "disputed", "reviewers"])
