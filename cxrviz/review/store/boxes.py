"""Reviewer boxes in the store: add, move, delete (own boxes only), list, and the box audit log.

Every change is one transaction with its `box_audit` entry (box-create / box-move / box-delete,
old and new coordinates as JSON), like a review save and its `audit_log` entry. The per-reviewer
limit of boxes per image is checked inside the write transaction, so two tabs cannot pass it.
The caller checks the rules that need the review (`cxrviz.review.boxes.check_box`).

`import_boxes` writes a whole file's boxes in ONE transaction, in batches of `IMPORT_BATCH` rows
(a progress callback after each): a kill or a database error half-way leaves none of them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import sqlalchemy as sa

from cxrviz.review.boxes import MAX_BOXES_PER_IMAGE, BoxError, ReviewerBox, check_box, check_count, same_box
from cxrviz.review.identity import display_name, name_key
from cxrviz.review.record import utc_now
from cxrviz.review.store.core import Store
from cxrviz.review.store.tables import box_audit, boxes, reviewers

_COORDS = ("x", "y", "w", "h")


def _values(row) -> dict:
    return {"finding": row["finding"], **{c: row[c] for c in _COORDS}, "status": row["status"], "corrects": row["corrects"]}


def _log(conn: sa.Connection, box_id: int, image: str, reviewer: str, action: str, old: dict | None, new: dict | None, at: str) -> None:
    conn.execute(box_audit.insert().values(
        box_id=box_id, image=image, reviewer=reviewer, action=action, at=at,
        old_values=json.dumps(old) if old is not None else None, new_values=json.dumps(new) if new is not None else None))


def add_box(store: Store, box: ReviewerBox, at: str | None = None, limit: int = MAX_BOXES_PER_IMAGE) -> int:
    """Keep a new box (already checked by `check_box`); returns its id. Refuses (BoxError) past
    `limit` boxes of this reviewer on the image, and a box this reviewer already has (`same_box`:
    a double click on Save). Marking the same NIH box wrong twice returns the first mark."""
    display_name(box.reviewer)
    box, _ = check_box(box)  # shape rules again: nothing without area or outside the image is stored
    now = at or utc_now()
    with store.writing() as conn:
        reviewer_id = store.reviewer_id(conn, box.reviewer)
        if not store.is_sqlite:  # one writer per reviewer at a time, so two tabs cannot both pass the limit
            conn.execute(sa.select(reviewers.c.id).where(reviewers.c.id == reviewer_id).with_for_update())
        mine = sa.and_(boxes.c.image == box.image, boxes.c.reviewer_id == reviewer_id)
        if box.status == "wrong":
            found = conn.execute(sa.select(boxes.c.id).where(mine, boxes.c.status == "wrong", boxes.c.corrects == box.corrects)).scalar()
            if found is not None:
                return int(found)
        else:
            for row in conn.execute(sa.select(boxes).where(mine, boxes.c.finding == box.finding, boxes.c.status == box.status)).mappings():
                kept = ReviewerBox(row["image"], box.reviewer, row["finding"], row["x"], row["y"], row["w"], row["h"],
                                   row["frame_width"], row["frame_height"], row["status"], row["corrects"])
                if same_box(kept, box):
                    raise BoxError(f"You already saved this {box.finding} box on {box.image} (#{row['id']}); "
                                   "it was not saved a second time.")
        check_count(conn.execute(sa.select(sa.func.count()).select_from(boxes).where(mine)).scalar_one(), limit)
        new = {"finding": box.finding, "x": box.x, "y": box.y, "w": box.w, "h": box.h, "status": box.status, "corrects": box.corrects}
        box_id = conn.execute(boxes.insert().values(
            image=box.image, reviewer_id=reviewer_id, frame_width=box.frame_width, frame_height=box.frame_height,
            created_at=now, updated_at=now, **new)).inserted_primary_key[0]
        name = conn.execute(sa.select(reviewers.c.name).where(reviewers.c.id == reviewer_id)).scalar_one()
        _log(conn, box_id, box.image, name, "box-create", None, new, now)
    return int(box_id)


IMPORT_BATCH = 5_000  # rows per INSERT of a box import (all in one transaction)


class BoxCountError(BoxError):
    """An import would put more than the per-reviewer limit of boxes on an image; `rows` lists
    (row number, why) for each row past the limit."""

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(rows)} rows would pass the limit of boxes per reviewer and image.")
        self.rows = rows


_import_key = functools.lru_cache(maxsize=4096)(name_key)  # an import names few reviewers many times


def box_key(box: ReviewerBox) -> tuple:
    """What makes two boxes the same box (an import skips a row whose box the store has): image,
    reviewer (name key), finding, status, correction and the coordinates to two decimals."""
    return (box.image, _import_key(box.reviewer), box.finding, box.status, box.corrects or "",
            *(f"{v:.2f}" for v in (box.x, box.y, box.w, box.h)))


def import_boxes(store: Store, rows: list[tuple[int, ReviewerBox]], imported_by: str | None = None,
                 limit: int = MAX_BOXES_PER_IMAGE, progress: Callable[[int, int], None] | None = None,
                 dry_run: bool = False) -> list[bool]:
    """Write checked boxes (row number, box; `check_box` already passed, `created_at` the box's
    time or None for now) in one transaction; returns per row whether it was added (False: the
    store already had that box, or the reviewer's wrong mark of that NIH box).

    Refuses the whole import with `BoxCountError` when a reviewer would pass `limit` boxes on an
    image. `progress(written, to_write)` is called after each batch, inside the transaction.
    `dry_run`: the same answer (and refusal), read only, nothing written."""
    with store.reading() if dry_run else store.writing() as conn:
        return import_boxes_in(store, conn, rows, imported_by, limit, progress, dry_run)


def import_boxes_in(store: Store, conn: sa.Connection, rows: list[tuple[int, ReviewerBox]], imported_by: str | None = None,
                    limit: int = MAX_BOXES_PER_IMAGE, progress: Callable[[int, int], None] | None = None,
                    dry_run: bool = False) -> list[bool]:
    """`import_boxes` inside a transaction the caller opened (`store.writing()`; `reading()` for a
    dry run), so an import of boxes and reviews together (`store/sr.py`) commits once."""
    now = utc_now()
    if not store.is_sqlite and not dry_run:  # boxes drawn meanwhile wait (lock timeout) instead of slipping past the limit
        conn.execute(sa.text("LOCK TABLE boxes IN SHARE ROW EXCLUSIVE MODE"))
    ids = {key: rid for rid, key in conn.execute(sa.select(reviewers.c.id, reviewers.c.name_key))}
    names = dict(conn.execute(sa.select(reviewers.c.id, reviewers.c.name)).all())
    images = sorted({box.image for _, box in rows})
    query = sa.select(boxes, reviewers.c.name.label("reviewer")).join(reviewers, reviewers.c.id == boxes.c.reviewer_id)
    if len(images) <= 200:  # a few images: look them up; many: one pass over the table
        query = query.where(boxes.c.image.in_(images))
    have, counts, wrong_marks = set(), {}, set()
    for r in conn.execute(query).mappings():
        old = ReviewerBox(r["image"], r["reviewer"], r["finding"], r["x"], r["y"], r["w"], r["h"], r["frame_width"],
                          r["frame_height"], r["status"], r["corrects"])
        have.add(box_key(old))
        counts[(r["image"], r["reviewer_id"])] = counts.get((r["image"], r["reviewer_id"]), 0) + 1
        if r["status"] == "wrong":
            wrong_marks.add((r["image"], r["reviewer_id"], r["corrects"]))
    added, values, over = [], [], []
    for number, box in rows:
        key = _import_key(box.reviewer)
        if key not in ids and dry_run:  # a reviewer new to the store: a stand-in id, nothing written
            ids[key] = -len(ids) - 1
            names[ids[key]] = box.reviewer
        elif key not in ids:
            ids[key] = store.reviewer_id(conn, box.reviewer)
            names[ids[key]] = store.name_of(conn, ids[key])
        rid = ids[key]
        mark = (box.image, rid, box.corrects)
        if box_key(box) in have or (box.status == "wrong" and mark in wrong_marks):
            added.append(False)
            continue
        counts[(box.image, rid)] = counts.get((box.image, rid), 0) + 1
        if counts[(box.image, rid)] > limit:
            over.append((number, f"{names[rid]} would have more than {limit} boxes on {box.image} "
                                 f"(at most {limit} are kept per reviewer and image)"))
        have.add(box_key(box))
        if box.status == "wrong":
            wrong_marks.add(mark)
        at = box.created_at or now
        values.append({"image": box.image, "reviewer_id": rid, "finding": box.finding, "x": box.x, "y": box.y, "w": box.w,
                       "h": box.h, "frame_width": box.frame_width, "frame_height": box.frame_height, "status": box.status,
                       "corrects": box.corrects, "created_at": at, "updated_at": at})
        added.append(True)
    if over:
        raise BoxCountError(over)
    if dry_run:
        return added
    # SQLite: this transaction holds the write lock, so the ids after the largest are free (one
    # executemany per batch; RETURNING in parameter order would be one INSERT per row there).
    next_id = (conn.execute(sa.select(sa.func.max(boxes.c.id))).scalar() or 0) + 1 if store.is_sqlite else None
    insert = boxes.insert() if store.is_sqlite else boxes.insert().returning(boxes.c.id, sort_by_parameter_order=True)
    for start in range(0, len(values), IMPORT_BATCH):
        batch = values[start:start + IMPORT_BATCH]
        if store.is_sqlite:
            new_ids = list(range(next_id + start, next_id + start + len(batch)))
            conn.execute(insert, [{"id": i, **v} for i, v in zip(new_ids, batch)])
        else:
            new_ids = conn.execute(insert, batch).scalars().all()
        conn.execute(box_audit.insert(), [
            {"box_id": box_id, "image": v["image"], "reviewer": names[v["reviewer_id"]], "action": "box-create", "at": v["created_at"],
             "old_values": None, "new_values": json.dumps({**{k: v[k] for k in ("finding", *_COORDS, "status", "corrects")},
                                                           **({"imported_by": imported_by} if imported_by else {})})}
            for box_id, v in zip(new_ids, batch)])
        if progress is not None:
            progress(start + len(batch), len(values))
    return added


def _own(conn: sa.Connection, box_id: int, reviewer: str):
    row = conn.execute(sa.select(boxes, reviewers.c.name.label("reviewer"), reviewers.c.name_key)
                       .join(reviewers, reviewers.c.id == boxes.c.reviewer_id).where(boxes.c.id == box_id)).mappings().first()
    if row is None:
        raise BoxError(f"Box {box_id} no longer exists (deleted since the page was drawn?).")
    if row["name_key"] != name_key(reviewer):
        raise BoxError(f"Box {box_id} is {row['reviewer']}'s; you can only move or delete your own boxes.")
    return row


def move_box(store: Store, box_id: int, reviewer: str, x: float, y: float, w: float, h: float, at: str | None = None) -> list[str]:
    """Move or resize one of the reviewer's own boxes; returns messages (clipping). Logs old and new."""
    now = at or utc_now()
    with store.writing() as conn:
        row = _own(conn, box_id, reviewer)
        moved = ReviewerBox(row["image"], row["reviewer"], row["finding"], x, y, w, h, row["frame_width"], row["frame_height"],
                            row["status"], row["corrects"])
        moved, messages = check_box(moved)
        new = {**_values(row), "x": moved.x, "y": moved.y, "w": moved.w, "h": moved.h}
        conn.execute(boxes.update().where(boxes.c.id == box_id).values(updated_at=now, **{c: new[c] for c in _COORDS}))
        _log(conn, box_id, row["image"], row["reviewer"], "box-move", _values(row), new, now)
    return messages


def delete_box(store: Store, box_id: int, reviewer: str, at: str | None = None) -> None:
    """Delete one of the reviewer's own boxes; the log keeps what it was."""
    now = at or utc_now()
    with store.writing() as conn:
        row = _own(conn, box_id, reviewer)
        conn.execute(boxes.delete().where(boxes.c.id == box_id))
        _log(conn, box_id, row["image"], row["reviewer"], "box-delete", _values(row), None, now)


def list_boxes(store: Store, image: str | None = None, reviewer: str | None = None) -> list[ReviewerBox]:
    """Boxes, oldest first; of one image and/or one reviewer (matched by name key)."""
    with store.reading() as conn:
        return boxes_in(conn, image, reviewer)


def boxes_in(conn: sa.Connection, image: str | None = None, reviewer: str | None = None) -> list[ReviewerBox]:
    """`list_boxes` inside the caller's transaction (`team.under_review`'s one read)."""
    query = (sa.select(boxes, reviewers.c.name.label("reviewer")).join(reviewers, reviewers.c.id == boxes.c.reviewer_id)
             .order_by(boxes.c.created_at, boxes.c.id))
    if image is not None:
        query = query.where(boxes.c.image == image)
    if reviewer is not None:
        query = query.where(reviewers.c.name_key == name_key(reviewer))
    rows = conn.execute(query).mappings().all()
    return [ReviewerBox(r["image"], r["reviewer"], r["finding"], r["x"], r["y"], r["w"], r["h"], r["frame_width"], r["frame_height"],
                        r["status"], r["corrects"], r["id"], r["created_at"], r["updated_at"]) for r in rows]


def images_with_boxes(store: Store) -> set[str]:
    """Images on which any reviewer has a box (the Browse filter "has a reviewer box")."""
    with store.reading() as conn:
        return set(conn.execute(sa.select(boxes.c.image).distinct()).scalars())


def box_log(store: Store, image: str | None = None) -> list[dict]:
    """The box audit log, oldest first."""
    query = sa.select(box_audit).order_by(box_audit.c.id)
    if image is not None:
        query = query.where(box_audit.c.image == image)
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
