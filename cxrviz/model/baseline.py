"""The metadata-only baseline: what age, sex, view and follow-up number alone predict.

A portable AP film of an old man on his 30th follow-up is a sicker patient than a PA film of a
young outpatient, so any model can score above chance without looking at the lungs. One logistic
regression per finding on those four columns, trained on the full NIH table (112,120 rows) minus
every patient of the images it is evaluated on, says how much of an image model's AUROC is that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cxrviz.data.metadata import Metadata
from cxrviz.findings import ALL_LABELS, FINDINGS

log = logging.getLogger(__name__)

FEATURES = ("age", "age²", "male", "AP view", "log(1 + follow-up)", "first visit")


def metadata_features(table: pd.DataFrame, age_fill: float | None = None) -> np.ndarray:
    """(n, 6) features from the metadata columns; a missing age takes `age_fill` (the training median)."""
    age = pd.to_numeric(table["age"], errors="coerce").astype(float)
    fill = float(np.nanmedian(age)) if age_fill is None else age_fill
    age = age.fillna(fill).to_numpy() / 100.0
    follow = pd.to_numeric(table["follow_up"], errors="coerce").fillna(0).to_numpy(dtype=float)
    male = (table["gender"].astype(str) == "M").to_numpy(dtype=float)
    ap = (table["view"].astype(str) == "AP").to_numpy(dtype=float)
    return np.column_stack([age, age**2, male, ap, np.log1p(follow), (follow == 0).astype(float)])


@dataclass
class MetadataBaseline:
    """One fitted logistic regression per finding; `predict` gives (n, 14) probabilities."""

    models: list
    age_fill: float
    labels: tuple[str, ...]
    n_train: int
    n_train_patients: int

    def predict(self, table: pd.DataFrame) -> np.ndarray:
        x = metadata_features(table, self.age_fill)
        return np.column_stack([m.predict_proba(x)[:, 1] for m in self.models]).astype(np.float32)


def fit_baseline(metadata: Metadata, exclude_patients=(), labels=FINDINGS, seed: int = 0) -> MetadataBaseline:
    """Fit on every row whose patient is not in `exclude_patients` (the evaluation images' patients)."""
    table = metadata.table
    keep = ~table["patient_id"].isin(list(map(int, exclude_patients))).to_numpy()
    train = table[keep]
    age_fill = float(np.nanmedian(pd.to_numeric(train["age"], errors="coerce")))
    x = metadata_features(train, age_fill)
    models = []
    for label in labels:
        y = metadata.labels[keep, ALL_LABELS.index(label)].astype(int)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
        models.append(model.fit(x, y))
    log.info("metadata baseline fitted on %d rows of %d patients", len(train), train["patient_id"].nunique())
    return MetadataBaseline(models, age_fill, tuple(labels), len(train), int(train["patient_id"].nunique()))


def rows_of(metadata: Metadata, names) -> pd.DataFrame:
    """The metadata rows of `names`, in that order."""
    rows = [metadata.row_of(n) for n in names]
    missing = [n for n, r in zip(names, rows) if r is None]
    if missing:
        raise KeyError(f"{len(missing)} images have no metadata row (first: {missing[0]})")
    return metadata.table.iloc[rows]
