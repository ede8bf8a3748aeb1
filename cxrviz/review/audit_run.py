"""One label audit, end to end: out-of-fold probabilities (reused from the store where present,
else trained fold by fold and stored as each fold ends), cleanlab on them, the suspect pairs
stored and returned. `python -m cxrviz audit` is a thin wrapper; the Label audit page reads the
stored pairs (`suspect_queue`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxrviz.data.expert import ExpertLabels, expert_label_for
from cxrviz.data.labelled import LabelledSet
from cxrviz.review.label_issues import ranked_pairs
from cxrviz.review.store import Store
from cxrviz.review.store.oof import oof_probabilities, put_oof, replace_label_issues, stored_label_issues

log = logging.getLogger(__name__)

DEFAULT_TOP = 1000
QUEUE_COLUMNS = ("image", "finding", "label", "direction", "score", "expert", "probability", "image_score", "flagged")


@dataclass(frozen=True)
class AuditResult:
    model: str
    scheme: str
    table: pd.DataFrame  # the stored suspect pairs, most suspect first (columns: QUEUE_COLUMNS)
    trained_folds: int
    reused_images: int
    flagged: int


def with_expert(table: pd.DataFrame, expert: ExpertLabels | None) -> pd.DataFrame:
    """Adds `expert`: "present"/"absent" from the Google 2019 adjudication where the image has one
    for the expert finding this NIH finding maps to, else ""."""
    out = table.copy()
    if expert is None:
        out["expert"] = ""
        return out
    verdicts = [expert_label_for(expert, i, f) for i, f in zip(out["image"], out["finding"])]
    out["expert"] = ["" if v is None else ("present" if v else "absent") for v in verdicts]
    return out


@dataclass(frozen=True)
class OutOfFold:
    model: str  # the recipe's name (`recipe_name`)
    scheme: str  # the fold scheme's name (`scheme_name`)
    folds: np.ndarray  # the fold of each image
    probabilities: np.ndarray  # (n, 14), row i for data.names[i], from the model that did not see it
    trained_folds: int
    reused_images: int


def stored_out_of_fold(data: LabelledSet, config, store: Store, workdir: Path, k: int = 5, seed: int = 0,
                       progress: Callable[[int, int], None] | None = None, labels_digest: str | None = None) -> OutOfFold:
    """Out-of-fold probabilities for `data` under a `TrainConfig` recipe and `k` patient folds:
    taken from the store where an earlier run (`train --folds` or `audit`, possibly interrupted)
    left them, else trained fold by fold, each fold stored as soon as it ends."""
    from cxrviz.model.crossval import out_of_fold, patient_folds, recipe_name, scheme_name

    model, scheme = recipe_name(config, labels_digest), scheme_name(k, seed)
    known = {n: np.asarray(p, dtype=np.float32) for n, p in oof_probabilities(store, model, scheme).items()}
    trained: list[int] = []

    def keep(fold: int, names: list[str], probs: np.ndarray) -> None:
        put_oof(store, model, scheme, fold, dict(zip(names, probs.tolist())))
        trained.append(fold)

    folds = patient_folds(data.patient_ids, k, seed, data.targets)
    probs = out_of_fold(data, config, folds, workdir, known=known, on_fold=keep, progress=progress)
    reused = int(np.isin(folds, trained, invert=True).sum())  # images of the folds taken from the store
    return OutOfFold(model, scheme, folds, probs, len(trained), reused)


def audit_labels(data: LabelledSet, config, store: Store, workdir: Path, k: int = 5, seed: int = 0, top: int = DEFAULT_TOP,
                 expert: ExpertLabels | None = None, progress: Callable[[int, int], None] | None = None,
                 labels_digest: str | None = None) -> AuditResult:
    """Out-of-fold probabilities for `data` (a `TrainConfig` recipe, `k` patient folds), then
    cleanlab; stores and returns the flagged pairs plus the `top` most suspect ones."""
    oof = stored_out_of_fold(data, config, store, workdir, k, seed, progress, labels_digest)
    ranked = ranked_pairs(data.names, data.targets, oof.probabilities, only_flagged=False)
    chosen = ranked[ranked["flagged"] | (np.arange(len(ranked)) < top)]
    chosen = with_expert(chosen, expert).loc[:, list(QUEUE_COLUMNS)].reset_index(drop=True)
    replace_label_issues(store, oof.model, oof.scheme, chosen.to_dict("records"))
    log.info("audit %s / %s: %d pairs stored (%d flagged)", oof.model, oof.scheme, len(chosen), int(chosen["flagged"].sum()))
    return AuditResult(oof.model, oof.scheme, chosen, oof.trained_folds, oof.reused_images, int(ranked["flagged"].sum()))


def suspect_queue(store: Store, expert: ExpertLabels | None = None, model: str | None = None, scheme: str | None = None,
                  finding: str | None = None, flagged_only: bool = False) -> pd.DataFrame:
    """The stored suspect pairs as a ranked table (QUEUE_COLUMNS + model, scheme), narrowed by finding."""
    rows = stored_label_issues(store, model, scheme)
    table = pd.DataFrame(rows, columns=[c for c in QUEUE_COLUMNS if c != "expert"] + ["model", "scheme", "created_at"])
    if finding:
        table = table[table["finding"] == finding]
    if flagged_only:
        table = table[table["flagged"].astype(bool)]
    table = with_expert(table, expert)
    return table.loc[:, [*QUEUE_COLUMNS, "model", "scheme"]].reset_index(drop=True)


def queue_images(table: pd.DataFrame) -> list[str]:
    """Distinct image names in queue order (an image suspect for two findings appears once, at its first)."""
    return list(dict.fromkeys(table["image"]))
