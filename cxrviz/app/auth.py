"""Who is using the app: the signed-in user (OpenID Connect through `st.login`, when `[auth]` is in
`.streamlit/secrets.toml`), or today's single-user mode, clearly labelled.

When sign-in is configured the reviewer is `st.user` (its email, else its name) and no name can be
typed or passed in the URL. A team store (PostgreSQL `CXRVIZ_DB`) refuses to run without sign-in
unless the operator sets `CXRVIZ_ALLOW_ANONYMOUS=1`. The decision itself is
`cxrviz.review.roles.decide_access`; roles live in the review store (`review/store/team.py`).
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from cxrviz.app.messages import stop_on_error
from cxrviz.app.text import escape_markdown
from cxrviz.config import Settings
from cxrviz.review import roles

_SEEN = "_cxrviz_signed_in"  # the reviewer recorded by `team.sign_in` this session, and their role


def auth_configured() -> bool:
    """True when `.streamlit/secrets.toml` (or the platform's secrets) has an `[auth]` section."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return False


def access(config: Settings) -> roles.Access:
    configured = auth_configured()
    claims = st.user.to_dict() if configured else {}
    return roles.decide_access(configured, bool(claims.get("is_logged_in")), claims, config.team_mode, config.allow_anonymous)


def signed_in_reviewer(config: Settings) -> str | None:
    """The signed-in reviewer, or None when sign-in is not configured (the name is typed then)."""
    found = access(config)
    return found.reviewer if found.mode == roles.SIGNED_IN else None


def gate(config: Settings, store_for) -> roles.Access:
    """Called by app.py before any page: stops the run with the reason when this session may not
    go on (team store without sign-in, not signed in, no role yet); labels single-user mode."""
    found = access(config)
    if found.mode == roles.REFUSED:
        st.error(escape_markdown(found.message), icon=":material/lock:")
        st.stop()
    if found.mode == roles.SIGN_IN_NEEDED:
        st.info(found.message, icon=":material/login:")
        st.button("Sign in", type="primary", on_click=st.login, key="auth_login")
        st.stop()
    if found.mode in (roles.SINGLE_USER, roles.ANONYMOUS_TEAM):
        (st.sidebar.caption if found.mode == roles.SINGLE_USER else st.sidebar.warning)(found.message)
        return found
    from cxrviz.review.store import team

    seen = st.session_state.get(_SEEN)
    with stop_on_error():
        store = store_for(config)
        if seen is None or seen[0] != found.reviewer:
            role = team.sign_in(store, found.reviewer, found.email, found.display)
        else:
            role = team.role_of(store, found.reviewer)  # an admin may have changed it since
    st.session_state[_SEEN] = (found.reviewer, role)
    st.sidebar.text(f"Signed in as {found.reviewer}" + (f" ({role})" if role else ""))
    st.sidebar.button("Sign out", on_click=st.logout, key="auth_logout")
    if role is None:
        st.info(roles.NO_ROLE_MESSAGE, icon=":material/lock:")
        st.stop()
    return found


def acting_role(config: Settings, store, actor: str) -> str | None:
    """The role of `actor` as the store holds it. Signed in, `gate` has recorded them already; in
    single-user mode the typed name is recorded on first use (the first one of an empty store
    becomes admin), which is all a name typed without sign-in can be trusted for."""
    from cxrviz.review.store import team

    if access(config).mode == roles.SIGNED_IN:
        return team.role_of(store, actor)
    return team.sign_in(store, actor)


def require_page(config: Settings, action: str):
    """The top of a team page: (store, acting user) when the user may `action`; otherwise a
    message (no name yet, no permission, store unreachable) and the page stops there."""
    from cxrviz.app import resources, state
    from cxrviz.app.messages import stop_on_error

    with stop_on_error():
        store = resources.store_for(config)
    actor = state.reviewer_name()
    if not actor:
        st.info("Enter your name in the sidebar first.")
        st.stop()
    with stop_on_error():
        roles.require(acting_role(config, store, actor), action)
    return store, actor


def current_viewer(config: Settings) -> str | None:
    """Who is looking, for the blind-reading gate on pages that have no name field: the signed-in
    user, else the name typed on a page that has one (`state.reviewer_name`); None is nobody."""
    from cxrviz.app import state
    from cxrviz.review.identity import ReviewerNameError, display_name

    if auth_configured():
        return signed_in_reviewer(config)
    typed = st.session_state.get(f"_kept_{state.REVIEWER}") or st.session_state.get(state.REVIEWER) or st.query_params.get(state.REVIEWER)
    try:
        return display_name(typed) if typed and typed.strip() else None
    except ReviewerNameError:
        return None
