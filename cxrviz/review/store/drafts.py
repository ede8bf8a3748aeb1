"""Unsaved review forms, one per (image, reader), so nothing typed is lost to a reload, a new tab or
a server restart.

The form writes its draft here as it changes; `Store.save_review` deletes it in the same transaction
as the save, so a draft never outlives the review it became. `base_updated_at` is the `updated_at` of
the reader's saved review the form started from: a draft whose base is no longer the saved review
was made on an older version and must not silently replace the newer save.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from cxrviz.errors import StoreError
from cxrviz.review.identity import display_name, name_key
from cxrviz.review.record import STATUSES, Labels, utc_now
from cxrviz.review.store.core import Store, check_image_name
from cxrviz.review.store.tables import drafts


@dataclass(frozen=True)
class StoredDraft:
    image: str
    reviewer: str
    labels: Labels
    status: str
    note: str
    base_updated_at: str | None
    updated_at: str


def save_draft(store: Store, image: str, reviewer: str, labels, status: str, note: str,
               base_updated_at: str | None) -> str:
    """Create or replace this reader's draft of the image; returns its `updated_at`."""
    display_name(reviewer)
    check_image_name(image)
    if status not in STATUSES:
        raise StoreError(f"Unknown status {status!r}; choose one of {', '.join(STATUSES)}.")
    now = utc_now()
    values = {"reviewer": display_name(reviewer), "labels": Labels(labels).text, "status": status,
              "note": note, "base_updated_at": base_updated_at, "updated_at": now}
    with store.writing() as conn:
        statement = store.dialect_insert()(drafts).values(image=image, reviewer_key=name_key(reviewer), **values)
        conn.execute(statement.on_conflict_do_update(index_elements=["image", "reviewer_key"], set_=values))
    return now


def load_draft(store: Store, image: str, reviewer: str) -> StoredDraft | None:
    """This reader's draft of the image, or None."""
    with store.reading() as conn:
        return draft_in(conn, image, reviewer)


def draft_in(conn: sa.Connection, image: str, reviewer: str) -> StoredDraft | None:
    """`load_draft` inside the caller's transaction (`team.under_review`'s one read)."""
    query = sa.select(drafts).where(drafts.c.image == image, drafts.c.reviewer_key == name_key(reviewer))
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    return StoredDraft(row["image"], row["reviewer"], Labels.parse(row["labels"]), row["status"], row["note"],
                       row["base_updated_at"], row["updated_at"])


def clear_draft(store: Store, image: str, reviewer: str) -> None:
    """Forget this reader's draft of the image (the form is back to what is saved)."""
    with store.writing() as conn:
        delete_draft(conn, image, reviewer)


def delete_draft(conn: sa.Connection, image: str, reviewer: str) -> None:
    """Inside the caller's transaction: `Store.save_review` clears the draft it saves."""
    conn.execute(sa.delete(drafts).where(drafts.c.image == image, drafts.c.reviewer_key == name_key(reviewer)))


def drafted_images(store: Store, reviewer: str) -> list[str]:
    """Images this reader has a stored draft of, the most recent first."""
    with store.reading() as conn:
        return drafted_images_in(conn, reviewer)


def drafted_images_in(conn: sa.Connection, reviewer: str) -> list[str]:
    """`drafted_images` inside the caller's transaction (`team.under_review`'s one read)."""
    query = (sa.select(drafts.c.image).where(drafts.c.reviewer_key == name_key(reviewer))
             .order_by(drafts.c.updated_at.desc()))
    return list(conn.execute(query).scalars())
