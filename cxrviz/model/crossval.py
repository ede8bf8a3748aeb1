"""Out-of-fold probabilities: k models, each trained without one fold of patients and
predicting that fold, so every image gets a probability from a model that never saw it.

Label-error detection (cleanlab, `cxrviz.review.label_issues`) needs exactly this: a model's
opinion of an image it trained on mostly repeats the label it was given.

- `patient_folds` assigns each image a fold; a patient's images always share one fold.
- `out_of_fold` trains one model per fold with `cxrviz.model.training.train` (its own
  validation split, early stopping and checkpoint, inside the training folds) and predicts the
  held-out fold through the one inference path (`forward_probabilities`).
- It resumes: folds whose held-out images all appear in `known` are not trained again, and
  `on_fold` hands each finished fold to the caller (the `audit` command stores it at once).
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cxrviz.data.labelled import LabelledSet
from cxrviz.data.splits import is_validation, patient_bucket
from cxrviz.errors import CxrvizError

log = logging.getLogger(__name__)

DEFAULT_FOLDS = 5


class CrossValidationError(CxrvizError):
    """The images cannot be split into the requested folds (too few patients or images)."""


def scheme_name(k: int, seed: int) -> str:
    """How a fold scheme is named in the store: stored probabilities are per (image, model, scheme)."""
    return f"patient-{k}fold-seed{seed}"


TRAINING_SETTINGS = ("lr", "weight_decay", "batch_size", "patience", "val_fraction", "ema_decay", "layer_decay")


def recipe_name(config, labels_digest: str | None = None) -> str:
    """A short name for the training recipe of a `TrainConfig` (the 'model' of stored OOF rows).

    Everything that changes what the fold models learn is in it: input size, epochs and frozen
    blocks in plain sight, the optimiser settings (TRAINING_SETTINGS) and `labels_digest` (of a
    `--labels` file that overrides the NIH labels) as a short hash; so `train --folds` and `audit`
    reuse each other's stored rows only for the very same recipe and labels."""
    import hashlib
    import json

    settings = {name: getattr(config, name, None) for name in TRAINING_SETTINGS}
    digest = hashlib.sha1(json.dumps([settings, labels_digest], sort_keys=True).encode()).hexdigest()[:8]
    return f"efficientnet_lite0-s{config.input_size}-e{config.epochs}-f{config.freeze_blocks}-{digest}"


def _strata(targets: np.ndarray) -> np.ndarray:
    """One class per image for stratification: its rarest present finding, else "none"."""
    counts = targets.sum(axis=0)
    rarity = np.where(targets > 0, counts[None, :], np.inf)
    return np.where(np.isfinite(rarity.min(axis=1)), rarity.argmin(axis=1), targets.shape[1])


def patient_folds(patient_ids, k: int = DEFAULT_FOLDS, seed: int = 0, targets: np.ndarray | None = None) -> np.ndarray:
    """The fold (0..k-1) of each image; all images of a patient share a fold.

    With `targets` ((n, C) 0/1) the folds are stratified by each image's rarest present finding
    (scikit-learn's `StratifiedGroupKFold`), so rare findings spread over the folds; without, a
    patient's fold is a stable hash of (seed, patient), the same whatever other images are present."""
    patients = np.asarray(patient_ids).astype(np.int64)
    if k < 2:
        raise CrossValidationError(f"Cross-validation needs at least 2 folds (got {k}).")
    n_patients = len(np.unique(patients))
    if n_patients < k:
        raise CrossValidationError(f"{k} folds need at least {k} patients; these images have {n_patients}.")
    if targets is None:
        return np.array([int(patient_bucket(p, seed) * k) for p in patients], dtype=np.int64)
    from sklearn.model_selection import StratifiedGroupKFold

    folds = np.full(len(patients), -1, dtype=np.int64)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # "the least populated class has only N members": expected for rare findings
        warnings.simplefilter("ignore", UserWarning)
        for fold, (_, held_out) in enumerate(splitter.split(np.zeros(len(patients)), _strata(np.asarray(targets)), patients)):
            folds[held_out] = fold
    return folds


def _check_trainable(train_part: LabelledSet, config, fold: int) -> None:
    """`train` splits its data again (validation for early stopping): fail before training when
    that split would leave nothing to learn from or nothing to select an epoch with."""
    val = is_validation(train_part.patient_ids, config.val_fraction, config.seed)
    if val.all() or not val.any():
        raise CrossValidationError(
            f"Fold {fold + 1}: the {len(train_part)} training images cannot be split into training and validation "
            "patients; use more images or fewer folds.")
    y = train_part.targets[val]
    if not ((y.sum(axis=0) > 0) & (y.sum(axis=0) < len(y))).any():
        raise CrossValidationError(
            f"Fold {fold + 1}: no finding is both present and absent among its {len(y)} validation images, so no "
            "epoch can be chosen; use more images or fewer folds.")


def out_of_fold(
    data: LabelledSet,
    config,
    folds: np.ndarray,
    workdir: Path,
    known: dict[str, np.ndarray] | None = None,
    on_fold: Callable[[int, list[str], np.ndarray], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """(n, 14) out-of-fold probabilities, row i for `data.names[i]`.

    `config` is a `TrainConfig` (its `output` is ignored: fold f's checkpoint goes to
    `workdir/fold-f.pt`). `folds` comes from `patient_folds`. A fold whose held-out images all
    have a row in `known` (image name -> 14 probabilities) is taken from there, not trained.
    `on_fold(fold, names, probs)` runs after each trained fold; `progress(done, total)` after each fold."""
    from cxrviz.model.registry import from_training_checkpoint
    from cxrviz.model.training import load_pixels, predict_pixels, train

    folds = np.asarray(folds)
    if len(folds) != len(data):
        raise ValueError(f"{len(folds)} fold numbers for {len(data)} images")
    known = known or {}
    fold_ids = sorted(int(f) for f in np.unique(folds))
    result = np.full((len(data), data.targets.shape[1]), np.nan, dtype=np.float32)
    workdir.mkdir(parents=True, exist_ok=True)
    for done, fold in enumerate(fold_ids):
        held = folds == fold
        names = [data.names[i] for i in np.flatnonzero(held)]
        if all(n in known for n in names):
            log.info("fold %d: %d held-out images already have out-of-fold probabilities; skipped", fold + 1, len(names))
            result[held] = np.array([known[n] for n in names], dtype=np.float32)
        else:
            train_part, held_part = data.subset(~held), data.subset(held)
            _check_trainable(train_part, config, fold)
            fold_config = dataclasses.replace(config, output=workdir / f"fold-{fold}.pt", history=[], max_images=None)
            log.info("fold %d/%d: training on %d images, predicting %d", fold + 1, len(fold_ids), len(train_part), len(held_part))
            checkpoint = train(train_part, fold_config)
            model = from_training_checkpoint(checkpoint, config.device)
            pixels = load_pixels(held_part.paths, checkpoint["input_size"], f"fold {fold + 1} held-out images")
            probs = predict_pixels(model.module, pixels, config.device)
            result[held] = probs
            if on_fold is not None:
                on_fold(fold, held_part.names, probs)
        if progress is not None:
            progress(done + 1, len(fold_ids))
    return result


@dataclasses.dataclass(frozen=True)
class CrossValidatedAuroc:
    mean: float  # mean AUROC over the findings with positives and negatives, all images at once
    low: float  # 95% percentile-bootstrap interval of that mean, resampling images
    high: float
    per_finding: pd.DataFrame  # auroc_table: finding, positives, auroc, ci_low, ci_high


def cross_validated_auroc(targets: np.ndarray, probs: np.ndarray, labels, n_resamples: int = 1000,
                          seed: int = 0) -> CrossValidatedAuroc:
    """The honest figure for a small set: every image scored by the fold model that never saw it,
    one mean AUROC over all of them, its interval from `scipy.stats.bootstrap` over images (a
    resample's mean covers the findings that have both classes in it)."""
    from scipy.stats import bootstrap

    from cxrviz.model.evaluation import auroc_table, mean_auroc

    targets, probs = np.asarray(targets), np.asarray(probs)
    mean = mean_auroc(targets, probs)
    result = bootstrap((np.arange(len(targets)),), lambda rows: mean_auroc(targets[rows], probs[rows]), vectorized=False,
                       n_resamples=n_resamples, method="percentile", random_state=seed)
    low, high = result.confidence_interval
    return CrossValidatedAuroc(mean, float(low), float(high), auroc_table(targets, probs, list(labels), n_resamples, seed))
