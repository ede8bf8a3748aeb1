"""The rules of the review form, apart from its widgets so they can be tested directly."""

from __future__ import annotations

from cxrviz.findings import ALL_LABELS, FINDINGS, NO_FINDING
from cxrviz.store import Review


class LabelConflict(ValueError):
    """'No Finding' was ticked together with a finding."""


def starting_labels(own: Review | None, nih: set[str]) -> set[str]:
    """The form starts from the reviewer's own last answer, else from the NIH labels."""
    if own is not None:
        return set(own.labels)
    return set(nih) if nih else {NO_FINDING}


def chosen_labels(ticked: dict[str, bool]) -> list[str]:
    """The labels a form submits; 'No Finding' is exclusive, and nothing ticked means it."""
    findings = [f for f in FINDINGS if ticked.get(f)]
    if findings and ticked.get(NO_FINDING):
        raise LabelConflict(f"'No Finding' cannot be ticked together with {', '.join(findings)}. Untick one.")
    return findings or [NO_FINDING]


def resolve_status(chosen: str, original: set[str], new: list[str]) -> str:
    """'confirmed' with changed labels is really 'corrected'; other statuses stand."""
    if chosen == "confirmed" and set(new) - {NO_FINDING} != set(original) - {NO_FINDING}:
        return "corrected"
    return chosen


def queue_position(queue: list[str], current: str | None) -> int:
    return queue.index(current) if current in queue else 0


def others(reviews: list[Review], reviewer: str) -> list[dict]:
    """Other reviewers' answers for display (plain text)."""
    return [
        {"reviewer": r.reviewer, "labels": "|".join(l for l in ALL_LABELS if l in r.labels), "status": r.status,
         "note": r.note, "at": r.updated_at}
        for r in reviews if r.reviewer != reviewer
    ]
