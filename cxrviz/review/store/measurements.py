"""Measurements in the store: add, delete (own only), list per image and reader, all for the
export, and the measurement audit log.

Like boxes (`store/boxes.py`), every change is one transaction with its `measurement_audit` entry
(measure-create / measure-delete, the measurement as JSON), and the rules are checked again here
(`measurements.check_measurement`), so nothing outside the image or without length is stored.
Other readers' measurements reach a page only through `store/team.py`'s `visible_measurements`.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from cxrviz.review.identity import display_name, name_key
from cxrviz.review.measurements import Measurement, MeasurementError, check_measurement
from cxrviz.review.record import utc_now
from cxrviz.review.store.core import Store, check_image_name
from cxrviz.review.store.tables import measurement_audit, measurements, reviewers

MAX_MEASUREMENTS_PER_IMAGE = 50  # per reader and image


def _values(m: Measurement) -> dict:
    return {"kind": m.kind, "points": [list(p) for p in m.points], "frame_width": m.frame_width, "frame_height": m.frame_height,
            "spacing_mm": list(m.spacing_mm) if m.spacing_mm else None, "view": m.view, "value": m.value, "unit": m.unit}


def _log(conn: sa.Connection, measurement_id: int, image: str, reviewer: str, action: str, old: dict | None, new: dict | None,
         at: str) -> None:
    conn.execute(measurement_audit.insert().values(
        measurement_id=measurement_id, image=image, reviewer=reviewer, action=action, at=at,
        old_values=json.dumps(old) if old is not None else None, new_values=json.dumps(new) if new is not None else None))


def _record(row) -> Measurement:
    spacing = (row["spacing_x"], row["spacing_y"]) if row["spacing_x"] is not None and row["spacing_y"] is not None else None
    return Measurement(row["image"], row["reviewer"], row["kind"], tuple(tuple(p) for p in json.loads(row["points"])),
                       row["frame_width"], row["frame_height"], spacing, row["view"], row["id"], row["created_at"], row["updated_at"])


def add_measurement(store: Store, measurement: Measurement, at: str | None = None, limit: int = MAX_MEASUREMENTS_PER_IMAGE) -> int:
    """Keep a new measurement (checked again here); returns its id. Refuses (MeasurementError) past
    `limit` of this reader's measurements on the image."""
    with store.writing() as conn:
        return add_measurement_in(store, conn, measurement, at or utc_now(), limit)


def add_measurement_in(store: Store, conn: sa.Connection, measurement: Measurement, now: str,
                       limit: int = MAX_MEASUREMENTS_PER_IMAGE) -> int:
    """`add_measurement` inside the caller's transaction (an SR import writes its reviews, boxes and
    measurements together)."""
    display_name(measurement.reviewer)
    check_image_name(measurement.image)
    m = check_measurement(measurement)
    reviewer_id = store.reviewer_id(conn, m.reviewer)
    if not store.is_sqlite:  # one writer per reader at a time, so two tabs cannot both pass the limit
        conn.execute(sa.select(reviewers.c.id).where(reviewers.c.id == reviewer_id).with_for_update())
    count = conn.execute(sa.select(sa.func.count()).select_from(measurements)
                         .where(measurements.c.image == m.image, measurements.c.reviewer_id == reviewer_id)).scalar_one()
    if count >= limit:
        raise MeasurementError(f"You already have {count} measurements on {m.image} (at most {limit} are kept per reader "
                               "and image); delete one first.")
    spacing = m.spacing_mm or (None, None)
    measurement_id = conn.execute(measurements.insert().values(
        image=m.image, reviewer_id=reviewer_id, kind=m.kind, points=json.dumps([list(p) for p in m.points]),
        frame_width=m.frame_width, frame_height=m.frame_height, spacing_x=spacing[0], spacing_y=spacing[1], view=m.view,
        created_at=now, updated_at=now)).inserted_primary_key[0]
    _log(conn, measurement_id, m.image, store.name_of(conn, reviewer_id), "measure-create", None, _values(m), now)
    return int(measurement_id)


def _same(m: Measurement) -> tuple:
    """What makes two measurements of one reader the same one (an SR imported twice): kind and points
    to a tenth of a pixel."""
    return (m.image, name_key(m.reviewer), m.kind, tuple((round(x, 1), round(y, 1)) for x, y in m.points))


def import_measurements_in(store: Store, conn: sa.Connection, found: list[Measurement], imported_by: str,
                           dry_run: bool = False) -> list[bool]:
    """Measurements read from SRs, inside the import's transaction; each is added unless the reader
    already has the same one (returns added or not, per measurement). Nothing is written on `dry_run`."""
    images = sorted({m.image for m in found})
    query = _query().where(measurements.c.image.in_(images)) if images else None
    have = {_same(_record(r)) for r in conn.execute(query).mappings()} if query is not None else set()
    now, added = utc_now(), []
    for m in found:
        key = _same(m)
        if key in have:
            added.append(False)
            continue
        have.add(key)
        if not dry_run:
            add_measurement_in(store, conn, m, m.created_at or now)
        added.append(True)
    return added


def delete_measurement(store: Store, measurement_id: int, reviewer: str, at: str | None = None) -> None:
    """Delete one of the reader's own measurements; the log keeps what it was."""
    now = at or utc_now()
    with store.writing() as conn:
        row = conn.execute(_query().where(measurements.c.id == measurement_id)).mappings().first()
        if row is None:
            raise MeasurementError(f"Measurement {measurement_id} no longer exists (deleted since the page was drawn?).")
        if name_key(row["reviewer"]) != name_key(reviewer):
            raise MeasurementError(f"Measurement {measurement_id} is {row['reviewer']}'s; you can only delete your own.")
        conn.execute(measurements.delete().where(measurements.c.id == measurement_id))
        _log(conn, measurement_id, row["image"], row["reviewer"], "measure-delete", _values(_record(row)), None, now)


def _query():
    return (sa.select(measurements, reviewers.c.name.label("reviewer")).join(reviewers, reviewers.c.id == measurements.c.reviewer_id)
            .order_by(measurements.c.created_at, measurements.c.id))


def list_measurements(store: Store, image: str | None = None, reviewer: str | None = None) -> list[Measurement]:
    """Measurements, oldest first; of one image and/or one reader (matched by name key); with
    neither, every measurement in the store (the export)."""
    with store.reading() as conn:
        return measurements_in(conn, image, reviewer)


def measurements_in(conn: sa.Connection, image: str | None = None, reviewer: str | None = None) -> list[Measurement]:
    """`list_measurements` inside the caller's transaction (`team.under_review`'s one read)."""
    query = _query()
    if image is not None:
        query = query.where(measurements.c.image == image)
    if reviewer is not None:
        query = query.where(reviewers.c.name_key == name_key(reviewer))
    return [_record(r) for r in conn.execute(query).mappings()]


def measurement_log(store: Store, image: str | None = None) -> list[dict]:
    """The measurement audit log, oldest first."""
    query = sa.select(measurement_audit).order_by(measurement_audit.c.id)
    if image is not None:
        query = query.where(measurement_audit.c.image == image)
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
