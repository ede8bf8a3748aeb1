"""The Review page's campaign picker: a reader's campaigns in the sidebar; choosing one makes its
images assigned to them the review queue (`state.set_queue`)."""

from __future__ import annotations

import streamlit as st

from cxrviz.app import state
from cxrviz.app.messages import warn_on_error

PICKER = "campaign_queue"


def label(campaign: dict) -> str:
    return f"Campaign {campaign['id']}: {campaign['name']}"


def campaign_picker(store, reviewer: str, queue_radio: str = "queue_choice") -> None:
    """Draws nothing for a reviewer with no campaign. Choosing a campaign also turns the page's
    queue radio (`queue_radio`, drawn after this) to it."""
    from cxrviz.review.store import team

    mine = []
    with warn_on_error():
        mine = team.campaigns_of(store, reviewer)
    if not mine:
        return
    choice = st.sidebar.selectbox("Your campaigns", mine, format_func=lambda c: f"{label(c)} ({c['images']} images)", index=None,
                                  placeholder="choose one to review its images", key=PICKER)
    if choice is not None and st.session_state.get(state.QUEUE_SOURCE_KEY) != label(choice):
        with warn_on_error():
            state.set_queue(team.reader_queue(store, choice["id"], reviewer), label(choice))
            st.session_state[queue_radio] = label(choice)
