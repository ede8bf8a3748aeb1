"""Summary tables of a filtered image set, the numbers behind the Browse plots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxrviz.data.metadata import Metadata
from cxrviz.findings import ALL_LABELS


def prevalence(metadata: Metadata, mask: np.ndarray) -> pd.DataFrame:
    """Images and share of the selection per label, most frequent first."""
    counts = metadata.labels[mask].sum(axis=0)
    total = int(mask.sum())
    frame = pd.DataFrame({"label": list(ALL_LABELS), "images": counts.astype(int)})
    frame["share"] = frame["images"] / total if total else 0.0
    return frame.sort_values("images", ascending=False, ignore_index=True)


def cooccurrence(metadata: Metadata, mask: np.ndarray) -> pd.DataFrame:
    """Label × label image counts; the diagonal is each label's own count."""
    chosen = metadata.labels[mask].astype(np.int64)
    return pd.DataFrame(chosen.T @ chosen, index=list(ALL_LABELS), columns=list(ALL_LABELS))


def ages(metadata: Metadata, mask: np.ndarray) -> pd.DataFrame:
    """Known ages with gender, for the age histogram."""
    frame = metadata.table.loc[mask, ["age", "gender"]]
    return frame[frame["age"].notna()]


def by_view(metadata: Metadata, mask: np.ndarray) -> pd.DataFrame:
    """Images per (label, view) in long form."""
    views = metadata.table.loc[mask, "view"].astype(str).to_numpy()
    chosen = metadata.labels[mask]
    rows = []
    for view in sorted(set(views)):
        in_view = views == view
        for j, label in enumerate(ALL_LABELS):
            rows.append({"label": label, "view": view, "images": int(chosen[in_view, j].sum())})
    return pd.DataFrame(rows, columns=["label", "view", "images"])
