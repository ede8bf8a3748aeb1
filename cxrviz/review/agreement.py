"""Inter-reviewer agreement per finding, and the list of images where reviewers disagree.

Every image that two or more reviewers have decided (skipped reviews left out) is used, however many
reviewers each image has. Per finding:

- Krippendorff's alpha for nominal data (the `krippendorff` package), from a reliability matrix of
  reviewers x images with NaN where a reviewer did not decide an image;
- Cohen's kappa as well, when exactly two reviewers cover the shared images;
- positive and negative (specific) agreement over all pairs of ratings of an image: with m_k
  ratings of image k of which n_k are positive,
  PA = sum n_k (n_k - 1) / sum n_k (m_k - 1) and NA = sum r_k (r_k - 1) / sum r_k (m_k - 1), r_k = m_k - n_k
  (for two reviewers PA = 2a / (2a + b + c) and NA = 2d / (2d + b + c));
- how many images were used and on how many of them at least one reviewer ticked the finding.

A statistic that is undefined (nobody ticked the finding, or every rating is the same) is NaN, and
`reason` says why; it is never reported as 1.
"""

from __future__ import annotations

import logging

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from cxrviz.findings import ALL_LABELS
from cxrviz.review.record import Review

logger = logging.getLogger(__name__)

STATISTICS = ("alpha", "kappa", "positive_agreement", "negative_agreement")
COLUMNS = ("finding", "images", "images_with_positive", "reviewers", *STATISTICS, "reason")
NOT_AVAILABLE = "n/a"

_NO_SHARED = "no image has two or more reviewers"
_NO_POSITIVE = "nobody ticked it on a shared image"
_ALL_POSITIVE = "every reviewer ticked it on every shared image"


def _decisions(reviews: list[Review]) -> pd.DataFrame:
    """One row per (image, reviewer), one boolean column per label; skipped reviews left out."""
    rows = [{"image": r.image, "reviewer": r.reviewer, **{l: l in r.labels for l in ALL_LABELS}}
            for r in reviews if r.status != "skipped"]
    frame = pd.DataFrame(rows, columns=["image", "reviewer", *ALL_LABELS])
    return frame.drop_duplicates(["image", "reviewer"], keep="last")


def _shared(decisions: pd.DataFrame) -> pd.DataFrame:
    """The decisions on images that two or more reviewers decided."""
    counts = decisions.groupby("image")["reviewer"].transform("size")
    return decisions[counts >= 2]


def specific_agreement(positives: np.ndarray, raters: np.ndarray) -> tuple[float, float]:
    """Positive and negative agreement over all pairs of ratings per image (NaN where undefined).

    `positives[k]` ratings of image k are positive out of `raters[k]`.
    """
    n = np.asarray(positives, dtype=float)
    m = np.asarray(raters, dtype=float)
    r = m - n
    pos_den, neg_den = float(np.sum(n * (m - 1))), float(np.sum(r * (m - 1)))
    pa = float(np.sum(n * (n - 1))) / pos_den if pos_den > 0 else float("nan")
    na = float(np.sum(r * (r - 1))) / neg_den if neg_den > 0 else float("nan")
    return pa, na


def _reason(undefined: dict[str, list[str]]) -> str:
    """'alpha, kappa: nobody ticked it ...; kappa: ...' from {reason: [statistics]}."""
    return "; ".join(f"{', '.join(stats)}: {why}" for why, stats in undefined.items() if stats)


def _row(label: str, wide: pd.DataFrame) -> dict:
    """Statistics for one label from a reviewers x images matrix of 1.0 / 0.0 / NaN."""
    values = wide.to_numpy(dtype=float)
    raters = np.sum(~np.isnan(values), axis=0)
    positives = np.nansum(values, axis=0)
    row = {"finding": label, "images": int(values.shape[1]),
           "images_with_positive": int(np.sum(positives > 0)), "reviewers": int(values.shape[0]),
           **{s: float("nan") for s in STATISTICS}}
    undefined: dict[str, list[str]] = {}
    if values.shape[1] == 0:
        row["reason"] = _reason({_NO_SHARED: list(STATISTICS)})
        return row
    observed = set(np.unique(values[~np.isnan(values)]))
    two = values.shape[0] == 2
    if len(observed) < 2:
        why = _NO_POSITIVE if observed == {0.0} else _ALL_POSITIVE
        undefined[why] = ["alpha", *(["kappa"] if two else [])]
    else:
        row["alpha"] = float(krippendorff.alpha(reliability_data=values, level_of_measurement="nominal"))
        if two:
            row["kappa"] = float(cohen_kappa_score(values[0].astype(int), values[1].astype(int), labels=[0, 1]))
    if not two:
        undefined[f"{values.shape[0]} reviewers share these images, Cohen's kappa is for two"] = ["kappa"]
    row["positive_agreement"], row["negative_agreement"] = specific_agreement(positives, raters)
    if np.isnan(row["positive_agreement"]):
        undefined.setdefault(_NO_POSITIVE, []).append("positive_agreement")
    if np.isnan(row["negative_agreement"]):
        undefined.setdefault(_ALL_POSITIVE, []).append("negative_agreement")
    row["reason"] = _reason(undefined)
    return row


def agreement_table(reviews: list[Review]) -> pd.DataFrame:
    """Per label: images used (2+ reviewers), images with a positive, alpha, kappa, PA, NA and why any is n/a."""
    shared = _shared(_decisions(reviews))
    rows = []
    for label in ALL_LABELS:
        wide = shared.pivot(index="reviewer", columns="image", values=label) if not shared.empty else pd.DataFrame()
        rows.append(_row(label, wide.astype(float)))
    logger.debug("agreement over %d shared images", shared["image"].nunique())
    return pd.DataFrame(rows, columns=list(COLUMNS))


def formatted(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The table for reading: statistics rounded to text, undefined ones as 'n/a'."""
    shown = table.copy()
    for column in STATISTICS:
        shown[column] = [NOT_AVAILABLE if pd.isna(v) else f"{v:.{digits}f}" for v in table[column]]
    return shown


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
