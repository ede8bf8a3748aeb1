"""Streamlit glue shared by the pages: cached resources, the sidebar, the current image.

Expensive objects are built once per process with `st.cache_resource` (the 112k-row metadata,
the image index, models) and keyed by what they depend on (paths, mtimes, folder signatures).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from cxrviz.boxes import default_bbox_path, load_boxes
from cxrviz.config import Settings
from cxrviz.errors import CxrvizError
from cxrviz.image_index import ImageIndex, folder_signature, scan_images
from cxrviz.metadata import Metadata, default_metadata_path, load_metadata


def settings() -> Settings:
    return Settings.from_env()


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


@st.cache_resource(show_spinner="Loading the NIH metadata…")
def _metadata(path: str, mtime: int) -> Metadata:
    return load_metadata(Path(path))


@st.cache_resource(show_spinner=False)
def _boxes(path: str, mtime: int):
    return load_boxes(Path(path))


@st.cache_resource(show_spinner="Indexing the image folder…")
def _index(root: str, signature: tuple) -> ImageIndex:
    return scan_images(Path(root))


@st.cache_resource(show_spinner=False)
def _row_masks(metadata_key: tuple, index_key: tuple, boxes_key: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Computed once per (metadata file, image folder state, box file); the keys only invalidate."""
    metadata, index, boxes = metadata_for(settings()), image_index(settings()), boxes_for(settings())
    names = metadata.table["image"]
    return names.isin(list(index.paths)).to_numpy(), names.isin(set(boxes["image"])).to_numpy()


def metadata_for(config: Settings) -> Metadata:
    path = config.metadata or default_metadata_path()
    return _metadata(str(path), _mtime(path))


def boxes_for(config: Settings):
    path = config.bbox or default_bbox_path()
    return _boxes(str(path), _mtime(path))


def image_index(config: Settings) -> ImageIndex:
    if config.images is None or not config.images.is_dir():
        return ImageIndex(root=config.images)
    return _index(str(config.images), folder_signature(config.images))


def row_masks(config: Settings) -> tuple[np.ndarray, np.ndarray]:
    """(present locally, has a ground-truth box) per metadata row."""
    m_path = config.metadata or default_metadata_path()
    b_path = config.bbox or default_bbox_path()
    index_key = folder_signature(config.images) if config.images and config.images.is_dir() else ()
    return _row_masks((str(m_path), _mtime(m_path)), index_key, (str(b_path), _mtime(b_path)))


def show_error(error: CxrvizError) -> None:
    st.error(str(error), icon=":material/warning:")


def sidebar(config: Settings) -> None:
    """Read-only view of the configuration, so users see what the app is pointed at."""
    with st.sidebar:
        st.caption("Not for clinical use: a research and teaching tool.")
        with st.expander("Configuration (environment variables)"):
            st.table({"variable": [r[0] for r in config.as_rows()], "value": [r[1] for r in config.as_rows()]})


CURRENT_IMAGE = "image"


def current_image() -> str | None:
    """The image chosen in Browse, or named by `?image=` in the URL."""
    from_url = st.query_params.get(CURRENT_IMAGE)
    if from_url and st.session_state.get(CURRENT_IMAGE) != from_url:
        st.session_state[CURRENT_IMAGE] = from_url
    chosen = st.session_state.get(CURRENT_IMAGE)
    if chosen and not from_url:
        st.query_params[CURRENT_IMAGE] = chosen  # so the address bar is a link to this image
    return chosen


def set_current_image(name: str) -> None:
    st.session_state[CURRENT_IMAGE] = name
    st.query_params[CURRENT_IMAGE] = name


def open_page(page: str, image: str) -> None:
    """Switch page with the image in the URL (a page switch clears other query parameters)."""
    set_current_image(image)
    st.switch_page(page, query_params={CURRENT_IMAGE: image})


# ---- models -------------------------------------------------------------------------------

MODEL_KEY = "model_name"
USER_WEIGHTS_KEY = "user_weights"


@st.cache_resource(show_spinner="Loading the model…", max_entries=3)
def _loaded_model(spec, device: str, mtime: int):
    from cxrviz.registry import load_model

    return load_model(spec, device)


def model_picker(config: Settings):
    """Sidebar choice of model; returns a `LoadedModel`, or None with the reason shown."""
    from cxrviz.devices import pick_device
    from cxrviz.registry import availability, registered_specs

    with st.sidebar:
        typed = st.text_input("DenseNet-121 checkpoint (optional path)", key=USER_WEIGHTS_KEY, help="A CheXNet-style state dict with 14 outputs; `module.` prefixes are fine.")
        user_weights = Path(typed).expanduser() if typed.strip() else config.weights
        try:
            specs = registered_specs(user_weights)
        except CxrvizError as error:
            show_error(error)
            return None
        names = [s.name for s in specs]
        default = config.model if config.model in names else names[0]
        if st.session_state.get(MODEL_KEY) not in names:
            st.session_state[MODEL_KEY] = default
        name = st.selectbox("Model", names, key=MODEL_KEY)
        spec = specs[names.index(name)]
        problem = availability(spec)
        device = pick_device(config.device)
        if problem:
            st.warning(problem, icon=":material/warning:")
            return None
        try:
            model = _loaded_model(spec, device, _mtime(spec.weights))
        except CxrvizError as error:
            show_error(error)
            return None
        st.caption(f"{spec.description} · on {device}")
        return model


@st.cache_data(show_spinner=False, max_entries=512)
def cached_gray(path: str, mtime: int):
    from cxrviz.imaging import load_gray

    return load_gray(Path(path))


def gray_of(path: Path):
    return cached_gray(str(path), _mtime(path))


# ---- review store and queue -----------------------------------------------------------------

QUEUE_KEY = "review_queue"
QUEUE_SOURCE_KEY = "review_queue_source"


@st.cache_resource(show_spinner=False)
def _store(target: str):
    from cxrviz.store import Store

    return Store(target)


def store_for(config: Settings):
    """The shared review store; raises `StoreError` with a message for the page."""
    return _store(config.db)


def set_queue(names: list[str], source: str) -> None:
    st.session_state[QUEUE_KEY] = list(names)
    st.session_state[QUEUE_SOURCE_KEY] = source


def keep_widget_state(*keys: str) -> None:
    """Carry widget values across page switches (Streamlit drops the state of widgets that a
    page switch leaves unrendered): restore from a shadow copy, then refresh the copy."""
    for key in keys:
        shadow = f"_kept_{key}"
        if key not in st.session_state and shadow in st.session_state:
            st.session_state[key] = st.session_state[shadow]


def remember_widget_state(*keys: str) -> None:
    for key in keys:
        if key in st.session_state:
            st.session_state[f"_kept_{key}"] = st.session_state[key]


def run_through_app() -> None:
    """Make sure this page runs inside app.py's `st.navigation`.

    With a `pages/` folder beside app.py, Streamlit starts in its legacy pages-directory mode;
    if a fresh server's first visitor opens a page URL directly (a shared `/image?image=…` link),
    that page runs alone, without app.py, and the legacy mode sticks for every later visitor.
    Switching the flag off and rerunning hands the request to app.py, which routes it.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if not st.session_state.get(VIA_APP):
        PagesManager.uses_pages_directory = False
        st.rerun()


VIA_APP = "_cxrviz_via_app"


def mark_app_run() -> None:
    """Called by app.py: this session's pages run inside its navigation."""
    st.session_state[VIA_APP] = True
