"""Calibration: fitted on held-out predictions, it lowers the ECE on other held-out data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cxrviz.model.calibration import (
    METHODS,
    cross_fitted,
    expected_calibration_error,
    fit_calibrator,
    reliability,
    sigmoid,
)


def miscalibrated(n: int, seed: int, shift: float = 1.5):
    """Labels drawn from sigmoid(z − shift) while the 'model' reports sigmoid(3z): overconfident and
    (with a shift) too high, as a class-weighted network on few images is."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, n)
    y = (rng.random(n) < sigmoid(z - shift)).astype(int)
    return sigmoid(3 * z), y


# temperature scaling only cools (it cannot move a base rate): it gets overconfidence alone
@pytest.mark.parametrize(("method", "shift"), [("temperature", 0.0), ("platt", 1.5), ("isotonic", 1.5)])
def test_calibration_lowers_ece_on_held_out_data(method, shift):
    assert set(METHODS) == {"temperature", "platt", "isotonic"}
    p_fit, y_fit = miscalibrated(3000, seed=1, shift=shift)
    p_test, y_test = miscalibrated(3000, seed=2, shift=shift)
    before = expected_calibration_error(y_test, p_test)
    after = expected_calibration_error(y_test, fit_calibrator(p_fit, y_fit, method).apply(p_test))
    assert before > 0.15
    assert after < before / 2, (method, before, after)


def test_temperature_and_platt_keep_the_ranking():
    p, y = miscalibrated(2000, seed=3)
    for method in ("temperature", "platt"):
        calibrated = fit_calibrator(p, y, method).apply(p)
        assert roc_auc_score(y, calibrated) == pytest.approx(roc_auc_score(y, p))
    assert fit_calibrator(p, y, "temperature").scale < 1  # an overconfident model is cooled down


def test_cross_fitted_calibration_is_not_its_own_fit():
    p, y = miscalibrated(2000, seed=4)
    groups = np.arange(len(p)) // 2  # two rows per "patient"
    out = cross_fitted(p, y, groups, "platt", folds=5)
    assert out.shape == p.shape and np.all((out > 0) & (out < 1))
    assert expected_calibration_error(y, out) < expected_calibration_error(y, p) / 2


def test_ece_and_reliability_on_known_numbers():
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.05, 0.95, 0.95, 0.55, 0.55])
    rows = reliability(y, p, bins=10)
    assert [(r["bin"], r["count"]) for r in rows] == [(0, 2), (5, 2), (9, 2)]
    assert rows[1]["frequency"] == 0.5 and rows[1]["mean_predicted"] == pytest.approx(0.55)
    # |0 − 0.05|·2 + |0.5 − 0.55|·2 + |1 − 0.95|·2, over 6
    assert expected_calibration_error(y, p, bins=10) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="unknown calibration method"):
        fit_calibrator(p, y, "magic")


def test_report_maps_round_trip_and_belong_to_their_weights():
    from cxrviz.model.calibration import Calibrator, fit_calibrator, report_calibrators

    rng = np.random.default_rng(3)
    p = rng.random(300)
    y = (rng.random(300) < p * 0.5).astype(float)
    iso, platt = fit_calibrator(p, y, "isotonic"), fit_calibrator(p, y, "platt")
    report = {"weights_sha256": "abc", "findings": [
        {"finding": "Mass", "calibrator": iso.as_dict()},
        {"finding": "Nodule", "calibrator": platt.as_dict()},
        {"finding": "Hernia", "calibrator": None},  # too few positives: left raw
        {"finding": "Edema", "calibrator": {"method": "nonsense"}},  # unreadable: that finding only
    ]}
    maps = report_calibrators(report, "abc")
    assert set(maps) == {"Mass", "Nodule"}
    grid = np.linspace(0, 1, 101)
    assert np.allclose(maps["Mass"].apply(grid), iso.apply(grid))  # read back without scikit-learn's object
    assert np.allclose(maps["Nodule"].apply(grid), platt.apply(grid))
    assert Calibrator.from_dict(maps["Mass"].as_dict()).as_dict() == maps["Mass"].as_dict()
    assert report_calibrators(report, "other weights") == {}  # a report of other weights is not applied
    # malformed reports cost their maps, never the page
    for bad in ({"weights_sha256": "abc", "findings": None}, {"weights_sha256": "abc", "findings": ["x", 3, None]},
                {"weights_sha256": "abc", "findings": [{"finding": "Mass", "calibrator": {"method": "isotonic",
                                                                                           "x": [0.5, 0.2], "y": [0.1, 0.3]}}]},
                {"weights_sha256": "abc", "findings": [{"finding": "Mass", "calibrator": {"method": "platt", "scale": "x"}}]},
                ["not", "a", "report"]):
        assert report_calibrators(bad, "abc") == {}
