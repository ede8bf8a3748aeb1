"""Each reader's throughput in the app: the Review page records when an image is shown (`shown`),
the Agreement page draws the figures (`section`). The rules are `cxrviz.review.throughput`; what a
viewer may see of other readers' figures is `store.team.visible_readings`.

The record is one small insert, made by a background thread so that it never holds up the page
(save-and-next) nor waits on another writer's lock; its time is taken by the server when the page
runs, before the insert is queued.
"""

from __future__ import annotations

import html
import logging
from concurrent.futures import Future, ThreadPoolExecutor

import pandas as pd
import plotly.express as px
import streamlit as st

from cxrviz.app.messages import warn_on_error
from cxrviz.app.text import escape_markdown
from cxrviz.review import throughput
from cxrviz.review.identity import name_key
from cxrviz.review.record import utc_now

log = logging.getLogger(__name__)
_LAST = "_throughput_last_view"  # this session's last record (`throughput.LastView`)
_CAMPAIGN = "throughput_campaign"
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxrviz-views")
_pending: list[Future] = []


def _record(store, image: str, reader: str, kind: str, campaign_id: int | None, at: str) -> None:
    from cxrviz.review.store import views

    try:
        views.record_view(store, image, reader, kind, campaign_id, at)
    except Exception:  # a lost view costs one reading's time, never the reader's page
        log.warning("Could not record that %s was shown %s", reader, image, exc_info=True)


def shown(store, image: str, reader: str, campaign_id: int | None = None, clock=utc_now) -> str | None:
    """Record, once per image shown in this session (not per rerun), that `image` is on screen for
    `reader`; on a later rerun of the same image, at most once a minute, that they are still active on
    it. Returns what was queued (`throughput.SHOWN`, `ACTIVE`) or None."""
    at = clock()
    now = throughput.seconds_of(at)
    kind = throughput.next_event(st.session_state.get(_LAST), reader, image, now)
    if kind is None:
        return None
    st.session_state[_LAST] = throughput.LastView(name_key(reader), image, now)
    _pending[:] = [f for f in _pending if not f.done()]
    _pending.append(_writer.submit(_record, store, image, reader, kind, campaign_id, at))
    return kind


def image_shown(store, image: str, reader: str, queue_source: str | None) -> str | None:
    """The Review page's hook: `shown`, with the campaign whose queue is being reviewed."""
    return shown(store, image, reader, campaign_of_queue(queue_source))


def flush(timeout: float = 30.0) -> None:
    """Wait for the queued records (tests, and a clean shutdown)."""
    for future in list(_pending):
        future.result(timeout=timeout)


def campaign_of_queue(source: str | None) -> int | None:
    """The campaign whose queue is being reviewed (the Review page's campaign picker), else None."""
    from cxrviz.app import campaign_queue

    choice = st.session_state.get(campaign_queue.PICKER)
    return int(choice["id"]) if choice and source == campaign_queue.label(choice) else None


def _plain(name: str) -> str:
    """A reader's name as plotly shows it: its markup (<b>, <br>) as written, not applied."""
    return html.escape(name, quote=False)


def figure(rates: list[throughput.ReaderRate], per_image: pd.DataFrame):
    """Images per hour per reader (bars), the seconds of each image beside them (points)."""
    frame = pd.DataFrame([r.row() for r in rates if r.images_per_hour is not None], columns=list(throughput.ROW_COLUMNS))
    frame["reader"] = frame["reader"].map(_plain)
    chart = px.bar(frame, x="reader", y="images per hour", text="images per hour",
                   hover_data=["images", "active hours", "median seconds per image"],
                   title="Images per hour of active reading (idle gaps over 5 minutes left out)")
    chart.update_traces(texttemplate="%{y:.1f}", textposition="outside", cliponaxis=False)
    spread = px.strip(per_image.assign(reader=per_image["reader"].map(_plain)), x="reader", y="seconds",
                      hover_data=["image"], title="Seconds on each image")
    spread.update_yaxes(rangemode="tozero")
    return chart, spread


def section(store, viewer: str | None) -> None:
    """The Agreement page's Throughput section, for `viewer` (None: nobody typed a name): every
    campaign for an admin, the viewer's own campaigns for anyone else."""
    from cxrviz.review.store import team

    st.subheader("Throughput")
    found, sees_all, campaigns = [], False, []
    with warn_on_error():
        found, sees_all = team.visible_readings(store, viewer)
        campaigns = team.list_campaigns(store) if sees_all else team.campaigns_of(store, viewer) if viewer else []
    options = [None, *[int(c["id"]) for c in campaigns]]
    names = {int(c["id"]): f"Campaign {c['id']}: {c['name']}" + (" (blind)" if c["blind"] else "") for c in campaigns}
    chosen = st.selectbox("Readings", options, format_func=lambda c: "All readings" if c is None else names[c], key=_CAMPAIGN)
    readings = throughput.in_campaign(found, chosen)
    if sees_all:
        st.caption("As admin you see every reader's figures.")
    elif viewer and any(c["blind"] for c in campaigns):
        st.caption(escape_markdown(f"Blind campaigns: you see only your own figures there ({viewer}); "
                                   "other readers' figures of open readings are shown."))
    rates = throughput.rates(readings)
    if not rates:
        st.info("No timed reading yet: a reading is timed from the moment the Review page shows the image to its save.")
        return
    st.caption("Measured on the server: seconds on an image run from the Review page showing it to the save; a gap of "
               "over 5 minutes without activity on the page is idle and left out. A reading never shown in the app "
               "(imported, from the CLI) or idle throughout counts under 'readings left out'.")
    st.dataframe(pd.DataFrame([r.row() for r in rates]), hide_index=True, key="throughput_table")
    if chosen is None and campaigns:
        per_campaign = throughput.campaign_rates(readings, names, outside="other readings")
        st.caption("Per campaign: an image read by two readers counts as two images read.")
        st.dataframe(pd.DataFrame([r.row() for r in per_campaign]).rename(columns={"reader": "campaign"}), hide_index=True,
                     key="throughput_campaigns")
    per_image = pd.DataFrame([{"reader": r.reader, "image": r.image, "seconds": r.seconds} for r in readings
                              if r.seconds is not None])
    if not per_image.empty:
        per_image = per_image.groupby(["reader", "image"], as_index=False)["seconds"].sum()
        chart, spread = figure(rates, per_image)
        left, right = st.columns(2)
        left.plotly_chart(chart, key="throughput_rate")
        right.plotly_chart(spread, key="throughput_spread")
