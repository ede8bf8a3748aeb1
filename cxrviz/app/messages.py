"""The one way a page shows an error a user can cause: a `CxrvizError`'s message, as plain text.

Only `CxrvizError` is caught: anything else is a bug and must surface (in the log and on the page).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from cxrviz.app.text import escape_markdown
from cxrviz.errors import CxrvizError


def show_error(error: CxrvizError) -> None:
    """The message as text: file names, image names and URLs inside it are never rendered as Markdown."""
    st.error(escape_markdown(str(error)), icon=":material/warning:")


@contextmanager
def stop_on_error() -> Iterator[None]:
    """`with stop_on_error(): ...` shows a `CxrvizError` and stops the page there."""
    try:
        yield
    except CxrvizError as error:
        show_error(error)
        st.stop()


@contextmanager
def warn_on_error() -> Iterator[None]:
    """`with warn_on_error(): ...` shows a `CxrvizError` and lets the page go on."""
    try:
        yield
    except CxrvizError as error:
        show_error(error)
