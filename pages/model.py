"""Model: how the model was measured. Per-finding AUROC with intervals beside the metadata-only
baseline, calibration (reliability diagram, ECE before and after) and the operating thresholds,
all read from the report `python -m cxrviz evaluate --report` writes into models/ (nothing is
computed here). The page opens on the report of the model chosen in the sidebar, the one whose
bars the other pages show; the other reports are one click away."""

import streamlit as st

from cxrviz.app import model_view, resources, sidebar, state
from cxrviz.app.messages import stop_on_error
from cxrviz.app.model_view import auroc_vs_baseline, reliability_diagram
from cxrviz.app.text import escape_markdown
from cxrviz.model.model_report import auroc_frame, read_report, reliability_frame, report_paths
from cxrviz.model.registry import ENSEMBLE_NAME

state.run_through_app()

config = resources.settings()
model = sidebar.model_picker(config)
in_use = model.spec.name if model is not None else st.session_state.get(sidebar.CHOSEN_MODEL_KEY)
st.title("Model", anchor=False)
paths = report_paths()
if not paths:
    st.info("No model report in models/ yet: write one with `python -m cxrviz evaluate --report`.")
    st.stop()
# Follow the sidebar: when the model in use changes, so does the report (a click below still picks another).
if st.session_state.get("_model_report_for") != in_use or st.session_state.get("model_report") not in paths:
    st.session_state["_model_report_for"] = in_use
    st.session_state["model_report"] = paths[model_view.default_report(paths, in_use, ENSEMBLE_NAME)]
path = st.radio("Report", paths, key="model_report", horizontal=True,
                format_func=lambda p: model_view.report_name(p) + (" (in use)" if model_view.report_name(p) == in_use else ""),
                help="The model in use is chosen in the sidebar; its probabilities are the bars on the Image, Upload and Review pages.")
shown_name = model_view.report_name(path)
if shown_name == in_use:
    st.success(escape_markdown(f"The report of {in_use}, the model in use on the other pages (chosen in the sidebar)."),
               icon=":material/check_circle:")
elif in_use:
    has_report = any(model_view.report_name(p) == in_use for p in paths)
    st.info(escape_markdown(f"This is the report of {shown_name}. The model in use on the other pages is {in_use}: "
                            "the bars there come from it, not from this model. "
                            + ("Its own report is the first choice above." if has_report
                               else "It has no report in models/ (write one with `python -m cxrviz evaluate --report`).")),
            icon=":material/info:")
with stop_on_error():
    report = read_report(path)
if model is not None and shown_name == in_use and report["weights_sha256"] != model.weights_sha256:
    st.warning("This report was measured on other weights than the ones loaded now: write it again with "
               "`python -m cxrviz evaluate --report`.", icon=":material/warning:")
table, points = auroc_frame(report), reliability_frame(report)
st.text(f"{report['model']} · weights sha256 {report['weights_sha256'][:16]}… · {report['evaluated_on']}")
st.code(model_view.without_folders(report["command"]), language="bash", wrap_lines=True)
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
st.subheader("Per finding", anchor=False)
st.dataframe(model_view.discrimination_table(table), hide_index=True,
             column_config={k: st.column_config.TextColumn(v) for k, v in model_view.DISCRIMINATION_TITLES.items()})
st.caption("difference: model − baseline AUROC on the same images, paired bootstrap interval.")
st.dataframe(table[model_view.OPERATING_COLUMNS], hide_index=True,
             column_config={c: st.column_config.NumberColumn(model_view.OPERATING_TITLES.get(c, c), format="%.3f")
                            for c in model_view.OPERATING_COLUMNS if c != "finding"})
st.caption("threshold: the model's operating point. " + report.get("operating_points", "Sensitivity and specificity are "
           "measured at the thresholds, chosen on these same images (optimistic)") + ".")
st.subheader("Calibration", anchor=False)
cal = report.get("calibration", {})
st.caption(f"{cal.get('method', '?')} calibration per finding; {cal.get('note', '')}. ECE over {cal.get('bins', '?')} bins.")
finding = st.selectbox("Finding", list(table["finding"]), key="model_finding")
st.plotly_chart(reliability_diagram(points, finding))
