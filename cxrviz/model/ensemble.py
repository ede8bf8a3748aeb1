"""Building the bundled ensemble from cross-validated recipes, and its honest figures.

The procedure measured is the one shipped: for each recipe, one model trained on the images it
is given; the ensemble averages their probabilities. Its cross-validated estimate comes from the
recipes' `train --folds` runs over the same patient folds: image i's ensemble probability is the
mean of the fold models that never saw i (one per recipe), so every figure of the ensemble's
report (AUROC, interval, thresholds, calibration, the metadata baseline beside it) is out of fold.
The members themselves are then trained on every image (`train` with the same recipe) and packed
in one file at half precision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS
from cxrviz.model.registry import ENSEMBLE_FORMAT


@dataclass(frozen=True)
class CrossValidatedRun:
    folder: Path
    recipe: str  # the fold models' recipe name (`crossval.recipe_name`)
    scheme: str  # the fold scheme (`crossval.scheme_name`)
    input_size: int
    oof: pd.DataFrame  # image -> fold, 14 probabilities


def read_run(folder: Path) -> CrossValidatedRun:
    """A `train --folds K --out FOLDER` run: its cv_report.json and oof.csv, checked."""
    folder = Path(folder)
    problem = f"{folder} is not the output of `python -m cxrviz train --folds` (readable cv_report.json and oof.csv)"
    try:
        report = json.loads((folder / "cv_report.json").read_text())
        oof = pd.read_csv(folder / "oof.csv")
        recipe, scheme = str(report["model"]), str(report["scheme"])
        size = int(recipe.split("-s", 1)[1].split("-", 1)[0])
    except (OSError, ValueError, KeyError, IndexError, TypeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CxrvizError(f"{problem}: {type(exc).__name__}.") from None
    missing = [c for c in ("image", "fold", *FINDINGS) if c not in oof.columns]
    if missing:
        raise CxrvizError(f"{folder / 'oof.csv'} lacks the columns {', '.join(missing)}.")
    if not oof["image"].is_unique:
        raise CxrvizError(f"{folder / 'oof.csv'} has more than one row for some images (first: "
                          f"{oof.loc[oof['image'].duplicated(), 'image'].iloc[0]}).")
    probabilities = pd.DataFrame({f: pd.to_numeric(oof[f], errors="coerce") for f in FINDINGS})
    folds = pd.to_numeric(oof["fold"], errors="coerce")
    if not (np.isfinite(probabilities.to_numpy()).all() and probabilities.to_numpy().min() >= 0
            and probabilities.to_numpy().max() <= 1 and folds.notna().all() and (folds == folds.round()).all()):
        raise CxrvizError(f"{folder / 'oof.csv'} holds probabilities outside [0, 1], empty cells or non-integer folds.")
    table = pd.concat([oof[["image"]], folds.astype(int).rename("fold"), probabilities], axis=1).set_index("image")
    return CrossValidatedRun(folder, recipe, scheme, size, table)


def averaged_out_of_fold(runs: list[CrossValidatedRun], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 14) mean out-of-fold probabilities of `names` over the runs, and each image's fold.

    Each run's probability of an image is already out of fold, so their mean is too. Requiring the
    same folds in every run is stricter than that needs: it keeps the mean one cross-validation
    (k models per recipe, one fold scheme), so thresholds and calibration can be cross-fitted by fold."""
    if not runs:
        raise CxrvizError("An ensemble needs at least one cross-validated run.")
    schemes = {r.scheme for r in runs}
    if len(schemes) > 1:
        raise CxrvizError(f"The runs use different fold schemes ({', '.join(sorted(schemes))}); give every recipe the same "
                          "--folds and --seed.")
    folds = None
    probabilities = []
    for run in runs:
        absent = [n for n in names if n not in run.oof.index]
        if absent:
            raise CxrvizError(f"{run.folder / 'oof.csv'} has no out-of-fold row for {len(absent)} of the {len(names)} images "
                              f"(first: {absent[0]}); run it on the same image folder.")
        rows = run.oof.loc[names]
        if folds is None:
            folds = rows["fold"].to_numpy()
        elif not np.array_equal(folds, rows["fold"].to_numpy()):
            raise CxrvizError(f"{run.folder} puts some images in other folds than {runs[0].folder}.")
        probabilities.append(rows[list(FINDINGS)].to_numpy(dtype=np.float64))
    return np.mean(probabilities, axis=0), folds


def held_out_thresholds(targets: np.ndarray, probabilities: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """(n, C): for each image, Youden thresholds chosen on the other folds' images only, so the
    sensitivity and specificity measured at them are out of fold too."""
    from cxrviz.model.evaluation import youden_thresholds

    result = np.zeros_like(probabilities, dtype=np.float64)
    for fold in np.unique(folds):
        held = folds == fold
        result[held] = youden_thresholds(targets[~held], probabilities[~held])
    return result


REQUIRED = ("arch", "labels", "input_size", "normalisation", "state_dict", "recipe")


def check_member(checkpoint, run: CrossValidatedRun, names: list[str], label: str, labels_digest: str | None) -> None:
    """A member must be a checkpoint of `train` with the recipe of its cross-validated run (same
    input size, epochs, frozen blocks, optimiser settings and labels), trained on the images here
    and on the labels the figures are computed against (`labels_digest` of --labels, or None)."""
    if not isinstance(checkpoint, dict) or any(k not in checkpoint for k in REQUIRED):
        raise CxrvizError(f"{label} is not a checkpoint of `python -m cxrviz train` that records its recipe "
                          f"(it needs {', '.join(REQUIRED)}); train it again with this version.")
    if checkpoint["arch"] != "efficientnet_lite0" or list(checkpoint["labels"]) != list(FINDINGS):
        raise CxrvizError(f"{label} is not an EfficientNet-Lite0 checkpoint with the 14 findings.")
    if int(checkpoint["input_size"]) != run.input_size:
        raise CxrvizError(f"{label} takes {checkpoint['input_size']} px but its cross-validated run {run.folder} "
                          f"({run.recipe}) was at {run.input_size} px.")
    if checkpoint["recipe"] != run.recipe:
        raise CxrvizError(f"{label} was trained with recipe {checkpoint['recipe']}, not {run.recipe} of {run.folder}: the "
                          "figures would describe another model. Train it with the same options (and --labels).")
    if checkpoint.get("labels_digest") != labels_digest:
        raise CxrvizError(f"{label} was trained on other labels than the ones given here (--labels); the figures "
                          "must be computed against the labels the members learned.")
    seen = set(checkpoint.get("train_images", [])) | set(checkpoint.get("val_images", []))
    if seen != set(names):
        raise CxrvizError(f"{label} was trained on {len(seen)} images, not the {len(names)} labelled images here: the "
                          "cross-validated figures describe training on all of them.")


def check_sizes(runs: list[CrossValidatedRun]) -> None:
    """One input size for every member: the ensemble is one network fed one tensor."""
    sizes = sorted({r.input_size for r in runs})
    if len(sizes) > 1:
        raise CxrvizError(f"The recipes take {', '.join(f'{s} px' for s in sizes)}; an ensemble takes one input size. Resampling "
                          "that input for a member moved its probabilities by 0.11 on average on the shared images, so its "
                          "cross-validated figures would not describe it: use recipes of one input size.")


def pack(checkpoints: list[dict], recipes: list[str], path: Path) -> None:
    """One file holding every member's weights at half precision (`cxrviz-ensemble/1`)."""
    if len({c["normalisation"] for c in checkpoints}) > 1:
        raise CxrvizError("The members normalise their input differently; an ensemble takes one input.")
    members = [{"input_size": int(c["input_size"]), "recipe": recipe, "best_epoch": c.get("best_epoch"),
                "state_dict": {k: v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()
                               for k, v in c["state_dict"].items()}}
               for c, recipe in zip(checkpoints, recipes)]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": ENSEMBLE_FORMAT, "arch": "efficientnet_lite0_ensemble", "labels": list(FINDINGS),
                "normalisation": checkpoints[0]["normalisation"], "members": members}, path)
