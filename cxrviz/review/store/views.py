"""When an image was shown to a reader, and when they were still active on it: with the saves in
the audit log, what each reader's throughput is computed from (`cxrviz.review.throughput`).

One small insert per event, stamped by the server's clock (`at`, or now): the Review page records
an image once per showing (not per rerun) and "active" at most once a minute, off the request's
path (`app/throughput_view.py`).
"""

from __future__ import annotations

import sqlalchemy as sa

from cxrviz.review import throughput
from cxrviz.review.identity import display_name, name_key
from cxrviz.review.record import utc_now
from cxrviz.review.store.core import Store, check_image_name
from cxrviz.review.store.tables import assignments, audit_log, image_views

SAVE_ACTIONS = ("create", "update")  # a reader's own saves; "import" is not time spent in the app


def record_view(store: Store, image: str, reader: str, kind: str = throughput.SHOWN, campaign_id: int | None = None,
                at: str | None = None) -> None:
    """Record that `image` was shown to `reader` (or that they were active on it) at `at` (now)."""
    check_image_name(image)
    if kind not in (throughput.SHOWN, throughput.ACTIVE):
        raise ValueError(f"unknown view kind {kind!r}")
    with store.writing() as conn:
        conn.execute(image_views.insert().values(image=image, reader=display_name(reader), reader_key=name_key(reader),
                                                 kind=kind, campaign_id=campaign_id, at=at or utc_now()))


def views(store: Store, reader: str | None = None) -> list[throughput.View]:
    """Every recorded view (of one reader), oldest first."""
    query = sa.select(image_views).order_by(image_views.c.at, image_views.c.id)
    if reader is not None:
        query = query.where(image_views.c.reader_key == name_key(reader))
    with store.reading() as conn:
        return [throughput.View(r["reader"], r["image"], r["at"], r["kind"], r["campaign_id"])
                for r in conn.execute(query).mappings()]


def saves(store: Store, reader: str | None = None) -> list[throughput.Save]:
    """Every save made in the app (audit log creates and updates), oldest first."""
    query = (sa.select(audit_log.c.reviewer, audit_log.c.image, audit_log.c.at)
             .where(audit_log.c.action.in_(SAVE_ACTIONS)).order_by(audit_log.c.at, audit_log.c.id))
    with store.reading() as conn:
        rows = conn.execute(query).all()
    key = name_key(reader) if reader is not None else None
    return [throughput.Save(who, image, at) for who, image, at in rows if key is None or name_key(who) == key]


def readings(store: Store) -> list[throughput.Reading]:
    """Every save with its time on the image and its campaign (`throughput.readings`)."""
    found = throughput.readings(views(store), saves(store))
    with store.reading() as conn:
        rows = conn.execute(sa.select(assignments.c.reader_key, assignments.c.image, assignments.c.campaign_id)).all()
    assigned: dict[tuple[str, str], set[int]] = {}
    for reader_key, image, campaign_id in rows:
        assigned.setdefault((reader_key, image), set()).add(int(campaign_id))
    return throughput.with_campaigns(found, assigned)


def seconds_on_image(store: Store) -> dict[tuple[str, str], float]:
    """(reader key, image) -> active seconds on it, for the corrections export; unknown ones absent."""
    return throughput.per_image_seconds(readings(store))
