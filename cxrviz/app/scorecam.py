"""ScoreCAM in the viewer: one forward pass per channel, minutes on a CPU (117 s for Lite0's 320
channels on the 2-core server in issue 24). It runs in a worker thread while the X-ray stays on
screen; a small fragment polls it, showing the channels done and, from the rate measured so far,
the time left, with a Stop button that ends it after the current batch.

Why a thread: a button inside the viewer's fragment cannot interrupt a run of that fragment
(Streamlit queues a fragment's rerun behind the run in progress), so a Stop button beside a
computation in the script itself would only act once the computation was over.

Finished maps are kept here (process-wide, keyed like the viewer's cache by image, weights,
finding and layer), with the last measured rate per model and device, so the next run's first
line already has an estimate.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from cxrviz.explain import cam as cams

KEEP = 32  # finished maps kept
POLL_S = 1.0


@dataclass
class Job:
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    error: BaseException | None = None

    def report(self, done: int, total: int) -> bool:
        """The worker's progress callback: False (stop) once Stop was pressed."""
        self.done, self.total = done, total
        return not self.stop.is_set()


@st.cache_resource(show_spinner=False)
def _store() -> tuple[OrderedDict, dict, dict, threading.Lock]:
    # (map key -> map), ((model, device, fine) -> (seconds per channel, channels)), (map key -> Job), their lock
    return OrderedDict(), {}, {}, threading.Lock()


def first_line(rate: tuple[float, int] | None) -> str:
    """Before the first batch: the estimate from the last run on this server, when there was one."""
    if rate is None:
        return "ScoreCAM: one forward pass per channel · timing the first batch…"
    per_channel, channels = rate
    return f"ScoreCAM: {channels:,} channels · {cams.duration_text(per_channel * channels)} at the rate measured here last time"


def _work(job: Job, map_key: tuple, rate_key: tuple, model, gray: np.ndarray, finding_index: int, fine: bool) -> None:
    maps, rates, _, lock = _store()
    try:
        result = cams.heatmap(model, gray, finding_index, "ScoreCAM", fine, progress=job.report)
        with lock:
            maps[map_key] = result
            while len(maps) > KEEP:
                maps.popitem(last=False)
            rates[rate_key] = ((time.monotonic() - job.started) / max(job.total, 1), job.total)
    except cams.HeatmapStopped:
        pass
    except Exception as error:  # shown by the panel; the thread must not die silently
        job.error = error
    finally:
        job.finished = True


STOPPED_KEY = "_cxrviz_scorecam_stopped"  # the map keys this session stopped: not started again by themselves


def _press_stop(job: Job, map_key: tuple) -> None:
    job.stop.set()
    st.session_state.setdefault(STOPPED_KEY, set()).add(map_key)


def _start_again(map_key: tuple) -> None:
    st.session_state.get(STOPPED_KEY, set()).discard(map_key)


@st.fragment(run_every=POLL_S)
def _panel(map_key: tuple, rate_key: tuple, method_key: str) -> None:
    _, rates, jobs, _ = _store()
    job = jobs.get(map_key)
    if job is None or job.finished or job.stop.is_set():
        if job is not None and job.error is not None:
            st.error(f"ScoreCAM failed: {type(job.error).__name__}: {job.error}")
            return
        if job is not None and job.stop.is_set():
            st.toast("ScoreCAM stopped: nothing was kept. Choose it again to start over.", icon=":material/stop_circle:")
        st.rerun()  # the whole view again: with the map, or without a heatmap after Stop
    with st.container(border=True):
        elapsed = time.monotonic() - job.started
        text = cams.progress_text(job.done, job.total, elapsed) if job.done else first_line(rates.get(rate_key))
        st.progress(job.done / job.total if job.total else 0.0, text=text)
        st.button("Stop", key=f"{method_key}_stop", icon=":material/stop_circle:", on_click=_press_stop, args=(job, map_key),
                  help="Stops after the current batch of channels; nothing is kept.")


def run(gray: np.ndarray, key: str, model, finding_index: int, fine: bool, method_key: str) -> np.ndarray | None:
    """The ScoreCAM map of one finding when it is ready; else None, with the job started (or
    followed) in the background and its progress and Stop button shown."""
    maps, _, jobs, lock = _store()
    map_key = (key, model.spec.name, model.weights_sha256, finding_index, fine)
    rate_key = (model.spec.name, str(model.device), fine)
    with lock:
        if map_key in maps:
            maps.move_to_end(map_key)
            jobs.pop(map_key, None)
            return maps[map_key]
    if map_key in st.session_state.get(STOPPED_KEY, ()):
        st.button("ScoreCAM was stopped: run it again", key=f"{method_key}_again", icon=":material/replay:",
                  on_click=_start_again, args=(map_key,))
        return None
    with lock:
        job = jobs.get(map_key)
        if job is None or job.finished or job.stop.is_set():
            job = jobs[map_key] = Job()
            threading.Thread(target=_work, args=(job, map_key, rate_key, model, gray, finding_index, fine),
                             name="cxrviz-scorecam", daemon=True).start()
    _panel(map_key, rate_key, method_key)
    return None
