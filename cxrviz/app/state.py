"""What the user chose, per session: the current image (mirrored in the URL so the address bar
is a link), the review queue, widget values that must survive a page switch, and the guard that
makes every page run inside app.py's navigation.
"""

from __future__ import annotations

import streamlit as st

# Session keys shared by more than one page or module live here, named; a key private to one module
# stays there.

CURRENT_IMAGE = "image"
REVIEWER = "reviewer"  # the name field's key, and the URL parameter that keeps it across reloads
QUEUE_KEY = "review_queue"
QUEUE_SOURCE_KEY = "review_queue_source"
QUEUE_SUSPECTS_KEY = "review_queue_suspects"  # image -> suspects.Suspect tuple, for label-audit queues
QUEUE_STUDIES_KEY = "review_queue_studies"  # image -> (prior, next) followups.Study, for the follow-up flips
BROWSE_ROWS_KEY = "browse_rows"  # the metadata rows of the last Browse filter, in the grid's order (Image, Review, Teach, Admin read it)
VIA_APP = "_cxrviz_via_app"
_URL_WRITTEN = "_cxrviz_url_images"  # image names this session put in the URL itself


def kept_key(key: str) -> str:
    """Where a name field's value is kept across page switches (a widget's own key is dropped when
    a page that does not draw it runs)."""
    return f"_kept_{key}"


def current_image() -> str | None:
    """The image chosen in Browse, or named by `?image=` in the URL.

    The URL wins only with a value this session never wrote there (a link opened, an address
    typed): a browser that has not caught up with the last `set_current_image` sends the old
    value back with its next request, and that echo must not move the reader backwards."""
    from_url = st.query_params.get(CURRENT_IMAGE)
    written = st.session_state.setdefault(_URL_WRITTEN, set())
    if from_url and from_url not in written and st.session_state.get(CURRENT_IMAGE) != from_url:
        st.session_state[CURRENT_IMAGE] = from_url
        written.add(from_url)
    chosen = st.session_state.get(CURRENT_IMAGE)
    if chosen and from_url != chosen:
        _write_url(chosen)  # so the address bar is a link to this image
    return chosen


def _write_url(name: str) -> None:
    st.session_state.setdefault(_URL_WRITTEN, set()).add(name)
    st.query_params[CURRENT_IMAGE] = name


def set_current_image(name: str) -> None:
    st.session_state[CURRENT_IMAGE] = name
    _write_url(name)


def step_image(queue: list[str], step: int) -> None:
    """Move `step` images along the queue from the current one (a button callback: it reads the
    image current when the press is applied, not when the button was drawn)."""
    from cxrviz.review.rules import queue_position

    position = min(max(queue_position(queue, st.session_state.get(CURRENT_IMAGE)) + step, 0), len(queue) - 1)
    set_current_image(queue[position])


def open_page(page: str, image: str) -> None:
    """Switch page with the image in the URL (a page switch clears other query parameters)."""
    set_current_image(image)
    params = {CURRENT_IMAGE: image}
    if name := st.session_state.get(kept_key(REVIEWER)) or st.query_params.get(REVIEWER):
        params[REVIEWER] = name  # the address bar after the jump is a link that keeps the reader's name
    st.switch_page(page, query_params=params)


def set_queue(names: list[str], source: str, suspects: dict | None = None, studies: dict | None = None) -> None:
    """Make `names` the Review queue. `suspects` (image -> `suspects.Suspect` tuple) and `studies`
    (image -> (prior, next) `followups.Study`) travel with it, built once here, so the Review page
    only looks its image up; a queue without them clears the last queue's."""
    st.session_state[QUEUE_KEY] = list(names)
    st.session_state[QUEUE_SOURCE_KEY] = source
    st.session_state[QUEUE_SUSPECTS_KEY] = dict(suspects or {})
    st.session_state[QUEUE_STUDIES_KEY] = dict(studies or {})


def queue_details(source: str) -> tuple[dict, dict]:
    """(suspects, studies) of the saved queue when `source` is the queue being reviewed, else empty."""
    if source != st.session_state.get(QUEUE_SOURCE_KEY) or not st.session_state.get(QUEUE_KEY):
        return {}, {}
    return st.session_state.get(QUEUE_SUSPECTS_KEY) or {}, st.session_state.get(QUEUE_STUDIES_KEY) or {}


def keep_widget_state(*keys: str) -> None:
    """Carry widget values across page switches (Streamlit drops the state of widgets that a
    page switch leaves unrendered): restore from a shadow copy, then refresh the copy."""
    for key in keys:
        shadow = kept_key(key)
        if key not in st.session_state and shadow in st.session_state:
            st.session_state[key] = st.session_state[shadow]


def remember_widget_state(*keys: str) -> None:
    for key in keys:
        if key in st.session_state:
            st.session_state[kept_key(key)] = st.session_state[key]


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


def mark_app_run() -> None:
    """Called by app.py: this session's pages run inside its navigation."""
    st.session_state[VIA_APP] = True
