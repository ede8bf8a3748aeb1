"""The review record: what one reviewer said about one image, as every layer above the store sees it.

Pure data, no SQL: agreement, export and the form rules import this, not the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

STATUSES = ("confirmed", "corrected", "uncertain", "skipped")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Review:
    image: str
    reviewer: str
    labels: tuple[str, ...]
    status: str
    note: str
    model: str | None
    probabilities: dict[str, float] | None
    created_at: str
    updated_at: str
