"""Browse filters in the URL: a link opens the same filter with the same counts, and a reload keeps it.

The encoding itself (a `Filter` <-> {name: value}) is `cxrviz.data.filters`; this module moves it
between `st.query_params` and the Browse form's widgets.

When the URL is read: on the first Browse run of a session, i.e. when a link is opened or the page is
reloaded (both start a new session). Inside a session only this module writes filter parameters, and
a page switch drops them from the URL, so later runs keep the form (see `state.keep_widget_state`)
and write it back to the URL.
"""

from __future__ import annotations

import streamlit as st

from cxrviz.app.text import escape_markdown
from cxrviz.data.filters import LINK_KEYS, Filter, filter_from_params, filter_to_params, form_values

LOADED_KEY = "_links_filter_loaded"
WIDGET_KEYS = {
    "findings": "f_findings", "match": "f_match", "no_finding": "f_nofinding", "age_range": "f_age",
    "genders": "f_gender", "views": "f_view", "patients": "f_patients", "has_image": "f_hasimage", "has_box": "f_hasbox",
    "has_expert": "f_hasexpert", "nih_disagrees": "f_nihdisagrees",
}


def link_params() -> dict[str, str]:
    """The filter parameters of the current URL (the last value of a repeated one)."""
    return {key: st.query_params[key] for key in LINK_KEYS if key in st.query_params}


def restore_filter(default: Filter) -> Filter | None:
    """Before the form is drawn, once per session: the URL's filter into the form's widgets.
    Values that cannot be used are named in a warning and left at their default. Returns the
    filter it put in the form, or None when the form was already set up in this session."""
    if st.session_state.get(LOADED_KEY):
        return None
    st.session_state[LOADED_KEY] = True
    spec, problems = filter_from_params(link_params(), default)
    for name, value in form_values(spec).items():
        st.session_state[WIDGET_KEYS[name]] = value
    if problems:
        st.warning("Part of this link was ignored: " + escape_markdown(" ".join(problems)), icon=":material/link_off:")
    return spec


def mirror_filter(spec: Filter, default: Filter) -> None:
    """Write the filter to the URL (only what differs from `default`), so the address bar is a
    link to this view; other parameters are kept."""
    wanted = filter_to_params(spec, default)
    current = link_params()
    if wanted == current:
        return
    for key in current.keys() - wanted.keys():
        del st.query_params[key]
    for key, value in wanted.items():
        if current.get(key) != value:
            st.query_params[key] = value


def unknown_page(requested: str | None, known: list[str]) -> str | None:
    """The page name a URL asked for when no page has it (`/nosuchpage` -> "nosuchpage"); None for
    the app's root or a page that exists. Streamlit then runs the default page without a word."""
    name = (requested or "").strip("/")
    return name if name and name not in known else None


def requested_page() -> str | None:
    """The page name in the address of this run's request, when it came by address rather than by
    a click in the app (a click names the page by its script; the address is then already right)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or ctx.pages_manager.intended_page_script_hash:
        return None
    return ctx.pages_manager.intended_page_name


def say_unknown_page(known: list[str]) -> None:
    """A warning above the default page when the address names a page that does not exist."""
    missing = unknown_page(requested_page(), known)
    if missing:
        st.warning(f"There is no page “{escape_markdown(missing)}” in cxrviz: here is Browse instead. "
                   "The pages are listed in the sidebar.", icon=":material/link_off:")
