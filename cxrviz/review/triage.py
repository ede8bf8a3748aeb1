"""Batch predictions for a selection, cached in the store, and the orders they make possible:
by a finding's probability, or by disagreement between the NIH label and the model — the
first queue for finding wrong labels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cxrviz.data.metadata import Metadata
from cxrviz.findings import ALL_LABELS, FINDINGS
from cxrviz.model.batch import iter_predictions
from cxrviz.model.registry import LoadedModel
from cxrviz.review.store import Store

CHUNK = 16


def predict_missing(store: Store, model: LoadedModel, names: list[str], paths: list[Path],
                    progress: Callable[[int, int], None] | None = None) -> int:
    """Predict the images without a cached result, saving each chunk as it finishes (so a
    cancelled run keeps what it did); returns how many were computed."""
    cached = store.cached_predictions(model.spec.name, model.weights_sha256, names)
    todo = [i for i, n in enumerate(names) if n not in cached]
    done = len(names) - len(todo)
    if progress:
        progress(done, len(names))
    computed = 0
    for indices, probs, errors in iter_predictions(model, [paths[i] for i in todo], CHUNK):
        rows = {names[todo[k]]: p.tolist() for k, p, e in zip(indices, probs, errors) if not e}
        store.put_predictions(model.spec.name, model.weights_sha256, rows)
        computed += len(indices)
        if progress:
            progress(done + computed, len(names))
    return computed


def prediction_frame(store: Store, model: LoadedModel, names: list[str]) -> pd.DataFrame:
    """Cached probabilities of `names` as a frame indexed by image (missing images absent)."""
    cached = store.cached_predictions(model.spec.name, model.weights_sha256, names)
    return pd.DataFrame.from_dict(cached, orient="index", columns=list(FINDINGS))


def disagreement(metadata: Metadata, probs: pd.DataFrame) -> pd.Series:
    """Per image, the largest |probability − NIH label| over the findings (1 = total disagreement)."""
    if probs.empty:
        return pd.Series(dtype=float)
    rows = metadata.table["image"].reset_index().set_index("image").loc[probs.index, "index"].to_numpy()
    labels = metadata.labels[np.ix_(rows, [ALL_LABELS.index(f) for f in FINDINGS])].astype(float)
    return pd.Series(np.abs(probs.to_numpy() - labels).max(axis=1), index=probs.index, name="disagreement")


def ranked(metadata: Metadata, probs: pd.DataFrame, by: str, minimum: float = 0.0) -> list[str]:
    """Images ordered by `by` ("disagreement" or a finding's probability), highest first."""
    if probs.empty:
        return []
    score = disagreement(metadata, probs) if by == "disagreement" else probs[by]
    return score[score >= minimum].sort_values(ascending=False, kind="stable").index.tolist()
