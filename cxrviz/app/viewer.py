"""The image view shared by the Image, Upload and Review pages: the X-ray with window/zoom, the
model's probabilities, a Grad-CAM overlay, ground-truth and heatmap-derived boxes, each overlay
switched on or off by the reader (`image_view.overlay_toggles`), and, given a `box_editor.Drawing`,
a "Draw boxes" mode that turns this same picture into the drawing canvas.

Heavy results (probabilities, heatmaps, rendered PNGs) are cached by everything they depend
on, and the controls live in an `st.fragment`, so moving a slider reruns only this view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple

import numpy as np
import pandas as pd
import streamlit as st

from cxrviz.app import box_editor, image_view, measure_view, plots, prefetch, resources, scorecam
from cxrviz.app.prefetch import image_key
from cxrviz.app.text import escape_markdown
from cxrviz.data.boxes import Box, box_from_heatmap, iobb, iou
from cxrviz.data.frames import Frame
from cxrviz.explain import cam as cams
from cxrviz.explain.render import CAM_COLOUR, TRUTH_COLOUR
from cxrviz.findings import FINDINGS
from cxrviz.model.inference import predict_gray
from cxrviz.model.registry import LoadedModel

COLORMAPS = ("jet", "inferno", "viridis", "turbo")
REVIEWER_COLOUR = (80, 160, 255)


@st.cache_data(show_spinner=False, max_entries=2048, hash_funcs={LoadedModel: lambda m: (m.spec.name, m.weights_sha256)})
def probabilities(_gray: np.ndarray, key: str, model: LoadedModel) -> np.ndarray:
    ready = prefetch.recall(prefetch.probs_key(key, model))
    return ready if ready is not None else predict_gray(model, _gray)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs={LoadedModel: lambda m: (m.spec.name, m.weights_sha256)})
def heatmap(_gray: np.ndarray, key: str, model: LoadedModel, finding: int, method: str, fine: bool = False) -> np.ndarray:
    ready = None if fine else prefetch.recall(prefetch.cam_key(key, model, finding, method))
    return ready if ready is not None else cams.heatmap(model, _gray, finding, method, fine)


def rendered(_gray: np.ndarray, _cam: np.ndarray | None, key: tuple, boxes: tuple, opacity: float, colormap: str,
             level: float, width: float, invert: bool, zoom: float, centre: tuple[float, float]) -> bytes:
    """PNG bytes of the view (`image_view.render`, under the name callers used before it existed)."""
    return image_view.render(_gray, _cam, key, boxes, image_view.View(level, width, invert, zoom, centre), opacity, colormap)


def probability_table(probs: np.ndarray, model: LoadedModel, nih_labels: set[str] | None,
                      calibrators: dict | None = None) -> pd.DataFrame:
    """One row per finding. With `calibrators` (finding -> map, `resources.calibration_for`), a
    finding that has a map shows its calibrated probability and its threshold through the same
    monotone map (the same images stay above it); `raw` keeps the model's own output."""
    maps = calibrators or {}
    raw, thresholds = np.asarray(probs, dtype=float), np.asarray(model.thresholds, dtype=float)
    shown = [float(maps[f].apply(np.array([p]))[0]) if f in maps else float(p) for f, p in zip(FINDINGS, raw)]
    cut = [float(maps[f].apply(np.array([t]))[0]) if f in maps else float(t) for f, t in zip(FINDINGS, thresholds)]
    return pd.DataFrame(
        {
            "finding": list(FINDINGS),
            "probability": shown,
            "threshold": cut,
            "nih_label": [f in (nih_labels or set()) for f in FINDINGS],
            "raw": raw,
            "calibrated": [f in maps for f in FINDINGS],
        }
    )


def bar_figure(table: pd.DataFrame):
    """`plots.probability_bar(table)`, built once per table (the prefetch builds the next image's)."""
    return prefetch.figure(tuple(table.itertuples(index=False, name=None)), lambda: plots.probability_bar(table))


def warm_next(path, model: LoadedModel | None, nih_labels: set[str] | None, key_prefix: str, reader: str | None,
              boxes_table: pd.DataFrame | None = None, image: str | None = None, hidden: bool = False) -> bytes | None:
    """Prefetch the image `path` (named `image`) as this view will first show it: its
    probabilities, their chart, the heatmap of the finding on top of the bars as shown (calibrated
    unless the reader turned that off) by the reader's CAM method when the heatmap or its box is
    on, and the picture itself, rendered with the reader's view, overlays and NIH boxes
    (`boxes_table`; None: none shown). `hidden`: the image's references are hidden from this reader,
    so the page will first draw it plain; the model's work is done ahead all the same (for after
    their reading), the picture plain. Others' boxes are not known ahead: an image with some is
    rendered when shown. Returns that picture (PNG) when an earlier call's prefetch has made it
    under the same choices, else None (`review_keys.next_picture` sends it to the browser)."""
    if path is None:
        return None
    maps = resources.calibration_for(model) if model is not None else {}
    calibrated = bool(maps) and st.session_state.get(f"{key_prefix}_calibrated", True)
    method = st.session_state.get(f"{key_prefix}_method", next(iter(cams.METHODS)))
    shown_layers = image_view.current_shown(key_prefix, reader, can_draw=True, can_measure=True)  # in either mode: nothing rendered ahead
    wanted = model is not None and (shown_layers.heatmap or shown_layers.cam_box)
    fine = model is not None and model.spec.fine_cam_layer is not None and st.session_state.get(f"{key_prefix}_fine", False)
    cam_method = method if wanted and not fine and method not in ("none", "ScoreCAM") else None  # ScoreCAM: minutes, on request
    nih = set(nih_labels or ())
    view = image_view.current_view(key_prefix)
    opacity = st.session_state.get(f"{key_prefix}_opacity", 0.4)
    colormap = st.session_state.get(f"{key_prefix}_cmap", COLORMAPS[0])
    fraction = st.session_state.get(f"{key_prefix}_fraction", 0.5)
    plan = (calibrated, cam_method, tuple(sorted(nih)), shown_layers, view, opacity, colormap, fraction, fine, hidden)
    mtime = resources.mtime(path)
    preview = prefetch.preview_key(path, (mtime, None if model is None else prefetch.model_id(model), *plan))

    def shown(probs: np.ndarray) -> tuple[int, str | None]:  # in the prefetch thread
        table = probability_table(probs, model, nih, maps if calibrated else None)
        bar_figure(table)
        return plots.top_finding(table["probability"]), cam_method

    def finish(gray: np.ndarray, key: str, finding: int | None, cam: np.ndarray | None) -> None:  # in the prefetch thread
        shape = astuple(view)
        if hidden:  # its references hidden from this reader: the page will draw it plain, as without a model
            overlay, render_key, drawn, _, _ = layers(key, None, FINDINGS[plots.top_finding(None)], method, False, fraction,
                                                      shown_layers, [], (), None, None)
        else:
            name = FINDINGS[plots.top_finding(None) if finding is None else finding]
            truths = truth_boxes(boxes_table, image, gray.shape) if shown_layers.nih_boxes else []
            overlay, render_key, drawn, _, _ = layers(key, model, name, method, fine, fraction, shown_layers, truths, (), None, cam)
        png = image_view.render_now(gray, overlay, drawn, shape, opacity, colormap)
        prefetch.remember(prefetch.png_key(render_key, drawn, shape, opacity, colormap), png)
        prefetch.remember(preview, png)

    # no picture ahead while drawing or measuring (the page shows a canvas) or for the finer heatmap (computed when shown)
    prefetch.warm(path, mtime, model, shown, plan, None if shown_layers.draw or shown_layers.measure or fine else finish)
    return prefetch.recall(preview)


def truth_boxes(boxes_table: pd.DataFrame | None, image: str | None, shape: tuple[int, int]) -> list[tuple[str, Box]]:
    """Ground-truth boxes of one image, from the 1024-px frame into the array's (the file's) pixels."""
    if boxes_table is None or image is None:
        return []
    frame = Frame.of(shape)
    rows = boxes_table[boxes_table["image"] == image]
    return [(r.finding, frame.from_nih(Box(r.x, r.y, r.w, r.h))) for r in rows.itertuples()]


def box_legend(truth_boxes: bool, heatmap_box: bool, reviewer_boxes: bool = False) -> str | None:
    """The image's caption: a colour key for the boxes drawn on it, and nothing when none is."""
    keys = (["Green: ground-truth boxes (NIH)."] if truth_boxes else []) + (["Blue: reviewers' boxes."] if reviewer_boxes else []) \
        + (["Yellow: box from the heatmap."] if heatmap_box else [])
    return " ".join(keys) or None


def show(gray: np.ndarray, model: LoadedModel | None, image: str | None = None, nih_labels: set[str] | None = None,
         boxes_table: pd.DataFrame | None = None, key_prefix: str = "view",
         beside: Callable[[np.ndarray | None], None] | None = None,
         reviewer_boxes: list[tuple[str, str, Box]] | None = None, drawing=None,
         reader: str | None = None, measuring=None, next_up: Callable[[], None] | None = None) -> np.ndarray | None:
    """Lay out the view; `beside(probs)` fills the top of the right column (the review form);
    `reviewer_boxes`: (reviewer, finding, box in the array's frame), drawn in blue and scored against
    the CAM box like the NIH boxes; `drawing` (`box_editor.drawing_for`): the reader may draw boxes
    on the view; `reader`: whose overlay choices to remember (default: the drawing's reviewer);
    `measuring` (`measure_view.measuring_for`): the length and CTR tools ("Measure", key L);
    `next_up`: queues the prefetch of the next image (`warm_next`), called at the end of every run
    of the viewer, its own reruns included, so the next picture follows a view change at once.
    Returns the probabilities (None without a model)."""
    key = image_key(gray)
    probs = probabilities(gray, key, model) if model is not None else None
    truths = truth_boxes(boxes_table, image, gray.shape)
    # The bars' values (calibrated unless the toggle below was turned off): the heatmap first explains their top finding.
    maps = resources.calibration_for(model) if probs is not None else {}
    calibrated = bool(maps) and st.session_state.get(f"{key_prefix}_calibrated", True)
    table = None if probs is None else probability_table(probs, model, nih_labels, maps if calibrated else None)
    bars = None if table is None else table["probability"]
    left, right = st.columns([5, 3])
    if beside is not None:
        with right:
            # The form is sent before the image: once the new X-ray is on screen, its form is too,
            # so a key pressed at the sight of it acts on this image, not the one just saved.
            beside(probs)
    with left:
        _viewer(gray, key, model, bars, truths, key_prefix, tuple(reviewer_boxes or ()), drawing,
                reader or (drawing.reviewer if drawing is not None else None), measuring, next_up)
    if not maps:  # the toggle is not drawn: the reader's choice is kept for the next view with a model
        _keep(f"{key_prefix}_calibrated")
    with right:
        if probs is not None:
            # The toggle returns the session value read above for `table`: one table per run.
            if maps:  # no toggle for a model without calibration maps
                st.toggle("Calibrated probabilities", value=True, key=f"{key_prefix}_calibrated",
                          help="Maps from the model's report, fitted on images the model never trained on (see the Model page): "
                               "0.3 then means about 3 in 10 such images have the finding. The maps are monotone, so the "
                               "ranking is the same either way; hover a bar for the model's own output.")
            st.plotly_chart(bar_figure(table), key=f"{key_prefix}_probs")
            if calibrated and not table["calibrated"].all():
                st.caption(escape_markdown("Uncalibrated (too few positives to fit a map): "
                                           + ", ".join(table.loc[~table["calibrated"], "finding"]) + "."))
        else:
            st.info("No model is loaded: choose an available model in the sidebar.")
        if nih_labels is not None:
            st.markdown("**NIH labels:** " + escape_markdown(", ".join(sorted(nih_labels)) or "No Finding"))
    return probs


@st.fragment
def _viewer(gray: np.ndarray, key: str, model: LoadedModel | None, probs: np.ndarray | None,
            truths: list[tuple[str, Box]], key_prefix: str, theirs: tuple = (), drawing=None, reader: str | None = None,
            measuring=None, next_up: Callable[[], None] | None = None) -> None:
    # The image comes first: two choices above it, the rest of the controls in a popover.
    c1, c2, c3 = st.columns([3, 3, 2], vertical_alignment="bottom")
    default_finding = plots.top_finding(probs)  # probs: the values the bars show
    finding = c1.selectbox("Finding to explain", FINDINGS, index=default_finding, key=f"{key_prefix}_finding_{key}")
    if model is not None:
        method = c2.selectbox("CAM method", ["none", *cams.METHODS], index=1, key=f"{key_prefix}_method")
    else:  # none to explain (no model, or hidden until read): the reader's choice is kept for the next view that has one
        method = c2.selectbox("CAM method", ["none"], key=f"{key_prefix}_method_off", disabled=True)
        _keep(f"{key_prefix}_method")
    with c3.popover("Adjust view", icon=":material/tune:", width="stretch"):
        colormap = st.selectbox("Colormap", COLORMAPS, key=f"{key_prefix}_cmap")
        opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.4, 0.05, key=f"{key_prefix}_opacity")
        view = image_view.view_controls(key_prefix)
        fraction = st.slider("Heatmap box threshold (fraction of peak)", 0.1, 0.9, 0.5, 0.05, key=f"{key_prefix}_fraction")
        fine = model is not None and model.spec.fine_cam_layer is not None and st.checkbox(
            "Finer heatmap (16 × 16 layer)", key=f"{key_prefix}_fine",
            help="Explains an earlier layer of twice the resolution: sharper edges, less of the model's final "
                 "reasoning. On the 8 NIH boxes of the shared images it did not localise better (model card).")
        if model is None:
            _keep(f"{key_prefix}_fine")
        canvas_width = (drawing is not None or measuring is not None) and st.slider(
            "Drawing width (px)", *box_editor.CANVAS_WIDTHS, int(image_view.setting(reader, CANVAS_SETTING, box_editor.DEFAULT_CANVAS_WIDTH)),
            20, key=f"{key_prefix}_canvas_width", on_change=_keep_canvas_width, args=(reader, f"{key_prefix}_canvas_width"),
            help="The size of the X-ray while drawing boxes or measuring (the canvas has a fixed size); remembered for you.")
    shown = image_view.overlay_toggles(key_prefix, reader, can_draw=drawing is not None, can_measure=measuring is not None)
    stamp = box_editor.finding_choice(drawing) if shown.draw else ""

    finding_index = FINDINGS.index(finding)
    cam_map = None
    wanted = model is not None and method != "none" and (shown.heatmap or shown.cam_box)
    if wanted and method == "ScoreCAM":  # minutes on a CPU: progress, an estimate from the measured rate, Stop
        cam_map = scorecam.run(gray, key, model, finding_index, fine, method_key=f"{key_prefix}_method")
    elif wanted:
        with st.spinner(f"Computing {method} for {finding}…"):
            cam_map = heatmap(gray, key, model, finding_index, method, fine)
    nih = truths if shown.nih_boxes else []
    own = box_editor.box_layer(drawing, Frame.of(gray.shape)) if shown.draw else None  # the reader's own, to move or delete
    overlay, render_key, drawn, base, derived = layers(key, model, finding, method, fine, fraction, shown, nih, theirs, own, cam_map)
    metrics = []
    if derived is not None:
        for label, truth in nih:
            if label == finding:
                metrics.append({"finding": label, "IoU": iou(derived, truth), "IoBB": iobb(derived, truth)})
        for who, label, truth in theirs:
            if label == finding:
                metrics.append({"finding": f"{label} ({who})", "IoU": iou(derived, truth), "IoBB": iobb(derived, truth)})
    png = image_view.render(gray, overlay, render_key, drawn, view, opacity, colormap)
    if shown.draw:
        box_editor.draw_panel(drawing, png, view.frame(gray.shape, canvas_width), stamp, show_nih=shown.nih_boxes)
    elif shown.measure:
        measure_view.panel(measuring, png, view.frame(gray.shape, canvas_width))
    else:
        caption = box_legend(bool(nih), len(drawn) > base, bool(theirs))
        st.image(measure_view.draw_measurements(png, measuring, view.frame(gray.shape)), width="stretch", caption=caption,
                 output_format="PNG")  # "auto" re-encodes an RGB PNG as JPEG (artefacts, and ~10 ms per run)
        measure_view.saved_table(measuring)
    if metrics:
        st.table(pd.DataFrame(metrics).set_index("finding").round(3))
    elif nih and cam_map is not None and shown.cam_box:
        here = ", ".join(sorted({label for label, _ in nih}))
        st.caption(escape_markdown(f"No ground-truth box for {finding} on this image; boxes here: {here}."))
    if drawing is not None and not shown.draw:  # while drawing, the panel under the canvas has them
        box_editor.box_files(drawing)
    if next_up is not None:  # last: the picture above is sent before the prefetch starts competing for the CPU
        next_up()


def layers(key: str, model: LoadedModel | None, finding: str, method: str, fine: bool, fraction: float, shown,
           nih: list[tuple[str, Box]], theirs: tuple, own: list | None, cam_map: np.ndarray | None):
    """What the picture shows, for the page and for the prefetch of the next image (one rule, so the
    bytes it renders are the ones the page asks for): (heatmap overlay or None, the render key, the
    boxes drawn, how many are not the CAM box, the CAM box or None). `nih`: the NIH boxes shown;
    `own`: the reader's boxes while drawing (then the others' are not drawn)."""
    drawn = [((b.x, b.y, b.w, b.h), f"GT {label}", TRUTH_COLOUR) for label, b in nih]
    if own is not None:
        drawn += own
    else:
        drawn += [((b.x, b.y, b.w, b.h), f"{who}: {label}", REVIEWER_COLOUR) for who, label, b in theirs]
    base = len(drawn)
    derived = box_from_heatmap(cam_map, fraction) if cam_map is not None and shown.cam_box else None
    if derived is not None:
        drawn.append(((derived.x, derived.y, derived.w, derived.h), f"CAM {finding}", CAM_COLOUR))
    overlay = cam_map if shown.heatmap else None
    # The key names whose heatmap it is: with the CAM box off, nothing else in it changes with the model.
    made_by = prefetch.model_id(model) if overlay is not None else None
    return overlay, (key, finding, method if overlay is not None else "none", fraction, fine, made_by), tuple(drawn), base, derived


CANVAS_SETTING = "view.canvas_width"


def _keep(widget_key: str) -> None:
    """Keep the value of a keyed widget this run does not draw (Streamlit drops it at the end of a
    run that lacks the widget): a view without a model must not reset the reader's CAM method,
    calibration or finer heatmap for the next view that has one (and the next image's prefetch plans
    with them)."""
    if widget_key in st.session_state:
        st.session_state[widget_key] = st.session_state[widget_key]


def _keep_canvas_width(reader: str | None, widget_key: str) -> None:
    image_view.remember(reader, CANVAS_SETTING, int(st.session_state[widget_key]))
