"""Model: how the model was measured. Per-finding AUROC with intervals beside the metadata-only
baseline, calibration (reliability diagram, ECE before and after) and the operating thresholds,
all read from the report `python -m cxrviz evaluate --report` writes into models/ (nothing is
computed here)."""

import streamlit as st

from cxrviz.app import state
from cxrviz.app.messages import stop_on_error
from cxrviz.app.model_view import auroc_vs_baseline, reliability_diagram
from cxrviz.model.model_report import auroc_frame, read_report, reliability_frame, report_paths
from cxrviz.model.registry import ENSEMBLE_NAME

state.run_through_app()

st.title("Model")
paths = report_paths()
if not paths:
    st.info("No model report in models/ yet: write one with `python -m cxrviz evaluate --report`.")
    st.stop()
first = next((i for i, p in enumerate(paths) if p.name == f"{ENSEMBLE_NAME}.report.json"), 0)  # the out-of-fold one
path = st.selectbox("Report", paths, index=first, key="model_report",
                    format_func=lambda p: p.name.removesuffix(".report.json")) if len(paths) > 1 else paths[0]
with stop_on_error():
    report = read_report(path)
table, points = auroc_frame(report), reliability_frame(report)
st.text(f"{report['model']} · weights sha256 {report['weights_sha256'][:16]}… · {report['evaluated_on']}")
st.code(report["command"], language="bash")
mean = report["mean"]
left, middle, right = st.columns(3)
left.metric("Mean AUROC", f"{mean['auroc']:.3f}")
middle.metric("Metadata-only baseline", f"{mean['baseline_auroc']:.3f}", f"{mean['auroc'] - mean['baseline_auroc']:+.3f} model")
if mean.get("ece_calibrated") is not None:
    right.metric("Mean ECE", f"{mean['ece_raw']:.3f}", f"{mean['ece_calibrated'] - mean['ece_raw']:+.3f} calibrated",
                 delta_color="inverse")
base = report.get("baseline") or {}
st.caption(f"Baseline: logistic regression on {', '.join(base.get('features', []))}, fitted on {base.get('train_rows', '?')} "
           f"NIH rows of patients other than the {base.get('excluded_patients', '?')} whose images are here. "
           f"{report['images']} images of {report['patients']} patients: intervals are wide.")
st.plotly_chart(auroc_vs_baseline(table))
st.subheader("Per finding")
st.dataframe(table, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.3f") for c in table.columns
                                                     if c not in ("finding", "positives")})
st.caption("difference: model − baseline AUROC on the same images, paired bootstrap interval. threshold: the model's "
           "operating point. " + report.get("operating_points", "Sensitivity and specificity are measured at the "
                                            "thresholds, chosen on these same images (optimistic)") + ".")
st.subheader("Calibration")
cal = report.get("calibration", {})
st.caption(f"{cal.get('method', '?')} calibration per finding; {cal.get('note', '')}. ECE over {cal.get('bins', '?')} bins.")
finding = st.selectbox("Finding", list(table["finding"]), key="model_finding")
st.plotly_chart(reliability_diagram(points, finding))
