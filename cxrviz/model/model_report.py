"""The model's measured report: per-finding AUROC with intervals, the metadata-only baseline beside
it (and the paired difference), calibration (ECE before and after, reliability points) and the
operating thresholds. `python -m cxrviz evaluate --report` writes it as JSON next to the weights;
the Model page only reads it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import bootstrap

from cxrviz.errors import WeightsError
from cxrviz.model.calibration import cross_fitted, expected_calibration_error, fit_calibrator, reliability
from cxrviz.model.evaluation import auroc, auroc_table

REPORT_VERSION = 1


def _auroc_or_nan(y: np.ndarray, s: np.ndarray) -> float:
    return auroc(y, s) if 0 < y.sum() < len(y) else float("nan")


def paired_difference(y: np.ndarray, model: np.ndarray, baseline: np.ndarray, n_resamples: int = 1000,
                      seed: int = 0) -> tuple[float, float, float]:
    """AUROC(model) − AUROC(baseline) on the same images, with a paired percentile-bootstrap 95%
    interval (scipy.stats.bootstrap; resamples holding one class only are left out)."""
    y = np.asarray(y, dtype=int)
    if not 0 < y.sum() < len(y):
        return (float("nan"),) * 3

    def statistic(yy, a, b):
        return _auroc_or_nan(yy, a) - _auroc_or_nan(yy, b)

    result = bootstrap((y, model, baseline), statistic, paired=True, vectorized=False, n_resamples=n_resamples,
                       method="percentile", random_state=np.random.default_rng(seed))
    draws = np.asarray(result.bootstrap_distribution, dtype=float)
    draws = draws[np.isfinite(draws)]
    low, high = (float(v) for v in np.percentile(draws, [2.5, 97.5])) if draws.size else (math.nan, math.nan)
    return statistic(y, model, baseline), low, high


def build_report(*, model_name: str, weights_sha256: str, labels, targets: np.ndarray, scores: np.ndarray,
                 baseline_scores: np.ndarray, thresholds: np.ndarray, patient_ids: np.ndarray,
                 baseline_info: dict, evaluated_on: str, command: str, method: str = "platt", bins: int = 10,
                 folds: int = 5, n_bootstrap: int = 1000, held_out_thresholds: np.ndarray | None = None) -> dict:
    """Everything the model card's tables and the Model page show, as plain JSON-able data.

    `held_out_thresholds` ((n, C), optional): for each image, the thresholds chosen without its fold;
    sensitivity and specificity are then measured at those (honest), while `thresholds` (chosen on
    every image) are the ones reported and shipped."""
    model_table = auroc_table(targets, scores, labels, n_bootstrap)
    base_table = auroc_table(targets, baseline_scores, labels, n_bootstrap)
    findings = []
    for j, label in enumerate(labels):
        y, p, b = targets[:, j].astype(int), scores[:, j].astype(float), baseline_scores[:, j].astype(float)
        row = {"finding": label, "positives": int(y.sum())}
        row.update({k: _plain(model_table.iloc[j][k]) for k in ("auroc", "ci_low", "ci_high")})
        row.update({f"baseline_{k}": _plain(base_table.iloc[j][k]) for k in ("auroc", "ci_low", "ci_high")})
        diff, low, high = paired_difference(y, p, b, n_bootstrap)
        row.update(difference=_plain(diff), difference_low=_plain(low), difference_high=_plain(high))
        flagged = p >= (held_out_thresholds[:, j] if held_out_thresholds is not None else thresholds[j])
        row.update(threshold=float(thresholds[j]),
                   sensitivity=_plain(flagged[y == 1].mean()) if y.sum() else None,
                   specificity=_plain((~flagged[y == 0]).mean()) if (y == 0).any() else None)
        row["ece_raw"] = _plain(expected_calibration_error(y, p, bins))
        row["reliability_raw"] = reliability(y, p, bins)
        if 0 < y.sum() < len(y) and y.sum() >= folds:
            calibrated = cross_fitted(p, y, patient_ids, method, folds)
            row["ece_calibrated"] = _plain(expected_calibration_error(y, calibrated, bins))
            row["reliability_calibrated"] = reliability(y, calibrated, bins)
            row["calibrator"] = fit_calibrator(p, y, method).as_dict()  # fitted on all: the one to apply
        else:
            row.update(ece_calibrated=None, reliability_calibrated=[], calibrator=None)
        findings.append(row)
    table = pd.DataFrame(findings)
    return {
        "version": REPORT_VERSION,
        "model": model_name,
        "weights_sha256": weights_sha256,
        "evaluated_on": evaluated_on,
        "images": int(len(targets)),
        "patients": int(len(np.unique(patient_ids))),
        "command": command,
        "baseline": baseline_info,
        "operating_points": ("sensitivity and specificity at thresholds chosen on the other folds"
                             if held_out_thresholds is not None else
                             "sensitivity and specificity at the thresholds, chosen on these same images (optimistic)"),
        "calibration": {"method": method, "bins": bins, "folds": folds,
                        "note": "ECE after calibration is cross-fitted: maps fitted on the other patient folds"},
        "mean": {
            "auroc": _plain(table["auroc"].mean()),
            "baseline_auroc": _plain(table["baseline_auroc"].mean()),
            "ece_raw": _plain(table["ece_raw"].mean()),
            "ece_calibrated": _plain(pd.to_numeric(table["ece_calibrated"]).mean()),
        },
        "findings": findings,
    }


def _plain(value):
    """A JSON-safe float (NaN becomes None)."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def write_report(report: dict, path: Path) -> Path:
    Path(path).write_text(json.dumps(report, indent=1) + "\n")
    return Path(path)


def read_report(path: Path) -> dict:
    """The report at `path`; a `WeightsError` saying how to make it when it is absent or unreadable."""
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise WeightsError(f"No readable model report at {path} ({type(exc).__name__}); write one with "
                           "`python -m cxrviz evaluate --report`.") from None
    if not isinstance(report, dict) or report.get("version") != REPORT_VERSION or "findings" not in report:
        raise WeightsError(f"{path} is not a cxrviz model report of version {REPORT_VERSION}; write it again with "
                           "`python -m cxrviz evaluate --report`.")
    return report


def auroc_frame(report: dict) -> pd.DataFrame:
    """One row per finding: AUROC and baseline with intervals, difference, threshold, ECE."""
    columns = ["finding", "positives", "auroc", "ci_low", "ci_high", "baseline_auroc", "baseline_ci_low",
               "baseline_ci_high", "difference", "difference_low", "difference_high", "threshold", "sensitivity",
               "specificity", "ece_raw", "ece_calibrated"]
    return pd.DataFrame([{c: row.get(c) for c in columns} for row in report["findings"]], columns=columns)


def reliability_frame(report: dict) -> pd.DataFrame:
    """Long table of reliability points: finding, stage (raw / calibrated), bin, count, mean prediction, frequency."""
    rows = []
    for row in report["findings"]:
        for stage in ("raw", "calibrated"):
            for point in row.get(f"reliability_{stage}") or []:
                rows.append({"finding": row["finding"], "stage": stage, **point})
    return pd.DataFrame(rows, columns=["finding", "stage", "bin", "low", "high", "count", "mean_predicted", "frequency"])


def report_paths(models_dir: Path | None = None) -> list[Path]:
    """The reports written next to models (`models/*.report.json`), sorted by name."""
    from cxrviz.config import PROJECT_ROOT

    folder = Path(models_dir) if models_dir is not None else PROJECT_ROOT / "models"
    return sorted(folder.glob("*.report.json"))


def report_path_for(model_name: str, models_dir: Path | None = None) -> Path:
    """Where `evaluate --report` puts a registered model's report by default: `models/NAME.report.json`."""
    from cxrviz.config import PROJECT_ROOT

    folder = Path(models_dir) if models_dir is not None else PROJECT_ROOT / "models"
    return folder / f"{model_name}.report.json"
