"""Work for the image a reviewer will see next, done while they look at this one.

One background thread decodes the next image of the queue, runs the model on it, builds the
probability chart the page will draw and the heatmap it will show first (the finding on top of the
bars as they are shown, calibrated or not, by the method the reader has chosen), and renders the
picture as the reader's view and overlays will show it (PNG bytes); the results wait
in a small process-wide cache that the viewer's cached functions read first. A prefetch that fails
only logs: the page computes the result itself when it gets there.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cxrviz import priority

log = logging.getLogger(__name__)

MAX_ENTRIES = 48  # a few images ahead (two at a time), each with its probabilities, one heatmap (~4 MB a 1024-px map), its picture
DEFAULT_METHOD = "GradCAM"

_lock = threading.Lock()
_results: OrderedDict[tuple, object] = OrderedDict()
_queued: set[tuple] = set()


# Below the page's own thread (`cxrviz/priority.py`): a save-and-next that needs a core while the
# next image is being prepared gets it first, instead of sharing it with the prefetch.
def new_executor() -> ThreadPoolExecutor:
    """The prefetch's one worker thread, `priority.PREFETCH_NICE` steps below the thread that starts it."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxrviz-prefetch",
                              initializer=priority.lower_this_thread, initargs=(priority.PREFETCH_NICE,))


_executor = new_executor()


def image_key(gray: np.ndarray) -> str:
    """A short content hash: the cache key for an image, whether from disk or an upload."""
    return hashlib.sha1(np.ascontiguousarray(gray).tobytes()).hexdigest()[:20]


def model_id(model) -> tuple[str, str]:
    return (model.spec.name, model.weights_sha256)


def remember(key: tuple, value: object) -> None:
    with _lock:
        _results[key] = value
        _results.move_to_end(key)
        while len(_results) > MAX_ENTRIES:
            _results.popitem(last=False)


def recall(key: tuple):
    with _lock:
        return _results.get(key)


def gray_key(path: Path, mtime: int) -> tuple:
    return ("gray", str(path), mtime)


def probs_key(image: str, model) -> tuple:
    return ("probs", image, *model_id(model))


def cam_key(image: str, model, finding: int, method: str) -> tuple:
    return ("cam", image, *model_id(model), finding, method)


def figure_key(values: tuple) -> tuple:
    return ("figure", values)


def figure(values: tuple, build: Callable[[], object]):
    """The chart for `values` (everything it is drawn from, hashable), built once: a plotly figure
    takes ~0.08 s to build on a 2-core machine, the page's largest cost after a heatmap."""
    made = recall(figure_key(values))
    if made is None:
        made = build()
        remember(figure_key(values), made)
    return made


# What the page will show first of a prediction: (finding index, CAM method or None) from the
# probabilities; None: only decode and predict.
Shown = Callable[[np.ndarray], "tuple[int, str | None]"]


def png_key(render_key: tuple, boxes: tuple, view: tuple, opacity: float, colormap: str) -> tuple:
    """The rendered view's bytes (`image_view.render` reads them here first)."""
    return ("png", render_key, boxes, view, opacity, colormap)


def preview_key(path: Path, plan: tuple) -> tuple:
    """The picture of the image at `path` the page will first draw under `plan` (`viewer.warm_next`):
    the browser holds it before the reader saves, and shows it at the key press."""
    return ("preview", str(path), plan)


# Called last with (gray, image key, finding index or None without a model, heatmap or None): renders
# the picture the page will show first (`viewer.warm_next`), so the page only sends bytes that are ready.
Finish = Callable[[np.ndarray, str, "int | None", "np.ndarray | None"], None]


def warm(path: Path | None, mtime: int, model, shown: Shown | None = None, plan: tuple = (),
         finish: Finish | None = None) -> None:
    """Queue the next image's decode, probabilities and the heatmap `shown` names, then `finish`
    (no-op if already done). `plan` names what `shown` and `finish` depend on (calibration, method,
    the view), so a changed choice is redone."""
    if path is None:
        return
    job_key = ("job", str(path), mtime, None if model is None else model_id(model), plan)
    with _lock:
        if job_key in _queued:
            return
        _queued.add(job_key)
        if len(_queued) > 4 * MAX_ENTRIES:
            _queued.clear()
            _queued.add(job_key)
    _executor.submit(_work, path, mtime, model, shown, finish)


def _work(path: Path, mtime: int, model, shown: Shown | None = None, finish: Finish | None = None) -> None:
    from cxrviz.data.imaging import load_gray
    from cxrviz.explain.cam import heatmap
    from cxrviz.model.inference import predict_gray

    try:
        gray = recall(gray_key(path, mtime))
        if gray is None:
            gray = load_gray(path)
            remember(gray_key(path, mtime), gray)
        key = image_key(gray)
        if model is None:
            if finish is not None:
                finish(gray, key, None, None)
            return
        probs = recall(probs_key(key, model))
        if probs is None:
            probs = predict_gray(model, gray)
            remember(probs_key(key, model), probs)
        finding, method = (int(np.argmax(probs)), DEFAULT_METHOD) if shown is None else shown(probs)
        cam = None if method is None else recall(cam_key(key, model, finding, method))
        if method is not None and cam is None:
            cam = heatmap(model, gray, finding, method)
            remember(cam_key(key, model, finding, method), cam)
        if finish is not None:
            finish(gray, key, finding, cam)
    except Exception:  # noqa: BLE001 - a prefetch is only a head start; the page reports real failures itself
        log.warning("Prefetching %s failed; the page will compute it when it gets there", path.name, exc_info=True)
