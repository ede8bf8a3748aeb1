"""The one image view: the window/level, zoom, centre and invert controls, the renderer that crops
and draws what they choose, and the overlay toggles (NIH boxes, heatmap, CAM box) a reader can
switch off, remembered for that reader.

The viewer (Image, Upload, Review), its drawing canvas and the quiz all call these, so a control
has one label, one range and one meaning, and a box lands at the same pixel in each
(`cxrviz.data.frames.Frame` does every crop and conversion).

Toggles are keyed buttons (Streamlit 1.67's `st.toggle` takes no keyboard shortcut). Their state
lives in the session; with a reader name it is also written to the store (`reader_settings`) and
read back in the reader's next session. Without a name, or when the store cannot be reached, the
session alone remembers it: the view keeps working, and says so once.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

import numpy as np
import streamlit as st

from cxrviz.data.boxes import Box
from cxrviz.data.frames import Frame
from cxrviz.errors import CxrvizError
from cxrviz.explain.render import LabelledBox, render_png

# setting name -> (button label, keyboard shortcut); the letters are free of the review form's keys
# Short labels: the four buttons must fit one row of the viewer's column at 1280 px, or the X-ray
# is pushed below the window (the help text names each in full).
OVERLAYS = {"overlay.nih_boxes": ("NIH", "A", "NIH boxes"), "overlay.heatmap": ("Heatmap", "M", "heatmap"),
            "overlay.cam_box": ("CAM box", "K", "CAM box")}
DRAW_KEY = "B"  # C and R are Streamlit's own (clear cache, rerun)
MEASURE_KEY = "L"  # the length and CTR tools (`app/measure_view.py`)
_SETTINGS = "_reader_settings"  # {"reader": name key or None, "values": {...}}
_PROBLEM = "_reader_settings_problem"  # a store failure, shown once in the view


@dataclass(frozen=True)
class View:
    """What the view controls chose: window level and width (fractions of the 0–1 range), invert,
    zoom (1–4) and the centre of a zoomed view (fractions of the image)."""

    level: float = 0.5
    width: float = 1.0
    invert: bool = False
    zoom: float = 1.0
    centre: tuple[float, float] = (0.5, 0.5)

    def frame(self, shape: tuple[int, ...], display_width: float | None = None) -> Frame:
        """The frame of an image of `shape` seen through this view, `display_width` px wide."""
        return Frame.of(shape, display_width, self.zoom, self.centre)


def view_controls(key_prefix: str, where=st) -> View:
    """The window/level, zoom, centre and invert controls (keys `{key_prefix}_level`, …)."""
    level = where.slider("Window level", 0.0, 1.0, 0.5, 0.01, key=f"{key_prefix}_level")
    width = where.slider("Window width", 0.05, 1.0, 1.0, 0.01, key=f"{key_prefix}_width")
    zoom = where.slider("Zoom", 1.0, 4.0, 1.0, 0.25, key=f"{key_prefix}_zoom")
    cx = where.slider("Centre x", 0.0, 1.0, 0.5, 0.01, key=f"{key_prefix}_cx", disabled=zoom == 1)
    cy = where.slider("Centre y", 0.0, 1.0, 0.5, 0.01, key=f"{key_prefix}_cy", disabled=zoom == 1)
    invert = where.checkbox("Invert", key=f"{key_prefix}_invert")
    return View(level, width, invert, zoom, (cx, cy))


def current_view(key_prefix: str) -> View:
    """The view `view_controls(key_prefix)` returns now, read without drawing the controls (the
    prefetch renders the next image with it); a control not drawn yet has its default."""
    get, default = st.session_state.get, View()
    zoom = get(f"{key_prefix}_zoom", default.zoom)
    return View(get(f"{key_prefix}_level", default.level), get(f"{key_prefix}_width", default.width),
                bool(get(f"{key_prefix}_invert", default.invert)), zoom,
                (get(f"{key_prefix}_cx", default.centre[0]), get(f"{key_prefix}_cy", default.centre[1])))


def render(gray: np.ndarray, cam: np.ndarray | None, key: tuple, boxes: tuple, view: View,
           opacity: float = 0.4, colormap: str = "jet") -> bytes:
    """The view as PNG bytes: the crop `view` selects, windowed, with the heatmap `cam` (None: none)
    blended in and `boxes` ((x, y, w, h) in original pixels, label, colour) drawn on it. `key`
    names the image and the heatmap (the arrays are not hashed); the result is cached, and bytes
    the prefetch rendered with the same inputs are used as they are."""
    from cxrviz.app import prefetch

    boxes, shape = tuple(boxes), astuple(view)
    ready = prefetch.recall(prefetch.png_key(key, boxes, shape, opacity, colormap))
    return ready if ready is not None else _rendered(gray, cam, key, boxes, shape, opacity, colormap)


def render_now(gray: np.ndarray, cam: np.ndarray | None, boxes: tuple, view: tuple, opacity: float, colormap: str) -> bytes:
    """`render` without the caches (the prefetch thread calls it; no Streamlit call in here)."""
    level, width, invert, zoom, centre = view
    frame = Frame.of(gray.shape, None, zoom, tuple(centre))
    drawn = [LabelledBox(frame.to_crop(Box(*b[0])), b[1], b[2]) for b in boxes]
    return render_png(frame.crop_array(gray), frame.crop_array(cam), drawn, opacity, colormap, level, width, invert)


@st.cache_data(show_spinner=False, max_entries=128)
def _rendered(_gray: np.ndarray, _cam: np.ndarray | None, key: tuple, boxes: tuple, view: tuple, opacity: float,
              colormap: str) -> bytes:
    return render_now(_gray, _cam, boxes, view, opacity, colormap)


# ---- reader settings ------------------------------------------------------------------------------

def _store():
    from cxrviz.app import resources

    return resources.store_for(resources.settings())


def _settings(reader: str | None) -> dict:
    """This session's settings, read from the store once per reader."""
    from cxrviz.review.identity import name_key
    from cxrviz.review.store.settings import get_settings

    who = name_key(reader) if reader else None
    kept = st.session_state.get(_SETTINGS)
    if kept is not None and (kept["reader"] == who or who is None):
        return kept["values"]
    values = dict(kept["values"]) if kept and kept["reader"] is None else {}  # chosen before the name was typed: kept
    if who is not None:
        try:
            values.update(get_settings(_store(), reader))
        except CxrvizError as error:
            st.session_state[_PROBLEM] = f"Your view settings could not be read from the store ({error}); this session keeps them."
    st.session_state[_SETTINGS] = {"reader": who, "values": values}
    return values


def setting(reader: str | None, name: str, default):
    return _settings(reader).get(name, default)


def remember(reader: str | None, name: str, value) -> None:
    """Set a setting for this session and, with a reader name, in the store (a failure is said once)."""
    from cxrviz.review.store.settings import set_setting

    _settings(reader)[name] = value
    if reader:
        try:
            set_setting(_store(), reader, name, value)
        except CxrvizError as error:
            st.session_state[_PROBLEM] = f"Your view settings could not be saved ({error}); this session keeps them."


def _flip(reader: str | None, name: str) -> None:
    remember(reader, name, not setting(reader, name, True))


def _flip_draw(state_key: str, other_key: str | None = None) -> None:
    """Switch a drawing mode; drawing boxes and measuring take turns on one canvas."""
    st.session_state[state_key] = not st.session_state.get(state_key, False)
    if other_key is not None and st.session_state[state_key]:
        st.session_state[other_key] = False


@dataclass(frozen=True)
class Shown:
    """Which layers the reader has switched on."""

    nih_boxes: bool = True
    heatmap: bool = True
    cam_box: bool = True
    draw: bool = False
    measure: bool = False


def current_shown(key_prefix: str, reader: str | None, can_draw: bool = False, can_measure: bool = False) -> Shown:
    """The layers `overlay_toggles` shows now, read without drawing its buttons."""
    drawing = can_draw and bool(st.session_state.get(f"{key_prefix}_drawing", False))
    measuring = can_measure and not drawing and bool(st.session_state.get(f"{key_prefix}_measuring", False))
    return Shown(*(bool(setting(reader, name, True)) for name in OVERLAYS), drawing, measuring)


def overlay_toggles(key_prefix: str, reader: str | None, can_draw: bool = False, can_measure: bool = False) -> Shown:
    """A row of keyed buttons, one per overlay (and "Draw boxes" when the reader can draw,
    "Measure" when the view can be measured); a button is filled while its layer is shown."""
    row = st.container(horizontal=True, gap="small")  # wraps on a narrow window instead of cutting labels short
    # (no icons, so that all five fit one row of the 1280-px layout's image column; a filled button is on)
    shown = current_shown(key_prefix, reader, can_draw, can_measure)
    for (name, (label, shortcut, what)), on in zip(OVERLAYS.items(), (shown.nih_boxes, shown.heatmap, shown.cam_box)):
        row.button(label, key=f"{key_prefix}_{name.split('.')[1]}", shortcut=shortcut,
                   type="primary" if on else "secondary",
                   help=f"Show or hide the {what} (key {shortcut}); remembered for you.",
                   on_click=_flip, args=(reader, name))
    draw_key, measure_key = f"{key_prefix}_drawing", f"{key_prefix}_measuring"
    drawing, measuring = shown.draw, shown.measure
    if can_draw:
        row.button("Draw", key=f"{key_prefix}_draw", shortcut=DRAW_KEY, type="primary" if drawing else "secondary",
                   on_click=_flip_draw, args=(draw_key, measure_key),
                   help=f"Draw, move or delete your boxes on this X-ray (key {DRAW_KEY}), at the zoom and window shown.")
    if can_measure:
        row.button("Measure", key=f"{key_prefix}_measure", shortcut=MEASURE_KEY, type="primary" if measuring else "secondary",
                   on_click=_flip_draw, args=(measure_key, draw_key),
                   help=f"Measure a length (mm) or the cardiothoracic ratio on this X-ray (key {MEASURE_KEY}).")
    problem = st.session_state.pop(_PROBLEM, None)
    if problem:
        from cxrviz.app.text import escape_markdown

        st.warning(escape_markdown(problem), icon=":material/warning:")
    return shown
