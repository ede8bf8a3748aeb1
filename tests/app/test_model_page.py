"""The Model page: the committed reports of the bundled models (the ensemble's, measured out of fold,
first), shown without computing anything."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, shown

REPORT = REPO / "models" / "cxrviz-efficientnet-lite0.report.json"
ENSEMBLE_REPORT = REPO / "models" / "cxrviz-ensemble.report.json"


def test_model_page_follows_the_model_in_use_and_offers_the_others(app_env):
    """Issue 24: the page opened on the ensemble's report while the bars elsewhere came from the
    sidebar's model. It follows the sidebar now, says so, and another report is one click away."""
    report = json.loads(REPORT.read_text())
    ensemble = json.loads(ENSEMBLE_REPORT.read_text())
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.switch_page("pages/model.py").run()
    assert not at.exception, [e.value for e in at.exception]
    in_use = at.selectbox(key="model_name").value
    assert in_use == "cxrviz-efficientnet-lite0"  # the default model, as on the other pages
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Mean AUROC"] == f"{report['mean']['auroc']:.3f}"
    assert metrics["Metadata-only baseline"] == f"{report['mean']['baseline_auroc']:.3f}"
    assert any("the model in use on the other pages" in shown(s.value) and in_use in shown(s.value) for s in at.success)
    assert at.radio(key="model_report").value == REPORT
    # one click to the ensemble's report, which says whose bars the other pages show
    at.radio(key="model_report").set_value(ENSEMBLE_REPORT).run()
    assert {m.label: m.value for m in at.metric}["Mean AUROC"] == f"{ensemble['mean']['auroc']:.3f}"
    assert "other folds" in " ".join(c.value for c in at.caption)
    assert any("The model in use on the other pages is cxrviz-efficientnet-lite0" in shown(i.value) for i in at.info)
    # choosing the ensemble in the sidebar makes it the model in use: the page follows
    at.radio(key="model_report").set_value(REPORT).run()
    at.selectbox(key="model_name").select("cxrviz-ensemble").run()
    assert not at.exception
    assert at.radio(key="model_report").value == ENSEMBLE_REPORT
    assert any("cxrviz-ensemble, the model in use" in shown(s.value) for s in at.success)
    discrimination, operating = at.dataframe[0].value, at.dataframe[1].value
    assert list(discrimination["finding"])[:2] == ["Atelectasis", "Cardiomegaly"]
    assert {"auroc", "baseline_auroc", "difference"} <= set(discrimination.columns)
    first = ensemble["findings"][0]
    assert discrimination["auroc"].iloc[0] == f"{first['auroc']:.3f} ({first['ci_low']:.3f}–{first['ci_high']:.3f})"
    assert {"threshold", "sensitivity", "specificity", "ece_raw", "ece_calibrated"} <= set(operating.columns)
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    at.selectbox(key="model_finding").select("Effusion").run()
    assert not at.exception
    assert "Reliability: Effusion" in at.get("plotly_chart")[1].proto.spec


def test_model_page_shows_no_server_path(app_env):
    """The recorded command names its files, not the folders of the machine that made the report."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.switch_page("pages/model.py").run()
    at.radio(key="model_report").set_value(ENSEMBLE_REPORT).run()
    command = at.code[0].value
    assert "m256.pt" in command and "/tmp/" not in command and "/" not in command


def test_without_folders_keeps_flags_and_file_names():
    from cxrviz.app.model_view import without_folders

    assert without_folders("python -m cxrviz evaluate --images ../shared/nih/images --out=/tmp/e.csv --report") == \
        "python -m cxrviz evaluate --images images --out=e.csv --report"


def test_committed_report_matches_the_bundled_weights():
    from cxrviz.model.registry import bundled_spec

    report = json.loads(REPORT.read_text())
    assert report["weights_sha256"] == bundled_spec().sha256
    assert len(report["findings"]) == 14 and report["images"] > 100
    from cxrviz.model.registry import ensemble_spec

    ensemble = json.loads(ENSEMBLE_REPORT.read_text())
    assert ensemble["weights_sha256"] == ensemble_spec().sha256 and ensemble["images"] == 452
