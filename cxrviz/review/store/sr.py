"""The write of `import --sr`: the readers' reviews, boxes and measurements in ONE transaction, so an SR
import that the database refuses half-way (a box limit, a lock) leaves nothing behind.

The caller (`review/sr_import.py`) checks every SR first and gives the rule that turns each
reader's existing review (read here, inside the transaction, so no save slips in between) into
the review to write.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.identity import name_key
from cxrviz.review.record import Review
from cxrviz.review.store.boxes import import_boxes_in
from cxrviz.review.store.core import IMPORT_NEW, IMPORT_UPDATED, Store
from cxrviz.review.store.measurements import import_measurements_in
from cxrviz.review.store.tables import reviewers, reviews

Pair = tuple[str, str]  # (image, reader)


def _existing(store: Store, conn: sa.Connection, pairs: list[Pair]) -> dict[Pair, Review]:
    images = sorted({image for image, _ in pairs})
    wanted = {(image, name_key(reader)): (image, reader) for image, reader in pairs}
    query = store.select_reviews().add_columns(reviewers.c.name_key).where(reviews.c.image.in_(images))
    found = {}
    for row in conn.execute(query).mappings():
        pair = wanted.get((row["image"], row["name_key"]))
        if pair is not None:
            found[pair] = store.review_of(row, row["reviewer"])
    return found


def import_readings(store: Store, pairs: list[Pair], reviews_for: Callable[[dict[Pair, Review]], list[Review]],
                    boxes: list[tuple[int, ReviewerBox]], imported_by: str,
                    dry_run: bool = False, measurements=()) -> tuple[list[tuple[Review, str]], list[bool], list[bool]]:
    """Write `reviews_for(existing reviews of pairs)`, the boxes (checked) and the measurements in one
    transaction; returns (review, outcome) per review and whether each box and each measurement was
    added (False: the store had it).
    `dry_run`: the same answer from a read transaction, nothing written."""
    with store.reading() if dry_run else store.writing() as conn:
        existing = _existing(store, conn, pairs)
        planned = reviews_for(existing)
        if dry_run:
            have = {(image, name_key(reader)) for image, reader in existing}
            outcomes = [IMPORT_UPDATED if (r.image, name_key(r.reviewer)) in have else IMPORT_NEW for r in planned]
        else:
            outcomes = store.import_reviews_in(conn, planned, imported_by) if planned else []
        added = import_boxes_in(store, conn, boxes, imported_by, dry_run=dry_run) if boxes else []
        measured = import_measurements_in(store, conn, list(measurements), imported_by, dry_run=dry_run)
    return list(zip(planned, outcomes)), added, measured

