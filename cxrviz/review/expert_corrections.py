"""Do the reviewers' corrections move the labels toward the experts?

On the images that have both a Google 2019 expert label (`cxrviz.data.expert`) and a decided
review in the store, the NIH labels and the reviewers' labels are each compared with the experts
by the same statistics as the NIH-vs-expert figures (`expert.agreement_statistics`: PPV,
sensitivity and agreement with 95% Wilson intervals, per compared expert finding).

The reviewers' label of an image is its **latest decided review**: the review with the newest
`updated_at` among those whose status is "confirmed" or "corrected" (one per reviewer in the
store; whoever saved last speaks for the image). "Skipped" and "uncertain" reviews are left out:
they state no verdict (an image that could not be shown can only be saved as one of them). A
confirmed review carries the NIH labels, so it counts as the reviewers agreeing with NIH.

The NIH side is the expert file's own NIH labels, as in the NIH-vs-expert table, restricted to
the same images, so the two rows of a finding compare like with like.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from cxrviz.data.expert import COMPARED, ExpertLabels, agreement_statistics, comparison
from cxrviz.review.record import Review

DECIDED = ("confirmed", "corrected")
NIH, REVIEWERS = "NIH", "reviewers"
MOVE_COLUMNS = ("finding", "images", "changed", "toward_experts", "away_from_experts")


def reviewed_labels(reviews: Iterable[Review]) -> dict[str, tuple[str, ...]]:
    """image -> the labels of its latest decided review (see the module's docstring)."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.status not in DECIDED:
            continue
        kept = latest.get(review.image)
        if kept is None or review.updated_at >= kept.updated_at:
            latest[review.image] = review
    return {image: review.labels for image, review in latest.items()}


def corrections_against_experts(expert: ExpertLabels, reviews: Iterable[Review],
                                nih: Mapping[str, Iterable[str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(statistics, moves) on the images with both an expert label and a decided review; `nih`:
    image -> NIH labels (default: the expert file's own).

    statistics: two rows per compared expert finding, `labels` = "NIH" then "reviewers", with the
    columns of `agreement_statistics`; no rows when no reviewed image has an expert label.
    moves: per compared expert finding, how many (image, finding) calls the reviewers changed from
    NIH's (`changed`), how many of those now agree with the experts (`toward_experts`) and how
    many no longer do (`away_from_experts`)."""
    adjudicated = set(expert.table.index)
    reviewed = reviewed_labels(r for r in reviews if r.image in adjudicated)
    by_nih = comparison(expert, nih)
    by_nih = by_nih[by_nih["image"].isin(list(reviewed))]
    by_reviewers = comparison(expert, reviewed)
    return _statistics(by_nih, by_reviewers), _moves(by_nih, by_reviewers)


def _statistics(by_nih: pd.DataFrame, by_reviewers: pd.DataFrame) -> pd.DataFrame:
    if by_reviewers.empty:
        return pd.DataFrame(columns=["finding", "labels"])
    parts = [agreement_statistics(by_nih).assign(labels=NIH), agreement_statistics(by_reviewers).assign(labels=REVIEWERS)]
    out = pd.concat(parts, ignore_index=True)
    out["order"] = out["finding"].map(COMPARED.index)
    out = out.sort_values(["order", "labels"], kind="stable").drop(columns="order").reset_index(drop=True)
    return out[["finding", "labels", *[c for c in out.columns if c not in ("finding", "labels")]]]


def _moves(by_nih: pd.DataFrame, by_reviewers: pd.DataFrame) -> pd.DataFrame:
    both = by_nih.merge(by_reviewers, on=["image", "finding"], suffixes=("_nih", "_rev"))
    rows = []
    for finding in COMPARED:
        part = both[both["finding"] == finding]
        changed = part["nih_nih"] != part["nih_rev"]
        rows.append({"finding": finding, "images": len(part), "changed": int(changed.sum()),
                     "toward_experts": int((changed & (part["nih_rev"] == part["expert_rev"])).sum()),
                     "away_from_experts": int((changed & (part["nih_nih"] == part["expert_nih"])).sum())})
    return pd.DataFrame(rows, columns=list(MOVE_COLUMNS))
