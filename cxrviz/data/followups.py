"""Follow-up flips: a finding present at a patient's studies i and i+2 but absent at i+1.

Some of these are real (a pneumothorax drained, then back), but a finding that comes and goes
between three consecutive studies is more often a label the report-mining missed at i+1: a cheap,
model-free list of labels worth a look. Studies are ordered by the metadata's follow-up number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxrviz.data.metadata import Metadata
from cxrviz.findings import ALL_LABELS, FINDINGS

FLIP_COLUMNS = ("image", "finding", "prior", "next", "patient_id", "follow_up")


def _ordered(metadata: Metadata) -> tuple[np.ndarray, pd.DataFrame]:
    table = metadata.table
    order = np.lexsort((table["follow_up"].fillna(-1).to_numpy(), table["patient_id"].to_numpy()))
    return order, table.iloc[order]


def follow_up_flips(metadata: Metadata) -> pd.DataFrame:
    """One row per (middle image, finding) flip, with the prior and next image of the same patient."""
    order, table = _ordered(metadata)
    cols = [ALL_LABELS.index(f) for f in FINDINGS]
    labels = metadata.labels[order][:, cols].astype(bool)
    patients = table["patient_id"].to_numpy()
    n = len(table)
    if n < 3:
        return pd.DataFrame(columns=list(FLIP_COLUMNS))
    middle = np.arange(1, n - 1)
    same = (patients[middle - 1] == patients[middle]) & (patients[middle + 1] == patients[middle])
    flips = labels[middle - 1] & ~labels[middle] & labels[middle + 1] & same[:, None]
    rows, finding_idx = np.nonzero(flips)
    at = middle[rows]
    images = table["image"].to_numpy()
    return pd.DataFrame({
        "image": images[at], "finding": np.asarray(FINDINGS, dtype=object)[finding_idx],
        "prior": images[at - 1], "next": images[at + 1], "patient_id": patients[at],
        "follow_up": table["follow_up"].to_numpy()[at],
    }, columns=list(FLIP_COLUMNS))


def flip_rates(metadata: Metadata) -> pd.DataFrame:
    """Per finding: flips, the (i, i+2)-present triples they come from, and the flip rate among them."""
    order, table = _ordered(metadata)
    cols = [ALL_LABELS.index(f) for f in FINDINGS]
    labels = metadata.labels[order][:, cols].astype(bool)
    patients = table["patient_id"].to_numpy()
    if len(table) < 3:
        return pd.DataFrame({"finding": list(FINDINGS), "flips": 0, "triples": 0, "rate": np.nan})
    same = (patients[:-2] == patients[1:-1]) & (patients[2:] == patients[1:-1])
    outer = labels[:-2] & labels[2:] & same[:, None]
    flips = (outer & ~labels[1:-1]).sum(axis=0)
    triples = outer.sum(axis=0)
    rate = np.where(triples > 0, flips / np.maximum(triples, 1), np.nan)
    return pd.DataFrame({"finding": list(FINDINGS), "flips": flips.astype(int), "triples": triples.astype(int), "rate": rate})


@dataclass(frozen=True)
class Study:
    """One study of a patient, as the Review page shows it beside another: its image, follow-up
    number (None when the metadata leaves it blank) and NIH labels."""

    image: str
    follow_up: int | None
    labels: tuple[str, ...]


def adjacent_studies(metadata: Metadata, images: Iterable[str]) -> dict[str, tuple[Study | None, Study | None]]:
    """For each image: the same patient's study just before it and just after it (None at either
    end of the patient's history), in follow-up order as `follow_up_flips` sees it. Images the
    metadata lacks are left out. Built once per queue; the Review page only looks up."""
    order, table = _ordered(metadata)
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    patients = table["patient_id"].to_numpy()
    follow_ups = table["follow_up"].to_numpy()

    def study(at: int) -> Study:
        follow_up = follow_ups[at]
        return Study(str(table["image"].iat[at]), None if pd.isna(follow_up) else int(follow_up),
                     tuple(metadata.labels_at(int(order[at]))))

    out: dict[str, tuple[Study | None, Study | None]] = {}
    for name in images:
        row = metadata.row_of(name)
        if row is None:
            continue
        at = int(position[row])
        prior = study(at - 1) if at > 0 and patients[at - 1] == patients[at] else None
        following = study(at + 1) if at + 1 < len(order) and patients[at + 1] == patients[at] else None
        out[name] = (prior, following)
    return out
