"""The review store: reviewers, their latest review per image, an append-only audit log, and the
batch-prediction cache. SQLAlchemy Core over SQLite (WAL, synchronous=FULL) or PostgreSQL.

A save is one transaction: the review row and its audit entry commit together or not at all,
and `save_review` returns only after the commit, so "saved" on the page means on disk.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError

from cxrviz.errors import StaleReviewError, StoreError
from cxrviz.findings import join_labels, split_labels
from cxrviz.review.record import STATUSES, Review, utc_now
from cxrviz.review.store.migrate import MIGRATION_LOCK, run_migrations
from cxrviz.review.store.tables import audit_log, predictions, reviewers, reviews

ANY = object()  # `save_review(expected_updated_at=ANY)`: no version check


def engine_url(target: str) -> str:
    """A SQLite path or a postgresql:// URL, as SQLAlchemy wants it."""
    if target.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    if "://" in target:
        return target
    return f"sqlite:///{Path(target).expanduser()}"


def _friendly(exc: Exception, where: str) -> StoreError:
    text = str(getattr(exc, "orig", exc))
    if "locked" in text or "busy" in text:
        return StoreError(f"The review database {where} is locked by another program; your form is kept, try Save again.")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"The review database {where} is read-only; your form is kept. Point CXRVIZ_DB at a writable file.")
    if "not a database" in text or "malformed" in text:
        return StoreError(f"The review database {where} is corrupt ({text}); your form is kept. Restore it from a backup or set CXRVIZ_DB to a new file.")
    return StoreError(f"The review database {where} failed: {text}. Your form is kept.")


class Store:
    """One database; safe to share between threads of one process and between processes."""

    def __init__(self, target: str) -> None:
        self.target = target
        url = engine_url(target)
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            local = url.removeprefix("sqlite:///")
            if local and not local.startswith("file:"):
                Path(local).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite's own BEGIN is deferred: take the write lock up front instead (serialises writers).
            event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True)
        self.migrate()

    @property
    def where(self) -> str:
        return self.target if self.is_sqlite else self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> str:
        """Bring the schema to the newest revision (alembic); returns that revision.

        Safe when many processes start at once: PostgreSQL serialises them on an advisory lock,
        SQLite on its write lock. A store made by cxrviz 0.1.0 (a `schema_version` table, no
        `alembic_version`) is stamped at the baseline first, keeping every row."""
        try:
            with self.engine.begin() as conn:
                if not self.is_sqlite:
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                return run_migrations(conn)
        except SQLAlchemyError as exc:
            raise _friendly(exc, self.where) from exc

    def _reviewer_id(self, conn: sa.Connection, name: str) -> int:
        found = conn.execute(sa.select(reviewers.c.id).where(reviewers.c.name == name)).scalar()
        if found is not None:
            return found
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        conn.execute(insert(reviewers).values(name=name, created_at=utc_now()).on_conflict_do_nothing())
        return conn.execute(sa.select(reviewers.c.id).where(reviewers.c.name == name)).scalar_one()

    def save_review(self, image: str, reviewer: str, labels: list[str] | tuple[str, ...], status: str, note: str = "",
                    model: str | None = None, probabilities: dict[str, float] | None = None, at: str | None = None,
                    expected_updated_at: str | None | object = ANY) -> int:
        """Create or update this reviewer's review of the image and log the change; returns its id.

        With `expected_updated_at` (the `updated_at` of the review the form was opened with, None
        for "there was none"), a review changed since then raises `StaleReviewError` and nothing is
        written: a stale form never overwrites a newer save silently."""
        reviewer = reviewer.strip()
        if not reviewer:
            raise StoreError("A reviewer name is required.")
        if status not in STATUSES:
            raise StoreError(f"Unknown status {status!r}; choose one of {', '.join(STATUSES)}.")
        label_text = join_labels(split_labels("|".join(labels)) if labels else [])
        now = at or utc_now()
        new = {"labels": label_text, "status": status, "note": note, "model": model,
               "probabilities": json.dumps(probabilities) if probabilities is not None else None}
        try:
            with self.engine.begin() as conn:
                reviewer_id = self._reviewer_id(conn, reviewer)
                query = sa.select(reviews).where(reviews.c.image == image, reviews.c.reviewer_id == reviewer_id)
                if not self.is_sqlite:
                    query = query.with_for_update()
                old = conn.execute(query).mappings().first()
                if expected_updated_at is not ANY and (old["updated_at"] if old else None) != expected_updated_at:
                    theirs = self._review_of(old, reviewer) if old else None
                    raise StaleReviewError(
                        f"{image} was saved as {reviewer} at {old['updated_at'] if old else '?'} since you opened it; "
                        "nothing was written. Keep theirs, keep yours, or merge.", theirs)
                if old is None:
                    review_id = conn.execute(
                        reviews.insert().values(image=image, reviewer_id=reviewer_id, created_at=now, updated_at=now, **new)
                    ).inserted_primary_key[0]
                    before = None
                else:
                    review_id = old["id"]
                    conn.execute(reviews.update().where(reviews.c.id == review_id).values(updated_at=now, **new))
                    before = json.dumps({k: old[k] for k in new})
                conn.execute(audit_log.insert().values(
                    review_id=review_id, image=image, reviewer=reviewer, action="create" if before is None else "update",
                    old_values=before, new_values=json.dumps(new), at=now,
                ))
            return int(review_id)
        except (OperationalError, DatabaseError, sqlite3.DatabaseError) as exc:
            raise _friendly(exc, self.where) from exc

    def restore_created_at(self, rows: list[tuple[str, str, str]]) -> None:
        """(image, reviewer, created_at): imported reviews keep their original creation time."""
        try:
            with self.engine.begin() as conn:
                for image, reviewer, created_at in rows:
                    ids = sa.select(reviewers.c.id).where(reviewers.c.name == reviewer).scalar_subquery()
                    conn.execute(reviews.update().where(reviews.c.image == image, reviews.c.reviewer_id == ids).values(created_at=created_at))
        except SQLAlchemyError as exc:
            raise _friendly(exc, self.where) from exc

    @staticmethod
    def _review_of(row, reviewer: str) -> Review:
        return Review(
            image=row["image"], reviewer=reviewer, labels=tuple(split_labels(row["labels"])), status=row["status"],
            note=row["note"], model=row["model"], probabilities=json.loads(row["probabilities"]) if row["probabilities"] else None,
            created_at=row["created_at"], updated_at=row["updated_at"],
        )

    def _select_reviews(self):
        return sa.select(reviews, reviewers.c.name.label("reviewer")).join(reviewers, reviewers.c.id == reviews.c.reviewer_id)

    def reviews(self, image: str | None = None) -> list[Review]:
        """Latest review of each (image, reviewer), oldest first."""
        query = self._select_reviews().order_by(reviews.c.updated_at, reviews.c.id)
        if image is not None:
            query = query.where(reviews.c.image == image)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except (OperationalError, DatabaseError, sqlite3.DatabaseError) as exc:
            raise _friendly(exc, self.where) from exc
        return [self._review_of(r, r["reviewer"]) for r in rows]

    def reviewed_images(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(reviews.c.image).distinct()).scalars())

    def audit(self, image: str | None = None) -> list[dict]:
        query = sa.select(audit_log).order_by(audit_log.c.id)
        if image is not None:
            query = query.where(audit_log.c.image == image)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # ---- batch-prediction cache ---------------------------------------------------------

    def cached_predictions(self, model: str, weights_sha256: str, images: list[str] | None = None) -> dict[str, list[float]]:
        query = sa.select(predictions.c.image, predictions.c.probabilities).where(
            predictions.c.model == model, predictions.c.weights_sha256 == weights_sha256)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        wanted = None if images is None else set(images)
        return {image: json.loads(p) for image, p in rows if wanted is None or image in wanted}

    def put_predictions(self, model: str, weights_sha256: str, rows: dict[str, list[float]]) -> None:
        if not rows:
            return
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        now = utc_now()
        values = [{"image": i, "model": model, "weights_sha256": weights_sha256, "probabilities": json.dumps([float(x) for x in p]), "created_at": now}
                  for i, p in rows.items()]
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(predictions).values(values).on_conflict_do_nothing())
        except SQLAlchemyError as exc:
            raise _friendly(exc, self.where) from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN IMMEDIATE
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()

