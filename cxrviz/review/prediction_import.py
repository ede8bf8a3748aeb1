"""Importing the Ray engine's Parquet predictions into the review store's prediction cache.

The file (or folder of `*.parquet` parts) has the columns `image, model, weights_sha256, error`
and one probability column per finding. Rows with an error, or with a probability that is not a
finite number in [0, 1], are skipped and counted; the rest go to `Store.put_predictions` keyed
by (model, weights sha256), exactly as the app caches what it computes, so triage and the
queues read them without recomputing. Re-importing is harmless: rows already cached are kept.
Other columns (such as `predict --cam-summary`'s `cam_summary`) are ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS
from cxrviz.review.store import Store

log = logging.getLogger(__name__)

REQUIRED = ("image", "model", "weights_sha256", *FINDINGS)
CHUNK = 1000  # rows per INSERT


class PredictionFileError(CxrvizError):
    """A predictions file that is missing, unreadable or lacks the expected columns."""


@dataclass(frozen=True)
class PredictionImport:
    imported: int
    skipped: int
    models: tuple[str, ...]


def _parts(source: Path) -> list[Path]:
    if source.is_dir():
        parts = sorted(source.glob("*.parquet"))
        if not parts:
            raise PredictionFileError(f"{source} holds no .parquet files.")
        return parts
    if not source.is_file():
        raise PredictionFileError(f"{source} does not exist.")
    return [source]


def read_prediction_table(source: Path):
    """The predictions as one pandas DataFrame; raises PredictionFileError for a bad file."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    frames = []
    for part in _parts(source):
        try:
            frames.append(pq.read_table(part).to_pandas())
        except (OSError, pa.ArrowException) as exc:
            raise PredictionFileError(f"{part.name} is not a readable Parquet file: {exc}") from exc
    table = pd.concat(frames, ignore_index=True)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise PredictionFileError(f"{source.name} lacks the column(s) {', '.join(missing)}: is it `cxrviz predict --engine ray` output?")
    return table


def import_predictions(store: Store, source: Path) -> PredictionImport:
    table = read_prediction_table(source)
    probs = table[list(FINDINGS)].to_numpy(dtype=np.float64)
    errors = table["error"].fillna("").astype(str).to_numpy() if "error" in table.columns else np.full(len(table), "")
    good = (errors == "") & np.isfinite(probs).all(axis=1) & (probs >= 0).all(axis=1) & (probs <= 1).all(axis=1)
    imported = 0
    models = []
    for (model, sha), rows in table[good].groupby(["model", "weights_sha256"], sort=True):
        models.append(str(model))
        values = probs[rows.index.to_numpy()]
        images = rows["image"].astype(str).tolist()
        for start in range(0, len(images), CHUNK):
            store.put_predictions(str(model), str(sha), {i: list(v) for i, v in zip(images[start:start + CHUNK], values[start:start + CHUNK])})
        imported += len(images)
    skipped = int((~good).sum())
    log.info("imported %d cached predictions from %s (%d skipped)", imported, source, skipped)
    return PredictionImport(imported, skipped, tuple(models))
