"""Who is acting: the one answer for every page, download and store call made for a person.

- Sign-in configured (`[auth]` in secrets): the signed-in user (`auth.signed_in_reviewer`), and no
  name can be typed or passed in the URL.
- Otherwise the name typed in the sidebar: "Your name" for readers (kept in `?reviewer=`), the
  learner's name on a quiz link (kept in `?learner=`). `person(...)` draws that field; `viewer(...)`
  reads what was typed without drawing it, for pages that have no name field of their own.

`auth` decides sign-in and `state` holds session values; this module uses both and neither
imports it, so the question has one answer and no import loop.
"""

from __future__ import annotations

import streamlit as st

from cxrviz.app import auth, state
from cxrviz.config import Settings
from cxrviz.review import roles

READER, LEARNER = state.REVIEWER, "learner"  # the field keys, also the URL parameters that keep them
_HELP = {READER: "Recorded with every label you save; kept in the address bar across reloads.",
         LEARNER: "Your answers are saved under it; kept in the address bar."}


def person(config: Settings, key: str = READER) -> str | None:
    """The acting person: signed in, else the sidebar's name field for `key` (drawn here)."""
    if auth.auth_configured():
        return auth.signed_in_reviewer(config)
    return _name_field(key, key, st.sidebar, _HELP.get(key))


def viewer(config: Settings) -> str | None:
    """Who is looking, for pages without a name field: signed in, else the reader's typed name
    (this session, or `?reviewer=`); None is nobody. Draws nothing."""
    from cxrviz.review.identity import ReviewerNameError, display_name

    if auth.auth_configured():
        return auth.signed_in_reviewer(config)
    if READER in st.session_state:  # the field as it is now (cleared counts), on a page that draws it
        typed = st.session_state[READER]
    else:  # kept from the last page that drew it, else the address bar
        typed = st.session_state.get(_kept(READER)) or st.query_params.get(READER)
    try:
        return display_name(typed) if typed and typed.strip() else None
    except ReviewerNameError:
        return None


def signed_in(config: Settings) -> str | None:
    """The signed-in user, or None without sign-in (nobody can be told apart then)."""
    return auth.signed_in_reviewer(config) if auth.auth_configured() else None


def role_of(config: Settings, store, actor: str) -> str | None:
    """The role of `actor` as the store holds it. Signed in, `auth.gate` has recorded them already;
    in single-user mode the typed name is recorded on first use (the first one of an empty store
    becomes admin), which is all a name typed without sign-in can be trusted for."""
    from cxrviz.review.store import team

    if auth.access(config).mode == roles.SIGNED_IN:
        return team.role_of(store, actor)
    return team.sign_in(store, actor)


def require_page(config: Settings, action: str):
    """The top of a team page: (store, acting user) when the user may `action`; otherwise a
    message (no name yet, no permission, store unreachable) and the page stops there."""
    from cxrviz.app import resources
    from cxrviz.app.messages import stop_on_error

    with stop_on_error():
        store = resources.store_for(config)
    actor = person(config)
    if not actor:
        st.info("Enter your name in the sidebar first.")
        st.stop()
    with stop_on_error():
        roles.require(role_of(config, store, actor), action)
    return store, actor


def _kept(key: str) -> str:
    return state.kept_key(key)


def _name_field(key: str, param: str, where=st, help: str | None = None) -> str | None:
    """A "Your name" field kept across page switches (session) and reloads (`?param=`).

    Returns the name as it will be stored (`identity.display_name`), or None (nothing typed, or a
    name the store would refuse: the reason is shown)."""
    from cxrviz.app.messages import show_error
    from cxrviz.review.identity import ReviewerNameError, display_name

    kept = _kept(key)
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(kept) or st.query_params.get(param, "")
    # No max_chars: a browser field at its limit refuses a longer paste whole and says nothing;
    # `_cut_name` cuts it to the store's limit and says so.
    typed = where.text_input("Your name (required)", key=key, help=help, on_change=_cut_name, args=(key,))
    if cut := st.session_state.pop(f"_cut_{key}", None):
        where.warning(cut, icon=":material/content_cut:")
    st.session_state[kept] = typed
    if not typed.strip():
        st.query_params.pop(param, None)  # a cleared name is cleared for good: a reload must not bring it back
        return None
    try:
        name = display_name(typed)
    except ReviewerNameError as error:
        show_error(error)
        return None
    if st.query_params.get(param) != name:
        st.query_params[param] = name
    return name


def _cut_name(key: str) -> None:
    from cxrviz.review.identity import MAX_NAME_LENGTH

    typed = st.session_state.get(key) or ""
    if len(typed) > MAX_NAME_LENGTH:
        st.session_state[key] = typed[:MAX_NAME_LENGTH]
        st.session_state[f"_cut_{key}"] = (f"A name can be at most {MAX_NAME_LENGTH} characters: yours ({len(typed):,}) was "
                                          f"cut to its first {MAX_NAME_LENGTH}. Check it before saving.")
