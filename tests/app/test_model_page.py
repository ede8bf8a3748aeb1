"""The Model page: the committed reports of the bundled models (the ensemble's, measured out of fold,
first), shown without computing anything."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

REPORT = REPO / "models" / "cxrviz-efficientnet-lite0.report.json"
ENSEMBLE_REPORT = REPO / "models" / "cxrviz-ensemble.report.json"


def test_model_page_shows_the_bundled_models_report(app_env):
    report = json.loads(REPORT.read_text())
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.switch_page("pages/model.py").run()
    assert not at.exception, [e.value for e in at.exception]
    # the ensemble's out-of-fold report comes first; the single model's is a choice away
    ensemble = json.loads(ENSEMBLE_REPORT.read_text())
    assert {m.label: m.value for m in at.metric}["Mean AUROC"] == f"{ensemble['mean']['auroc']:.3f}"
    assert "other folds" in " ".join(c.value for c in at.caption)
    at.selectbox(key="model_report").select(REPORT).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Mean AUROC"] == f"{report['mean']['auroc']:.3f}"
    assert metrics["Metadata-only baseline"] == f"{report['mean']['baseline_auroc']:.3f}"
    table = at.dataframe[0].value
    assert list(table["finding"])[:2] == ["Atelectasis", "Cardiomegaly"]
    assert {"baseline_auroc", "threshold", "ece_raw", "ece_calibrated"} <= set(table.columns)
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    at.selectbox(key="model_finding").select("Effusion").run()
    assert not at.exception
    assert "Reliability: Effusion" in at.get("plotly_chart")[1].proto.spec


def test_committed_report_matches_the_bundled_weights():
    from cxrviz.model.registry import bundled_spec

    report = json.loads(REPORT.read_text())
    assert report["weights_sha256"] == bundled_spec().sha256
    assert len(report["findings"]) == 14 and report["images"] > 100
    from cxrviz.model.registry import ensemble_spec

    ensemble = json.loads(ENSEMBLE_REPORT.read_text())
    assert ensemble["weights_sha256"] == ensemble_spec().sha256 and ensemble["images"] == 452
