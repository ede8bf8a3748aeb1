"""Counts in words: "1 local image", "2 local images" (never "1 local images")."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with `noun` in the number it needs; `plural` when adding an "s" is wrong (1 patient, 2 patients;
    1 study, 2 studies). Thousands are separated (1,204 images)."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
