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
