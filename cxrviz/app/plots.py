"""Plotly figures for the dashboard; each takes a tidy table from `cxrviz.stats` or the models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go


def prevalence_bar(table: pd.DataFrame) -> go.Figure:
    fig = px.bar(table, x="images", y="label", orientation="h", text="images", title="Images per finding")
    fig.update_layout(yaxis={"categoryorder": "total ascending"}, height=460, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


AGE_BIN = 5  # years per bar of the age histogram


def age_bins(ages: pd.Series, size: int = AGE_BIN) -> np.ndarray:
    """Bin edges in whole `size`-year steps that cover every age (0–`size` when there is none)."""
    known = pd.to_numeric(ages, errors="coerce").dropna()
    if known.empty:
        return np.array([0.0, float(size)])
    low = np.floor(known.min() / size) * size
    high = (np.floor(known.max() / size) + 1) * size
    return np.arange(low, high + size / 2, size, dtype=float)


def count_axis(peak: int) -> dict:
    """A y axis of image counts: whole-number ticks only (no 0.5 images), one per count while the
    tallest bar is short, Plotly's own (integer) steps beyond that."""
    axis = {"title": {"text": "images"}, "tickformat": ",d", "rangemode": "tozero"}
    if peak <= 8:
        axis.update(dtick=1, tick0=0, range=[0, max(peak, 1) * 1.05])
    return axis


def age_histogram(table: pd.DataFrame) -> go.Figure:
    """Images per 5-year age bin, one overlaid series per gender."""
    edges = age_bins(table["age"])
    fig = px.histogram(table, x="age", color="gender", barmode="overlay", title="Age by gender", opacity=0.7)
    fig.update_traces(xbins={"start": float(edges[0]), "end": float(edges[-1]), "size": AGE_BIN})
    peak = max((int(np.histogram(group["age"].dropna(), bins=edges)[0].max(initial=0))
                for _, group in table.groupby("gender", observed=True)), default=0)
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis=count_axis(peak),
                      xaxis={"title": {"text": f"age (years, {AGE_BIN}-year bins)"}})
    return fig


def cooccurrence_heatmap(matrix: pd.DataFrame) -> go.Figure:
    fig = px.imshow(matrix, text_auto=True, color_continuous_scale="Blues", aspect="auto", title="Co-occurrence (images)")
    fig.update_layout(height=620, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def view_bar(table: pd.DataFrame) -> go.Figure:
    fig = px.bar(table, x="label", y="images", color="view", barmode="group", title="Findings by view")
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


VALUE_FONT = 13  # px: the probability values beside the bars


def top_finding(shown) -> int:
    """Index (in `FINDINGS` order) of the highest of the probabilities as the bars show them
    (calibrated or raw): the finding a heatmap explains first. 0 when there are none."""
    values = None if shown is None else np.asarray(shown, dtype=float)
    return int(np.argmax(values)) if values is not None and values.size else 0


def probability_bar(table: pd.DataFrame) -> go.Figure:
    """Sorted probabilities; NIH-positive findings are drawn solid and the threshold as a tick.
    The values stand in a column right of the plot (never under a bar or a tick), at `VALUE_FONT` px.
    A table with a `calibrated` column (viewer.probability_table) names calibrated bars so and
    shows the model's raw output on hover."""
    ordered = table.sort_values("probability")
    calibrated = "calibrated" in ordered and bool(ordered["calibrated"].any())
    raw = ordered["raw"] if "raw" in ordered else ordered["probability"]
    colours = ["#d62728" if label else "#1f77b4" for label in ordered["nih_label"]]
    what = "calibrated probability" if calibrated else "probability"
    fig = go.Figure(
        go.Bar(
            x=ordered["probability"],
            y=ordered["finding"],
            orientation="h",
            marker_color=colours,
            name=what if calibrated else "model probability",
            customdata=raw,
            hovertemplate="%{y}: %{x:.3f} (model output %{customdata:.3f})<extra></extra>" if calibrated
            else "%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=ordered["threshold"], y=ordered["finding"], mode="markers", name="operating threshold",
            marker={"symbol": "line-ns-open", "size": 18, "color": "black", "line": {"width": 3}},
            hovertemplate="%{y}: threshold %{x:.3f}<extra></extra>",
        )
    )
    for finding, value in zip(ordered["finding"], ordered["probability"]):
        fig.add_annotation(x=1.0, xref="paper", xanchor="left", xshift=6, y=finding, yref="y", text=f"{value:.2f}",
                           showarrow=False, font={"size": VALUE_FONT})
    fig.update_layout(
        title=("Calibrated probability" if calibrated else "Probability") + " (red: NIH-positive)",
        xaxis={"range": [0, 1], "title": {"text": what}, "tickformat": ".1f", "dtick": 0.2},
        yaxis={"tickfont": {"size": 12}},
        height=480, margin={"l": 10, "r": 52, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.18},
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
