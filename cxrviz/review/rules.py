"""The rules of the review form, apart from its widgets so they can be tested directly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cxrviz.data.image_index import ImageIndex
from cxrviz.data.metadata import Metadata
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS, NO_FINDING
from cxrviz.review.identity import name_key
from cxrviz.review.record import STATUSES, Labels, Review


class LabelConflict(CxrvizError, ValueError):
    """'No Finding' was ticked together with a finding."""


class UnseenImageError(CxrvizError):
    """A confirmation or correction of an image that failed to load."""


def starting_labels(own: Review | None, nih: set[str]) -> Labels:
    """The form starts from the reviewer's own last answer, else from the NIH labels."""
    return Labels(own.labels if own is not None else nih)


def chosen_labels(ticked: Mapping[str, bool] | Iterable[str]) -> Labels:
    """The labels a form submits (the labels themselves, or label -> ticked); 'No Finding' is
    exclusive, and nothing ticked means it."""
    on = {label for label, value in ticked.items() if value} if isinstance(ticked, Mapping) else set(ticked)
    findings = [f for f in FINDINGS if f in on]
    if findings and NO_FINDING in on:
        raise LabelConflict(f"'No Finding' cannot be ticked together with {', '.join(findings)}. Untick one.")
    return Labels(findings)


def resolve_status(chosen: str, original: set[str], new: list[str]) -> str:
    """'confirmed' with changed labels is really 'corrected'; other statuses stand."""
    if chosen == "confirmed" and set(new) - {NO_FINDING} != set(original) - {NO_FINDING}:
        return "corrected"
    return chosen


class Queue(tuple):
    """The images to review, in order, with their positions: `in`, `index` and `queue_position`
    take one look-up, not a walk of up to 112,120 names on every save. A name listed twice is
    found at its first place."""

    def __new__(cls, names: Iterable[str] = ()):
        self = super().__new__(cls, names)
        self._positions = {}
        for i, name in enumerate(self):
            self._positions.setdefault(name, i)
        return self

    def __contains__(self, name) -> bool:
        return name in self._positions

    def index(self, name, *bounds) -> int:
        if bounds:
            return super().index(name, *bounds)
        try:
            return self._positions[name]
        except KeyError:
            raise ValueError(f"{name!r} is not in the queue") from None

    def __reduce__(self):  # pickled (session state, caches) as its names, positions rebuilt
        return (Queue, (tuple(self),))


def as_queue(names: Iterable[str]) -> Queue:
    return names if isinstance(names, Queue) else Queue(names)


def queue_position(queue: Iterable[str], current: str | None) -> int:
    queue = as_queue(queue)
    return queue.index(current) if current in queue else 0


def others(reviews: list[Review], reviewer: str) -> list[dict]:
    """Other reviewers' answers for display (plain text)."""
    return [
        {"reviewer": r.reviewer, "labels": r.labels.text, "status": r.status,
         "note": r.note, "at": r.updated_at}
        for r in reviews if name_key(r.reviewer) != name_key(reviewer)
    ]


def own_review(reviews: list[Review], reviewer: str) -> Review | None:
    """This reviewer's review among an image's reviews, whatever case or spacing the name was typed in."""
    key = name_key(reviewer)
    return next((r for r in reviews if name_key(r.reviewer) == key), None)


BROWSE_SOURCE = "Browse filter"


def build_queue(source: str, browse_rows: np.ndarray | None, metadata: Metadata, index: ImageIndex,
                saved_queue: list[str] | None) -> Queue:
    """The images to review, in order: the Browse filter's local images (every local image when
    Browse was not opened this session), or a queue chosen elsewhere (triage order)."""
    if source != BROWSE_SOURCE:
        return Queue(saved_queue or ())
    if browse_rows is None:
        return Queue(index.sorted_names)
    names = metadata.table["image"].to_numpy()[browse_rows].tolist()
    return Queue(n for n in names if n in index)


@dataclass(frozen=True)
class Draft:
    """What the form holds for one image: kept per session until saved, whatever page or image
    the reviewer visits meanwhile. `opened` is the `updated_at` of the reviewer's own review when
    the form was filled from it (None: there was none), for the version check on save."""

    labels: Labels
    status: str
    note: str
    opened: str | None

    def differs_from(self, other: "Draft") -> bool:
        return (self.labels, self.status, self.note) != (other.labels, other.status, other.note)


def starting_draft(own: Review | None, nih: set[str]) -> Draft:
    """The form starts from the reviewer's own last answer, else from the NIH labels, 'confirmed'."""
    return Draft(starting_labels(own, nih), own.status if own else STATUSES[0], own.note if own else "",
                 own.updated_at if own else None)


def draft_is_current(base_updated_at: str | None, own: Review | None) -> bool:
    """A stored draft applies as it is only when it was made on the reader's saved review as that
    review is now (`base_updated_at` is what the form started from; None: no review yet)."""
    return base_updated_at == (own.updated_at if own else None)


def toggle(labels: Labels, label: str) -> Labels:
    """Tick or untick one label; 'No Finding' and the findings exclude each other (`Labels`), so a
    key press never leaves the form in a state that cannot be saved."""
    if label in labels:
        return Labels(labels - {label})  # the last finding unticked: No Finding
    if label == NO_FINDING:
        return Labels({NO_FINDING})
    return Labels(labels | {label})  # a finding ticked: No Finding goes


def merge(mine: Draft, theirs: Review) -> Draft:
    """'Merge' after a stale save: the union of both label sets, both notes, my status; the form
    is then on top of their version, so saving it is no longer stale."""
    labels = Labels(set(mine.labels) | set(theirs.labels))  # a finding on either side drops No Finding
    notes = [n for n in dict.fromkeys([theirs.note.strip(), mine.note.strip()]) if n]
    return Draft(labels, mine.status, "\n---\n".join(notes), theirs.updated_at)


def rebase(mine: Draft, theirs: Review | None) -> Draft:
    """'Keep mine' after a stale save: my values, on top of their version."""
    return Draft(mine.labels, mine.status, mine.note, theirs.updated_at if theirs else None)


def progress(queue: Iterable[str], mine: set[str], everyone: set[str]) -> tuple[int, int]:
    """(reviewed by me, reviewed by anyone) among the queue's images: walks the reviewed images,
    which are fewer than the queue's (up to 112,120) until most of it is read."""
    queue = as_queue(queue)

    def among(reviewed: set[str]) -> int:
        names = queue._positions  # each image once, as the reviewed sets hold them
        return sum(1 for n in reviewed if n in names) if len(reviewed) <= len(names) else sum(1 for n in names if n in reviewed)

    return among(mine), among(everyone)


@dataclass(frozen=True)
class SaveOutcome:
    labels: Labels
    status: str
    message: str
    next_image: str | None


def save_and_advance(store, image: str, reviewer: str, ticked: Labels | Mapping[str, bool], status: str, note: str, nih: set[str],
                     queue: list[str], model_name: str | None, probabilities: dict[str, float] | None,
                     expected_updated_at=None, check_version: bool = False, image_shown: bool = True) -> SaveOutcome:
    """Validate the form, save it (committed before this returns) and name the next image.

    With `check_version`, a review saved since the form was opened (`expected_updated_at`) raises
    `StaleReviewError`. Raises `LabelConflict` or a `StoreError`; nothing is saved then, and the
    page keeps the form."""
    labels = chosen_labels(ticked)
    final = resolve_status(status, nih, labels)
    if not image_shown and final in ("confirmed", "corrected"):
        raise UnseenImageError(f"{image} could not be shown, so its labels cannot be confirmed or corrected; "
                               "mark it uncertain or skipped (say why in the note).")
    if check_version:
        store.save_review(image, reviewer, labels, final, note, model_name, probabilities, expected_updated_at=expected_updated_at)
    else:
        store.save_review(image, reviewer, labels, final, note, model_name, probabilities)
    position = queue_position(queue, image)
    following = queue[position + 1] if image in queue and position < len(queue) - 1 else None
    return SaveOutcome(labels, final, f"Saved {image} as {final}: {labels.text}.", following)


class ImageListError(CxrvizError):
    """A CSV meant to list images that cannot be read as one."""


def image_names_from_csv(data: bytes) -> list[str]:
    """Image names from a CSV: its 'Image Index' column (any cxrviz or NIH export), else its first
    column; blank cells skipped, order kept, duplicates once."""
    import csv
    import io

    if not data.strip():
        raise ImageListError("Choose a CSV file with an 'Image Index' column (or image names in the first column).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImageListError("The image list is not a UTF-8 text CSV.") from exc
    if "\x00" in text:
        raise ImageListError("The image list holds NUL bytes: it is not a text CSV.")
    rows = list(csv.reader(io.StringIO(text)))
    header = [cell.strip() for cell in rows[0]] if rows else []
    column, body = (header.index("Image Index"), rows[1:]) if "Image Index" in header else (0, rows)
    names = [row[column].strip().lstrip("'") for row in body if len(row) > column and row[column].strip()]
    return list(dict.fromkeys(names))
