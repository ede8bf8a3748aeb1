"""Strings from outside (a URL, a file name, a CSV, a user) made safe for Streamlit's widgets that
render Markdown: st.title, st.header, st.markdown, st.caption, st.info/warning/error, image captions.

CommonMark lets a backslash escape every ASCII punctuation character, and an escaped character is
shown as itself: no bold, no link, no autolinked URL, no HTML tag, no `$` maths, no `:red[…]`
colour directive. Letters, digits, spaces and non-ASCII text are left as they are.
"""

from __future__ import annotations

import re
from pathlib import PurePath

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # the ASCII punctuation ranges, as CommonMark defines them


def escape_markdown(value: object) -> str:
    """`value` as text that Streamlit's Markdown shows literally, character for character."""
    return _PUNCTUATION.sub(r"\\\1", str(value))


def folder_name(path: str | PurePath) -> str:
    """What a message may say about a server folder: its own name, never the path above it."""
    return PurePath(path).name or str(path)
