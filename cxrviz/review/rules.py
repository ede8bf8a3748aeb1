"""The rules of the review form, apart from its widgets so they can be tested directly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxrviz.data.image_index import ImageIndex
from cxrviz.data.metadata import Metadata
from cxrviz.errors import CxrvizError
from cxrviz.findings import ALL_LABELS, FINDINGS, NO_FINDING
from cxrviz.review.record import Review


class LabelConflict(CxrvizError, ValueError):
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


BROWSE_SOURCE = "Browse filter"


def build_queue(source: str, browse_rows: np.ndarray | None, metadata: Metadata, index: ImageIndex,
                saved_queue: list[str] | None) -> list[str]:
    """The images to review, in order: the Browse filter's local images (every local image when
    Browse was not opened this session), or a queue chosen elsewhere (triage order)."""
    if source != BROWSE_SOURCE:
        return list(saved_queue or [])
    if browse_rows is None:
        return sorted(index.paths)
    names = metadata.table["image"].to_numpy()[browse_rows].tolist()
    return [n for n in names if n in index]


@dataclass(frozen=True)
class SaveOutcome:
    labels: list[str]
    status: str
    message: str
    next_image: str | None


def save_and_advance(store, image: str, reviewer: str, ticked: dict[str, bool], status: str, note: str, nih: set[str],
                     queue: list[str], model_name: str | None, probabilities: dict[str, float] | None) -> SaveOutcome:
    """Validate the form, save it (committed before this returns) and name the next image.

    Raises `LabelConflict` or a `StoreError`; nothing is saved then, and the page keeps the form."""
    labels = chosen_labels(ticked)
    final = resolve_status(status, nih, labels)
    store.save_review(image, reviewer, labels, final, note, model_name, probabilities)
    position = queue_position(queue, image)
    following = queue[position + 1] if image in queue and position < len(queue) - 1 else None
    return SaveOutcome(labels, final, f"Saved {image} as {final}: {'|'.join(labels)}.", following)
