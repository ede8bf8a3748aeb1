"""The review record: what one reviewer said about one image, as every layer above the store sees it.

Pure data, no SQL: agreement, export and the form rules import this, not the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from cxrviz.findings import ALL_LABELS, NO_FINDING, normalise_label

STATUSES = ("confirmed", "corrected", "uncertain", "skipped")
_ORDER = {label: i for i, label in enumerate(ALL_LABELS)}


class Labels(frozenset):
    """The labels of one reading, one type from the form to the store and back: a frozenset of the
    dataset's labels (aliases normalised) that iterates, prints and compares to a list or tuple in
    `ALL_LABELS` order. 'No Finding' stands alone: with a finding it is dropped, and no label at
    all means it. `text` is the stored cell ("Effusion|Mass"), `Labels.parse` reads one back.
    It hashes as a frozenset: equal to a tuple, yet not the same set or dict key as one (use
    `tuple(labels)` in a key that mixes the two)."""

    __slots__ = ()

    def __new__(cls, labels: Iterable[str] = ()):
        if isinstance(labels, Labels):
            return labels
        if isinstance(labels, str):
            raise TypeError("a stored cell such as 'Effusion|Mass' is read with Labels.parse")
        chosen = {normalise_label(label) for label in labels}
        findings = chosen - {NO_FINDING}
        return super().__new__(cls, findings or {NO_FINDING})

    @classmethod
    def parse(cls, text: str | None) -> "Labels":
        return cls(part for part in (text or "").split("|") if part.strip())

    @property
    def text(self) -> str:
        return "|".join(self)

    def __iter__(self):
        return iter(sorted(frozenset.__iter__(self), key=_ORDER.__getitem__))

    def __eq__(self, other) -> bool:
        if isinstance(other, (list, tuple)):
            return tuple(self) == tuple(other)
        return frozenset.__eq__(self, other)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = frozenset.__hash__

    def __repr__(self) -> str:
        return f"Labels({list(self)!r})"

    # Set operations keep the type (and its rules); frozenset's own return a plain frozenset.
    def __or__(self, other) -> "Labels":
        return Labels(frozenset.__or__(self, frozenset(other)))

    def __sub__(self, other) -> "Labels":
        return Labels(frozenset.__sub__(self, frozenset(other)))

    def __and__(self, other) -> "Labels":
        return Labels(frozenset.__and__(self, frozenset(other)))


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Review:
    image: str
    reviewer: str
    labels: Labels
    status: str
    note: str
    model: str | None
    probabilities: dict[str, float] | None
    created_at: str
    updated_at: str

    def __post_init__(self) -> None:  # whoever builds one (the store, an import, a test) gets `Labels`
        if not isinstance(self.labels, Labels):
            object.__setattr__(self, "labels", Labels(self.labels))
