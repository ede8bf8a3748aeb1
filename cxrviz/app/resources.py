"""Expensive objects, built once per process and keyed by what they depend on.

`st.cache_resource` holds the 112k-row metadata, the box table, the image index, models and the
review store; `st.cache_data` holds decoded images. Keys are paths with their modification
times or folder signatures, so an edited file is picked up without a restart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from cxrviz.config import Settings
from cxrviz.data.boxes import default_bbox_path, load_boxes
from cxrviz.data.image_index import ImageIndex, folder_signature, scan_images
from cxrviz.data.metadata import Metadata, default_metadata_path, load_metadata

SETTINGS_KEY = "_cxrviz_settings"


def settings() -> Settings:
    """The configuration, read from the environment once per session and passed down from there."""
    if SETTINGS_KEY not in st.session_state:
        from cxrviz.app.messages import stop_on_error

        with stop_on_error():  # a CXRVIZ_* value that cannot be used: say which, stop the page
            st.session_state[SETTINGS_KEY] = Settings.from_env()
    return st.session_state[SETTINGS_KEY]


def mtime(path: Path | None) -> int:
    try:
        return path.stat().st_mtime_ns if path is not None else -1
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
def _row_masks(metadata_key: tuple, index_key: tuple, boxes_key: tuple, _metadata: Metadata, _index: ImageIndex,
               _boxes) -> tuple[np.ndarray, np.ndarray]:
    """Computed once per (metadata file, image folder state, box file): the keys decide, the
    underscored arguments (not hashed) are the objects those keys describe."""
    names = _metadata.table["image"]
    return names.isin(list(_index.paths)).to_numpy(), names.isin(set(_boxes["image"])).to_numpy()


def metadata_for(config: Settings) -> Metadata:
    path = config.metadata or default_metadata_path()
    return _metadata(str(path), mtime(path))


def boxes_for(config: Settings):
    path = config.bbox or default_bbox_path()
    return _boxes(str(path), mtime(path))


def image_index(config: Settings) -> ImageIndex:
    if config.images is None or not config.images.is_dir():
        return ImageIndex(root=config.images)
    return _index(str(config.images), folder_signature(config.images))


def row_masks(config: Settings) -> tuple[np.ndarray, np.ndarray]:
    """(present locally, has a ground-truth box) per metadata row."""
    m_path = config.metadata or default_metadata_path()
    b_path = config.bbox or default_bbox_path()
    index_key = folder_signature(config.images) if config.images and config.images.is_dir() else ()
    return _row_masks((str(m_path), mtime(m_path)), index_key, (str(b_path), mtime(b_path)),
                      metadata_for(config), image_index(config), boxes_for(config))


@st.cache_resource(show_spinner=False)
def _expert_masks(metadata_key: tuple, expert_key: tuple, _metadata: Metadata) -> tuple[np.ndarray, np.ndarray]:
    from cxrviz.data.expert import load_expert_labels, row_masks

    return row_masks(_metadata, load_expert_labels(Path(expert_key[0])))


def expert_masks(config: Settings) -> tuple[np.ndarray, np.ndarray]:
    """(has a Google 2019 expert label, NIH disagrees with the experts) per metadata row, computed
    once per (metadata file, expert file) version; see `cxrviz.data.expert.row_masks`.

    Raises `ExpertLabelsError` (a `CxrvizError`) when the expert file is missing or malformed;
    nothing is cached then, so a mended file is picked up on the next run."""
    from cxrviz.data import expert

    m_path = config.metadata or default_metadata_path()
    e_path = expert.default_expert_path()
    expert.load_expert_labels(e_path)  # raises before anything is cached
    return _expert_masks((str(m_path), mtime(m_path)), (str(e_path), mtime(e_path)), metadata_for(config))


@st.cache_data(show_spinner=False, max_entries=32)  # 4 MB each at 1024 px: bounded
def _gray(path: str, mtime: int):
    from cxrviz.app import prefetch
    from cxrviz.data.imaging import load_gray

    ready = prefetch.recall(prefetch.gray_key(Path(path), mtime))
    return ready if ready is not None else load_gray(Path(path))


def gray_of(path: Path):
    return _gray(str(path), mtime(path))


def expert_note(image: str) -> str:
    """'Google 2019 adjudicated: Pneumothorax absent, …' for an adjudicated image, else "".

    Raises `ExpertLabelsError` (a `CxrvizError`) when torchxrayvision's file is missing or malformed."""
    from cxrviz.data.expert import describe, load_expert_labels

    return describe(load_expert_labels().of(image))


@st.cache_resource(show_spinner="Loading the model…", max_entries=3)
def loaded_model(spec, device: str, weights_mtime: int):
    from cxrviz.model.registry import load_model

    return load_model(spec, device)


@st.cache_resource(show_spinner=False)
def _store(target: str, timeout: float):
    from cxrviz.review.store import Store

    return Store(target, timeout)


def store_for(config: Settings):
    """The shared review store; raises `StoreError` with a message for the page."""
    return _store(config.db, config.db_timeout)


@st.cache_resource(show_spinner=False, max_entries=16)
def _calibrators(path: str, mtime_ns: int, weights_sha256: str):
    import json

    from cxrviz.model.calibration import report_calibrators

    try:
        return report_calibrators(json.loads(Path(path).read_text()), weights_sha256)
    except (OSError, ValueError):
        return {}


def calibration_for(model) -> dict:
    """Finding -> calibration map for `model`, from `models/NAME.report.json` when that report was
    made for these weights (`python -m cxrviz evaluate --report`); {} otherwise."""
    from cxrviz.model.model_report import report_path_for

    path = report_path_for(model.spec.name)
    return _calibrators(str(path), mtime(path), model.weights_sha256) if path.is_file() else {}


_settled = False


def settle_long_lived_objects() -> None:
    """Once per process, after the first page run that has loaded torch (and with it the model,
    the metadata and the caches): move every object alive now into the collector's permanent
    generation (`gc.freeze`, CPython's advice for servers after start-up).

    Without it, each automatic full collection walks those ~500,000 objects: ~0.15–0.27 s on a
    2-core machine, landing at random inside a reviewer's "Save and next". The price: the
    collector never looks at the frozen objects again, so one of them that later becomes part of
    a reference cycle (a cache entry evicted with a cycle, the first session's objects) is kept
    for the life of the process; objects freed by reference counting are freed as before. The
    benchmark prints the server's memory over 30 saves to watch this (bench_browser.py)."""
    global _settled
    import sys

    if _settled or "torch" not in sys.modules:
        return
    import gc

    gc.collect()
    gc.freeze()
    _settled = True
