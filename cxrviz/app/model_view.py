"""Figures for the Model page: AUROC beside the metadata-only baseline, and reliability diagrams."""

from __future__ import annotations

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
