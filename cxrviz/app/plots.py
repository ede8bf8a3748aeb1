"""Plotly figures for the dashboard; each takes a tidy table from `cxrviz.stats` or the models."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


def prevalence_bar(table: pd.DataFrame) -> go.Figure:
    fig = px.bar(table, x="images", y="label", orientation="h", text="images", title="Images per finding")
    fig.update_layout(yaxis={"categoryorder": "total ascending"}, height=460, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def age_histogram(table: pd.DataFrame) -> go.Figure:
    fig = px.histogram(table, x="age", color="gender", nbins=24, barmode="overlay", title="Age by gender", opacity=0.7)
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def cooccurrence_heatmap(matrix: pd.DataFrame) -> go.Figure:
    fig = px.imshow(matrix, text_auto=True, color_continuous_scale="Blues", aspect="auto", title="Co-occurrence (images)")
    fig.update_layout(height=620, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def view_bar(table: pd.DataFrame) -> go.Figure:
    fig = px.bar(table, x="label", y="images", color="view", barmode="group", title="Findings by view")
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def probability_bar(table: pd.DataFrame) -> go.Figure:
    """Sorted probabilities; NIH-positive findings are drawn solid and the threshold as a tick.
    A table with a `calibrated` column (viewer.probability_table) names calibrated bars so and
    shows the model's raw output on hover."""
    ordered = table.sort_values("probability")
    calibrated = "calibrated" in ordered and bool(ordered["calibrated"].any())
    raw = ordered["raw"] if "raw" in ordered else ordered["probability"]
    colours = ["#d62728" if label else "#1f77b4" for label in ordered["nih_label"]]
    fig = go.Figure(
        go.Bar(
            x=ordered["probability"],
            y=ordered["finding"],
            orientation="h",
            marker_color=colours,
            text=[f"{p:.2f}" for p in ordered["probability"]],
            name="calibrated probability" if calibrated else "model probability",
            customdata=raw,
            hovertemplate="%{y}: %{x:.3f} (model output %{customdata:.3f})<extra></extra>" if calibrated
            else "%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=ordered["threshold"], y=ordered["finding"], mode="markers", name="operating threshold",
            marker={"symbol": "line-ns-open", "size": 18, "color": "black", "line": {"width": 3}},
        )
    )
    fig.update_layout(
        title=("Calibrated probability" if calibrated else "Probability") + " (red: NIH-positive)", xaxis={"range": [0, 1]},
        height=480, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.12},
    )
    return fig


def auroc_plot(table: pd.DataFrame) -> go.Figure:
    """Per-finding AUROC with its bootstrap interval."""
    fig = go.Figure(
        go.Scatter(
            x=table["auroc"], y=table["finding"], mode="markers",
            error_x={"type": "data", "symmetric": False, "array": table["ci_high"] - table["auroc"], "arrayminus": table["auroc"] - table["ci_low"]},
        )
    )
    fig.add_vline(x=0.5, line_dash="dot")
    fig.update_layout(title="AUROC with 95% CI", xaxis={"range": [0, 1]}, height=460)
    return fig


def reader_quality(rows: list[dict]) -> go.Figure:
    """Exact agreement with the settled labels, one bar per reader, images compared on hover."""
    figure = go.Figure(go.Bar(x=[r["exact agreement"] for r in rows], y=[r["reader"] for r in rows], orientation="h",
                              customdata=[r["images compared"] for r in rows],
                              hovertemplate="%{y}: %{x:.0%} of %{customdata} images<extra></extra>"))
    figure.update_layout(title="Agreement with the settled labels (whole label set)", height=max(220, 40 * len(rows) + 120),
                         xaxis={"range": [0, 1], "tickformat": ".0%"})
    return figure
