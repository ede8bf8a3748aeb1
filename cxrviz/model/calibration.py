"""Per-finding calibration of predicted probabilities, and how to measure it.

A model trained with class-weighted loss on a few hundred images says 0.3 where the finding is
present one time in twenty: its ranking (AUROC) may be useful while its numbers are not. Three
maps from a finding's raw probability to a calibrated one, each fitted on held-out predictions:

- `temperature`: p' = sigmoid(logit(p) / T), one number; keeps the ranking, cannot move the base rate;
- `platt`: p' = sigmoid(a·logit(p) + b) (temperature plus a bias), keeps the ranking;
- `isotonic`: a monotone step function (scikit-learn), the most flexible, needs the most data.

The expected calibration error (ECE) is the bin-weighted mean |observed frequency − mean
prediction| over equal-width bins; `reliability` gives the diagram's points. An ECE measured on the
data a map was fitted on flatters it: `cross_fitted` fits on k−1 parts and predicts the k-th.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression

METHODS = ("temperature", "platt", "isotonic")
EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class Calibrator:
    """A fitted map for one finding; `apply` takes and returns probabilities."""

    method: str
    scale: float = 1.0  # multiplies the logit (1/T for temperature scaling)
    bias: float = 0.0
    isotonic: IsotonicRegression | None = None
    points: tuple[tuple[float, ...], tuple[float, ...]] | None = None  # an isotonic map read back from a report

    def apply(self, p: np.ndarray) -> np.ndarray:
        if self.method == "isotonic":
            if self.isotonic is not None:
                return np.clip(self.isotonic.predict(np.asarray(p, dtype=float)), 0.0, 1.0)
            xs, ys = self.points  # what IsotonicRegression.predict does: linear between its thresholds, clipped
            return np.clip(np.interp(np.asarray(p, dtype=float), xs, ys), 0.0, 1.0)
        return sigmoid(self.scale * logit(p) + self.bias)

    def as_dict(self) -> dict:
        if self.method == "isotonic":
            xs, ys = self.points if self.isotonic is None else (self.isotonic.X_thresholds_, self.isotonic.y_thresholds_)
            return {"method": self.method, "x": list(map(float, xs)), "y": list(map(float, ys))}
        return {"method": self.method, "scale": self.scale, "bias": self.bias}

    @classmethod
    def from_dict(cls, entry: dict) -> "Calibrator":
        """The inverse of `as_dict` (a model report's `calibrator`); ValueError when it is not one."""
        method = entry.get("method")
        if method == "isotonic":
            xs, ys = tuple(float(v) for v in entry["x"]), tuple(float(v) for v in entry["y"])
            if len(xs) != len(ys) or not xs:
                raise ValueError("an isotonic map needs as many x as y points, at least one")
            if any(b < a for a, b in zip(xs, xs[1:])) or any(b < a for a, b in zip(ys, ys[1:])):
                raise ValueError("an isotonic map's points must not decrease")
            return cls(method, points=(xs, ys))
        if method in ("temperature", "platt"):
            return cls(method, scale=float(entry["scale"]), bias=float(entry.get("bias", 0.0)))
        raise ValueError(f"unknown calibration method {method!r}")


def report_calibrators(report: dict, weights_sha256: str) -> dict[str, Calibrator]:
    """Finding -> fitted map from a model report (`python -m cxrviz evaluate --report`), only when
    the report was made for these very weights; findings the report could not fit (too few
    positives) are absent, and so keep their raw probability."""
    if not isinstance(report, dict) or report.get("weights_sha256") != weights_sha256:
        return {}
    rows = report.get("findings")
    maps = {}
    for row in rows if isinstance(rows, list) else []:
        try:
            if isinstance(row, dict) and row.get("calibrator"):
                maps[str(row["finding"])] = Calibrator.from_dict(row["calibrator"])
        except (AttributeError, KeyError, TypeError, ValueError):
            continue  # one unreadable map costs that finding its calibration, not the page
    return maps


def _nll(params: np.ndarray, z: np.ndarray, y: np.ndarray, with_bias: bool) -> float:
    scale = params[0]
    bias = params[1] if with_bias else 0.0
    s = scale * z + bias
    # log(1 + e^s) - y*s, written stably
    return float(np.mean(np.logaddexp(0.0, s) - y * s))


def fit_calibrator(p: np.ndarray, y: np.ndarray, method: str = "platt") -> Calibrator:
    """Fit one finding's map on held-out probabilities `p` and labels `y` (0/1)."""
    if method not in METHODS:
        raise ValueError(f"unknown calibration method {method!r}; one of {', '.join(METHODS)}")
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    if method == "isotonic":
        return Calibrator(method, isotonic=IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y))
    z = logit(p)
    with_bias = method == "platt"
    start = np.array([1.0, 0.0]) if with_bias else np.array([1.0])
    bounds = [(1e-3, 100.0)] + ([(-20.0, 20.0)] if with_bias else [])
    result = minimize(_nll, start, args=(z, y, with_bias), method="L-BFGS-B", bounds=bounds)
    return Calibrator(method, scale=float(result.x[0]), bias=float(result.x[1]) if with_bias else 0.0)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Bin-weighted mean |frequency − mean prediction| over `bins` equal-width bins of [0, 1]."""
    table = reliability(y, p, bins)
    n = sum(row["count"] for row in table)
    if n == 0:
        return float("nan")
    return float(sum(row["count"] * abs(row["frequency"] - row["mean_predicted"]) for row in table) / n)


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """The reliability diagram's points: per non-empty bin, its count, mean prediction and observed frequency."""
    y, p = np.asarray(y, dtype=float), np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    which = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append({"bin": b, "low": b / bins, "high": (b + 1) / bins, "count": int(inside.sum()),
                         "mean_predicted": float(p[inside].mean()), "frequency": float(y[inside].mean())})
    return rows


def cross_fitted(p: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None, method: str = "platt",
                 folds: int = 5, seed: int = 0) -> np.ndarray:
    """Calibrated probabilities for every row from maps fitted on the other folds (by `groups`,
    e.g. patients, when given), so the ECE measured on them is not the fit's own."""
    from sklearn.model_selection import GroupKFold, KFold

    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    out = np.empty_like(p)
    if groups is not None:
        splits = GroupKFold(n_splits=folds).split(p, y, groups)
    else:
        splits = KFold(n_splits=folds, shuffle=True, random_state=seed).split(p)
    for train, test in splits:
        if 0 < y[train].sum() < len(train):
            out[test] = fit_calibrator(p[train], y[train], method).apply(p[test])
        else:  # one class only in the fitting part: nothing to learn, the prevalence is the best guess
            out[test] = y[train].mean()
    return out
