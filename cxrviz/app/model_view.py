"""Figures for the Model page: AUROC beside the metadata-only baseline, and reliability diagrams."""

from __future__ import annotations

import shlex
from pathlib import Path, PurePath

import pandas as pd
import plotly.graph_objects as go


def auroc_vs_baseline(table: pd.DataFrame) -> go.Figure:
    """Per finding: the model's AUROC and the metadata-only baseline's, each with its 95% interval."""
    fig = go.Figure()
    for name, prefix, color, shift in (("model", "", "#1f77b4", 0.15), ("metadata-only baseline", "baseline_", "#ff7f0e", -0.15)):
        auroc = pd.to_numeric(table[f"{prefix}auroc"])
        low = pd.to_numeric(table["ci_low" if not prefix else "baseline_ci_low"])
        high = pd.to_numeric(table["ci_high" if not prefix else "baseline_ci_high"])
        fig.add_trace(go.Scatter(
            x=auroc, y=[i + shift for i in range(len(table))], mode="markers", name=name, marker={"color": color, "size": 9},
            error_x={"type": "data", "symmetric": False, "array": high - auroc, "arrayminus": auroc - low},
            customdata=table["finding"], hovertemplate="%{customdata}: %{x:.3f}<extra>" + name + "</extra>",
        ))
    fig.add_vline(x=0.5, line_dash="dot", line_color="grey")
    fig.update_layout(
        title="AUROC with 95% bootstrap interval", xaxis={"range": [0, 1], "title": "AUROC"},
        yaxis={"tickvals": list(range(len(table))), "ticktext": list(table["finding"]), "autorange": "reversed"},
        height=40 * len(table) + 120, legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"}, margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def reliability_diagram(points: pd.DataFrame, finding: str) -> go.Figure:
    """Observed frequency against mean prediction per bin, raw and calibrated; the diagonal is perfect."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line={"dash": "dot", "color": "grey"}))
    for stage, color in (("raw", "#d62728"), ("calibrated", "#2ca02c")):
        rows = points[(points["finding"] == finding) & (points["stage"] == stage)]
        if not rows.empty:
            fig.add_trace(go.Scatter(
                x=rows["mean_predicted"], y=rows["frequency"], mode="lines+markers", name=stage,
                marker={"size": 6 + 14 * rows["count"] / max(rows["count"].max(), 1), "color": color},
                customdata=rows["count"], hovertemplate="predicted %{x:.2f}, observed %{y:.2f}, %{customdata} images",
            ))
    fig.update_layout(title=f"Reliability: {finding}", xaxis={"range": [0, 1], "title": "mean predicted probability"},
                      yaxis={"range": [0, 1], "title": "observed frequency"}, height=420,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


REPORT_SUFFIX = ".report.json"


def report_name(path) -> str:
    """The model a report file is about: `models/NAME.report.json` -> NAME."""
    return Path(path).name.removesuffix(REPORT_SUFFIX)


def default_report(paths: list, in_use: str | None, fallback: str | None = None) -> int:
    """Which report the Model page opens on: the one of the model in use on the other pages
    (the sidebar's choice); when that model has none, `fallback`'s (the out-of-fold ensemble),
    else the first."""
    names = [report_name(p) for p in paths]
    for wanted in (in_use, fallback):
        if wanted in names:
            return names.index(wanted)
    return 0


def without_folders(command: str) -> str:
    """A recorded command line with every path cut to its file name: the page shows which files
    were used, not where they sat on the machine that made the report (`/tmp/w11/m256.pt` -> `m256.pt`)."""
    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote: plain words
        words = command.split()

    def short(word: str) -> str:
        if word.startswith("-") and "=" in word:
            flag, value = word.split("=", 1)
            return f"{flag}={short(value)}"
        return PurePath(word).name if "/" in word and not word.startswith("-") else word

    return " ".join(short(word) for word in words)


def interval(value, low, high, signed: bool = False) -> str:
    """`0.693 (0.627–0.752)`; an em dash for a figure the report does not have."""
    if value is None or pd.isna(value):
        return "—"
    form = "+.3f" if signed else ".3f"
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return f"{value:{form}}"
    return f"{value:{form}} ({low:.3f}–{high:.3f})"


def discrimination_table(table: pd.DataFrame) -> pd.DataFrame:
    """AUROC, the baseline's and their difference, each with its interval in one column: five
    columns that fit a 1280-px window (the full report has sixteen)."""
    return pd.DataFrame({
        "finding": table["finding"], "positives": table["positives"],
        "auroc": [interval(*r) for r in table[["auroc", "ci_low", "ci_high"]].itertuples(index=False)],
        "baseline_auroc": [interval(*r) for r in table[["baseline_auroc", "baseline_ci_low", "baseline_ci_high"]].itertuples(index=False)],
        "difference": [interval(*r, signed=True) for r in table[["difference", "difference_low", "difference_high"]].itertuples(index=False)],
    })


DISCRIMINATION_TITLES = {"auroc": "AUROC (95% CI)", "baseline_auroc": "baseline AUROC (95% CI)",
                         "difference": "model − baseline (95% CI)"}
OPERATING_COLUMNS = ["finding", "threshold", "sensitivity", "specificity", "ece_raw", "ece_calibrated"]
OPERATING_TITLES = {"ece_raw": "ECE raw", "ece_calibrated": "ECE calibrated"}
