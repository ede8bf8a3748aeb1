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
    st.error(str(error), icon="⚠️")


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
    return st.session_state.get(CURRENT_IMAGE)


def set_current_image(name: str) -> None:
    st.session_state[CURRENT_IMAGE] = name
    st.query_params[CURRENT_IMAGE] = name
