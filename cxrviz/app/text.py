"""Strings from outside (a URL, a file name, a CSV, a user) made safe for Streamlit's widgets that
render Markdown: st.title, st.header, st.markdown, st.caption, st.info/warning/error, image captions.

Two steps, because Streamlit's Markdown has two kinds of syntax:
- what the parser reads (emphasis, links, HTML, `$` maths, `:red[…]` directives, headings, lists):
  CommonMark lets a backslash escape every ASCII punctuation character, and an escaped character
  is shown as itself;
- what is found afterwards in the parsed text, where escapes are already gone: GFM's bare links
  (`https://…`, `www.…`, `name@host.org`) and `:shortcode:` emoji and icons. A WORD JOINER (U+2060,
  invisible, no line break) after each `:` and `@` and inside `www.` breaks those patterns.
Letters, digits, spaces and non-ASCII text are left as they are, so NIH file names read (and copy) as
themselves.
"""

from __future__ import annotations

import re
from pathlib import PurePath

WORD_JOINER = "\u2060"
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # the ASCII punctuation ranges, as CommonMark defines them
_FOUND_LATER = re.compile(r"(?<=[:@])|(?<=www)(?=\.)", re.IGNORECASE)


def escape_markdown(value: object) -> str:
    """`value` as text that Streamlit's Markdown shows literally, with no link, emphasis or HTML."""
    return _PUNCTUATION.sub(r"\\\1", _FOUND_LATER.sub(WORD_JOINER, str(value)))


def folder_name(path: str | PurePath) -> str:
    """What a message may say about a server folder: its own name, never the path above it."""
    return PurePath(path).name or str(path)
