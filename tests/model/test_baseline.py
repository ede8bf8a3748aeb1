"""The metadata-only baseline and the model report built from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from cxrviz.errors import WeightsError
from cxrviz.findings import ALL_LABELS, FINDINGS
from cxrviz.model.baseline import fit_baseline, metadata_features, rows_of
from cxrviz.model.model_report import auroc_frame, build_report, paired_difference, read_report, reliability_frame, write_report


def test_features_handle_missing_age_and_odd_values():
    table = pd.DataFrame({"age": [30.0, None, 90.0], "follow_up": [0, 4, 40], "gender": ["M", "F", "M"],
                          "view": ["PA", "AP", "AP"]})
    x = metadata_features(table, age_fill=50.0)
    assert x.shape == (3, 6) and np.isfinite(x).all()
    assert x[1, 0] == pytest.approx(0.5)  # the fill value, in hundreds of years
    assert list(x[:, 2]) == [1, 0, 1] and list(x[:, 3]) == [0, 1, 1] and list(x[:, 5]) == [1, 0, 0]


def test_baseline_leaves_out_the_evaluation_patients_and_beats_chance(metadata):
    rng = np.random.default_rng(0)
    patients = rng.choice(metadata.table["patient_id"].unique(), 3000, replace=False)
    held_out = metadata.table["patient_id"].isin(patients).to_numpy()
    baseline = fit_baseline(metadata, exclude_patients=patients)
    assert baseline.n_train == int((~held_out).sum())
    assert baseline.n_train_patients == metadata.table["patient_id"].nunique() - 3000
    names = metadata.table["image"][held_out].tolist()
    scores = baseline.predict(rows_of(metadata, names))
    assert scores.shape == (len(names), 14)
    y = metadata.labels[held_out][:, ALL_LABELS.index("Effusion")]
    assert roc_auc_score(y, scores[:, FINDINGS.index("Effusion")]) > 0.6  # AP films of older, followed patients
    with pytest.raises(KeyError, match="no metadata row"):
        rows_of(metadata, ["99999999_000.png"])


def test_report_round_trip_and_paired_difference(tmp_path):
    rng = np.random.default_rng(5)
    n = 300
    targets = (rng.random((n, 14)) < 0.2).astype(np.float32)
    good = np.clip(targets * 0.5 + rng.random((n, 14)) * 0.6, 0, 1)  # informative
    noise = rng.random((n, 14))  # chance
    diff, low, high = paired_difference(targets[:, 0], good[:, 0], noise[:, 0], n_resamples=300)
    assert diff > 0.2 and 0 < low < diff < high
    report = build_report(model_name="m", weights_sha256="x", labels=FINDINGS, targets=targets, scores=good,
                          baseline_scores=noise, thresholds=np.full(14, 0.5), patient_ids=np.arange(n),
                          baseline_info={}, evaluated_on="synthetic", command="test",
                          n_bootstrap=20)  # no assertion below reads the report's intervals: a short bootstrap
    path = write_report(report, tmp_path / "r.json")
    again = read_report(path)
    table = auroc_frame(again)
    assert list(table["finding"]) == list(FINDINGS)
    assert (table["auroc"] > table["baseline_auroc"]).all()
    assert (table["sensitivity"] > 0.5).all()  # positives score ≥ 0.5 by construction
    points = reliability_frame(again)
    assert set(points["stage"]) == {"raw", "calibrated"} and (points["count"] > 0).all()
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(WeightsError, match="evaluate --report"):
        read_report(tmp_path / "bad.json")
    with pytest.raises(WeightsError, match="No readable model report"):
        read_report(tmp_path / "absent.json")
