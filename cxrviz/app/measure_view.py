"""Measuring on the viewer: a length tool (mm from the image's pixel spacing, else pixels) and a
cardiothoracic ratio tool (two horizontal widths: the heart's, then the thorax's inner width),
drawn on the viewer's own picture, like boxes (`box_editor`).

In the viewer's "Measure" mode (key L) the rendered view, at its zoom and window, becomes the
background of a `streamlit-drawable-canvas` in "line" mode; each line's two ends go through the
view's `Frame` into the image's original frame (`review.measurements.from_display`), so a line
drawn at zoom 2 is stored where the same line at zoom 1 is. Saved measurements are drawn on the
picture in both modes, and listed in a small table under it (kind, value with unit, reading).
The rules and the sentences of each refusal are in `review.measurements`; the store writes the
audit rows; other readers' measurements come through the blind-reading gate
(`team.visible_measurements`). An upload (no image name in the store) is measured, not saved.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from PIL import Image, ImageDraw, ImageFont
from streamlit.errors import StreamlitAPIException

from cxrviz.app.messages import show_error
from cxrviz.app.text import escape_markdown
from cxrviz.data.frames import Frame
from cxrviz.errors import CxrvizError
from cxrviz.review import measurements as rules
from cxrviz.review.identity import name_key
from cxrviz.review.measurements import Measurement, Spacing
from cxrviz.review.store import team
from cxrviz.review.store.measurements import add_measurement, delete_measurement

log = logging.getLogger(__name__)

TOOLS = {"Length": "length", "CTR (heart, then thorax)": "ctr"}
LENGTH_COLOUR = (255, 212, 0)
HEART_COLOUR = (255, 90, 90)
THORAX_COLOUR = (0, 200, 255)
OTHERS_COLOUR = (170, 170, 255)
_FLASH = "_measure_flash"
_ORIGIN = {"left": 0.0, "top": 0.0, "center": 0.5, "right": 1.0, "bottom": 1.0}


@dataclass(frozen=True)
class Measuring:
    """What the viewer needs to measure one image: the store (None: figures only, nothing saved:
    an upload, or no reader name), who measures, the spacing and view, the measurements this
    reader may see, and the widget keys' prefix."""

    store: object | None
    image: str
    reviewer: str | None
    spacing: Spacing | None
    view: str | None
    measurements: tuple[Measurement, ...] = ()
    key_prefix: str = "measure"
    unsaved: str = "enter your name in the sidebar to save measurements."  # said under the figures when nothing is saved

    @property
    def mine(self) -> list[Measurement]:
        return [m for m in self.measurements if self.reviewer and name_key(m.reviewer) == name_key(self.reviewer)]

    @property
    def saves(self) -> bool:
        return self.store is not None and bool(self.reviewer)


def measuring_for(store, image: str, reviewer: str | None, metadata, shape: tuple[int, ...], key_prefix: str,
                  found: tuple[Measurement, ...] | None = None) -> Measuring | None:
    """The `Measuring` of an NIH image (spacing and view from the metadata; `shape` the decoded
    file's), with the measurements `reviewer` may see; None when the store cannot be read (the
    error is shown). Without a store or a reader name the tools still measure, and save nothing.
    `found`: those measurements as the page's one read (`team.under_review`) got them; None: read here."""
    spacing = rules.spacing_of_nih_image(metadata, image, shape)
    view = rules.view_of_nih_image(metadata, image)
    found = _visible(store, image, reviewer, found)
    if found is None:
        return None
    return Measuring(store if reviewer else None, image, reviewer, spacing, view, found, key_prefix)


def _visible(store, image: str, reviewer: str | None, found: tuple[Measurement, ...] | None) -> tuple[Measurement, ...] | None:
    """`found` when the page read it, else the measurements `reviewer` may see of `image` (none without
    a store or a name); None when the store cannot be read (the error is shown)."""
    if found is not None:
        return tuple(found) if store is not None and reviewer else ()
    found = ()
    if store is not None and reviewer:
        try:
            found = tuple(team.visible_measurements(store, reviewer, image))
        except CxrvizError as error:
            show_error(error)
            return None
    return found


def measuring_for_pacs(store, instance, reviewer: str | None, shape: tuple[int, ...], key_prefix: str,
                       found: tuple[Measurement, ...] | None = None) -> Measuring | None:
    """A PACS image (`data.dicomweb.PacsInstance`): spacing and view from its DICOM attributes,
    measurements stored under its SOP Instance UID like an NIH image's (`found`: as `measuring_for`)."""
    header = {instance.spacing_keyword or "PixelSpacing": instance.spacing_mm, "Rows": (instance.size or (None, None))[0],
              "Columns": (instance.size or (None, None))[1]}  # the attribute it came from: the caption names it
    found = _visible(store, instance.sop_uid, reviewer, found)
    if found is None:
        return None
    return Measuring(store if reviewer else None, instance.sop_uid, reviewer, rules.dicom_spacing(header, int(shape[1]), int(shape[0])),
                     rules.normal_view(instance.view), found, key_prefix)


def measuring_for_upload(name: str, data: bytes, shape: tuple[int, ...], view: str | None, key_prefix: str = "upload_measure") -> Measuring:
    """An upload: spacing from its DICOM header (PixelSpacing, else ImagerPixelSpacing), nothing stored."""
    return Measuring(None, name, None, rules.spacing_of_dicom_bytes(data, shape), rules.normal_view(view), (), key_prefix,
                     "an upload's measurements are not stored (nothing of an upload is).")


# ---- the canvas's lines ----------------------------------------------------------------------

def canvas_lines(json_data: dict | None) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The two ends of each line on the canvas, in canvas pixels, in drawing order. Fabric keeps a
    line as its position (`left`/`top` at its origin, the centre for this canvas's lines) and its
    ends relative to its centre (`x1`…`y2`), each times the object's scale."""
    lines = []
    for obj in (json_data or {}).get("objects", []):
        if obj.get("type", "").lower() != "line":
            continue
        sx, sy = float(obj.get("scaleX", 1) or 1), float(obj.get("scaleY", 1) or 1)
        w, h = float(obj.get("width", 0)) * sx, float(obj.get("height", 0)) * sy
        cx = float(obj.get("left", 0)) + (0.5 - _ORIGIN.get(obj.get("originX", "left"), 0.0)) * w
        cy = float(obj.get("top", 0)) + (0.5 - _ORIGIN.get(obj.get("originY", "top"), 0.0)) * h
        lines.append(((cx + float(obj.get("x1", 0)) * sx, cy + float(obj.get("y1", 0)) * sy),
                      (cx + float(obj.get("x2", 0)) * sx, cy + float(obj.get("y2", 0)) * sy)))
    return lines


def drawn_measurement(measuring: Measuring, tool: str, lines: list, frame: Frame) -> Measurement:
    """The measurement the lines drawn so far make with `tool` ("length": the first line; "ctr":
    the first two, heart then thorax), in the original frame, checked (`MeasurementError`)."""
    if tool == "ctr":
        if len(lines) < 2:
            raise rules.MeasurementError("Heart width drawn; now draw the thorax's inner width (rib to rib) below or above it.")
        points = (*lines[0], *lines[1])
    else:
        points = lines[0]
    return rules.from_display(measuring.image, measuring.reviewer or "", tool, points, frame, measuring.spacing, measuring.view)


# ---- drawing saved measurements on the picture --------------------------------------------------

def draw_measurements(png: bytes, measuring: Measuring | None, frame: Frame) -> bytes:
    """`png` (the view shown as `frame`: a crop at its own size or at a canvas's width) with the
    saved measurements drawn on it; `original` is the decoded image's own frame. Unchanged when
    there are none."""
    if measuring is None or not measuring.measurements:
        return png
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    if frame.display_width is not None and round(frame.display_width) != picture.width:
        picture = picture.resize((round(frame.display_width), round(frame.display_height)), Image.Resampling.LANCZOS)
    pen = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(12, picture.width // 45))
    mine = {id(m) for m in measuring.mine}
    for m in measuring.measurements:
        shown = rules.to_display(m, frame)
        segments = [shown[i:i + 2] for i in range(0, len(shown), 2)]
        colours = [LENGTH_COLOUR] if m.kind == "length" else [HEART_COLOUR, THORAX_COLOUR]
        if id(m) not in mine:
            colours = [OTHERS_COLOUR] * len(segments)
        for (a, b), colour in zip(segments, colours):
            pen.line([a, b], fill=colour, width=max(2, picture.width // 300))
        (x, y) = segments[-1][1]
        who = f"#{m.id} " if id(m) in mine else f"{m.reviewer}: "
        label = who + (f"CTR {m.value:.2f}" if m.kind == "ctr" else rules.value_text(m).split(" (")[0])
        pen.text((min(x + 4, picture.width - 8 * len(label)), max(0, y - font.size - 2)), label, fill=colours[-1], font=font)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


# ---- the table and the panel --------------------------------------------------------------------

def table(measurements: list[Measurement] | tuple) -> pd.DataFrame:
    """One row per measurement: id, who, kind, value with unit, reading. `st.table` renders its cells
    as Markdown, so the reader's name (typed by a user) is escaped to show as written."""
    rows = [{"id": m.id, "who": escape_markdown(m.reviewer), "kind": "CTR" if m.kind == "ctr" else "length", "value": rules.value_text(m),
             "reading": rules.reading(m)} for m in measurements]
    return pd.DataFrame(rows, columns=["id", "who", "kind", "value", "reading"])


def spacing_caption(measuring: Measuring) -> str:
    s = measuring.spacing
    if s is None:
        return "No pixel spacing for this image: lengths are in pixels (no spacing: pixels)."
    return f"Pixel spacing {s.mm_per_column:.4f} mm across × {s.mm_per_row:.4f} mm down, from the {s.source}."


def saved_table(measuring: Measuring | None) -> None:
    """The saved measurements under the picture (outside Measure mode)."""
    if measuring is not None and measuring.measurements:
        st.markdown("**Measurements**")
        st.table(table(measuring.measurements).set_index("id"))


def _flash(measuring: Measuring, messages: list[str]) -> None:
    st.session_state[f"{_FLASH}_{measuring.key_prefix}"] = ((measuring.image, measuring.reviewer), messages)


def _flashed(measuring: Measuring) -> list[str]:
    key = f"{_FLASH}_{measuring.key_prefix}"
    where, messages = st.session_state.get(key, (None, []))
    if where != (measuring.image, measuring.reviewer):
        st.session_state.pop(key, None)
        return []
    return messages


def _canvas(background: Image.Image, key: str):
    try:
        from streamlit_drawable_canvas import st_canvas
    except (ImportError, StreamlitAPIException) as exc:  # it registers itself at import; outside a server it cannot
        log.warning("The drawing canvas is unavailable: %s", exc)
        st.image(background, output_format="PNG")
        st.caption("The drawing canvas could not load here; measurements cannot be drawn.")
        return None
    return st_canvas(stroke_width=2, stroke_color="#ffd400", background_image=background, height=background.height,
                     width=background.width, drawing_mode="line", key=key)


def panel(measuring: Measuring, png: bytes, frame: Frame) -> None:
    """The measuring canvas in place of the viewer's image (its rendered `png`, shown as `frame`
    says: the crop at the canvas's width), the figures of what is drawn, Save, and the saved
    measurements with Delete."""
    prefix = measuring.key_prefix
    for message in _flashed(measuring):
        st.warning(escape_markdown(message), icon=":material/info:")
    tool_label = st.radio("Tool", list(TOOLS), horizontal=True, key=f"{prefix}_tool",
                          help="Length: drag from one end to the other. CTR: drag across the heart's widest width, "
                               "then across the thorax's inner width (inner edges of the ribs).")
    tool = TOOLS[tool_label]
    generation = st.session_state.setdefault(f"{prefix}_generation", 0)
    background = Image.open(io.BytesIO(draw_measurements(png, measuring, frame))).convert("RGB")
    if background.width != round(frame.display_width):
        background = background.resize((round(frame.display_width), round(frame.display_height)), Image.Resampling.LANCZOS)
    zoom, (cx, cy) = frame.zoom, frame.centre
    result = _canvas(background, f"{prefix}_canvas_{measuring.image}_{tool}_{zoom}_{cx}_{cy}_{round(frame.display_width)}_{generation}")
    st.caption(escape_markdown(spacing_caption(measuring)) + " Yellow: lengths; red: the heart's width, blue: the thorax's. "
               "Changing zoom, centre, tool or width clears lines not yet saved. L leaves measuring.")
    lines = canvas_lines(result.json_data if result is not None else None)

    def reset() -> None:
        st.session_state[f"{prefix}_generation"] = generation + 1

    if lines:
        if tool == "ctr" and len(lines) > 2:
            st.caption("Only the first two lines count (heart, then thorax); Clear to start again.")
        if tool == "length" and len(lines) > 1:
            st.caption("One length at a time: the first line counts; Clear to start again.")
        try:
            drawn = drawn_measurement(measuring, tool, lines, frame)
        except CxrvizError as error:
            drawn = None
            st.info(escape_markdown(str(error)), icon=":material/straighten:")
        if drawn is not None:
            st.markdown("**Drawn, not saved**")
            st.table(table([drawn]).drop(columns=["id", "who"]).set_index("kind"))
        s1, s2 = st.columns(2)
        if s2.button("Clear", key=f"{prefix}_clear"):
            reset()
            st.rerun()
        if drawn is not None and measuring.saves and s1.button("Save measurement", type="primary", key=f"{prefix}_save"):
            try:
                new_id = add_measurement(measuring.store, drawn)
            except CxrvizError as error:  # nothing was written: the lines stay on the canvas for another Save
                _flash(measuring, [f"{error} Your lines are kept: press Save measurement again."])
            else:
                _flash(measuring, [f"Saved measurement #{new_id}: {rules.value_text(drawn)}."])
                reset()
            st.rerun()
        if drawn is not None and not measuring.saves:
            st.caption("Figures only: " + measuring.unsaved)
    else:
        st.caption("Length: drag along what to measure." if tool == "length" else
                   "CTR: first drag across the heart's widest width, then across the thorax's inner width.")

    if measuring.measurements:
        st.markdown("**Measurements**")
        st.table(table(measuring.measurements).set_index("id"))
    mine = measuring.mine
    if mine and measuring.saves:
        d1, d2 = st.columns([3, 1], vertical_alignment="bottom")
        labels = {m.id: f"#{m.id} {'CTR' if m.kind == 'ctr' else 'length'} {rules.value_text(m)}" for m in mine}
        chosen = d1.selectbox("Your measurement", list(labels), format_func=labels.get, key=f"{prefix}_chosen")
        if d2.button("Delete", key=f"{prefix}_delete"):
            try:
                delete_measurement(measuring.store, chosen, measuring.reviewer)
                _flash(measuring, [f"Deleted measurement #{chosen}."])
            except CxrvizError as error:
                _flash(measuring, [str(error)])
            st.rerun()


def download(store, reviewer: str | None, key_prefix: str) -> None:
    """The measurements CSV of what `reviewer` may see (every image), built when clicked."""
    st.download_button("Measurements CSV", lambda: rules.measurements_csv(team.visible_measurements(store, reviewer)),
                       "cxrviz_measurements.csv", "text/csv", on_click="ignore", key=f"{key_prefix}_dl_measurements",
                       help="One row per measurement (length in mm or px, CTR) of every image, as far as you may see them.")
