"""ScoreCAM in the viewer: one forward pass per channel, minutes on a CPU (117 s for Lite0's 320
channels on the 2-core server in issue 24), so it runs with a progress bar that says, from the rate
measured so far, how long is left, and a Stop button.

Not through `st.cache_data` like the fast methods: a cached function records every element it
touches for replay, the progress bar included. Finished maps are kept here instead (process-wide,
keyed like the viewer's cache by image, weights, finding and layer), with the last measured rate
per model and device, so the next run's first line already has an estimate.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import numpy as np
import streamlit as st

from cxrviz.explain import cam as cams

KEEP = 32  # finished maps kept


@st.cache_resource(show_spinner=False)
def _store() -> tuple[OrderedDict, dict]:
    return OrderedDict(), {}  # (map key -> map), ((model, device, fine) -> (seconds per channel, channels))


def _stop(method_key: str) -> None:
    """on_click of Stop: the view goes back to no heatmap (the run in progress is interrupted by the click's rerun)."""
    st.session_state[method_key] = "none"
    st.toast("ScoreCAM stopped: nothing was kept. Choose it again to start over.", icon=":material/stop_circle:")


def first_line(rate: tuple[float, int] | None) -> str:
    """Before the first batch: the estimate from the last run on this server, when there was one."""
    if rate is None:
        return "ScoreCAM: one forward pass per channel · timing the first batch…"
    per_channel, channels = rate
    return f"ScoreCAM: {channels:,} channels · {cams.duration_text(per_channel * channels)} at the rate measured here last time"


def run(gray: np.ndarray, key: str, model, finding_index: int, fine: bool, method_key: str) -> np.ndarray:
    """The ScoreCAM map of one finding, computed with progress and Stop unless it was made before."""
    maps, rates = _store()
    map_key = (key, model.spec.name, model.weights_sha256, finding_index, fine)
    if map_key in maps:
        maps.move_to_end(map_key)
        return maps[map_key]
    rate_key = (model.spec.name, str(model.device), fine)
    box = st.container(border=True)
    bar = box.progress(0.0, text=first_line(rates.get(rate_key)))
    box.button("Stop", key=f"{method_key}_stop", icon=":material/stop_circle:", on_click=_stop, args=(method_key,),
               help="Stops after the current batch of channels.")
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        bar.progress(min(done / max(total, 1), 1.0), text=cams.progress_text(done, total, elapsed))  # a Stop click interrupts here
        rates[rate_key] = (elapsed / max(done, 1), total)

    result = cams.heatmap(model, gray, finding_index, "ScoreCAM", fine, progress=progress)
    box.empty()
    maps[map_key] = result
    while len(maps) > KEEP:
        maps.popitem(last=False)
    return result
