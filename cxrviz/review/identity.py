"""Reviewer names: one person, one name, whatever they type.

A name is compared by its key (Unicode NFKC, case-folded, runs of white space collapsed) and
stored as first typed (trimmed, spaces collapsed). Control, format (zero-width) and private-use
characters are refused, and so is anything longer than `MAX_NAME_LENGTH`, on SQLite as on
PostgreSQL, so a store exported from one imports into the other.
"""

from __future__ import annotations

import unicodedata

from cxrviz.errors import CxrvizError

MAX_NAME_LENGTH = 100
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn"}


class ReviewerNameError(CxrvizError):
    """A reviewer name that is empty, too long, or carries invisible or control characters."""


def display_name(typed: str) -> str:
    """The name as it will be stored and shown: NFKC, trimmed, inner white space collapsed.

    Raises `ReviewerNameError` with a message for the page."""
    text = unicodedata.normalize("NFKC", typed or "")
    bad = sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in _REFUSED_CATEGORIES and c not in "\t\n\r "})
    if any(c in text for c in "\t\n\r"):
        bad.append("a line break or tab")
    if bad:
        raise ReviewerNameError(f"A reviewer name cannot contain invisible or control characters ({', '.join(bad)}).")
    name = " ".join(text.split())
    if not name:
        raise ReviewerNameError("A reviewer name is required.")
    if len(name) > MAX_NAME_LENGTH:
        raise ReviewerNameError(f"A reviewer name can be at most {MAX_NAME_LENGTH} characters ({len(name)} given).")
    return name


def name_key(typed: str) -> str:
    """What two names must share to be the same reviewer: "Dr  Alice " and "dr alice" match."""
    return display_name(typed).casefold()
