"""The review store: reviewers, their latest review per image, an append-only audit log, and the
batch-prediction cache. SQLAlchemy Core over SQLite (WAL, synchronous=FULL) or PostgreSQL.

A save is one transaction: the review row and its audit entry commit together or not at all,
and `save_review` returns only after the commit, so "saved" on the page means on disk. Reads
never take a write lock; a write waits at most `timeout` seconds for another writer (SQLite's
busy timeout, PostgreSQL's lock and statement timeouts) and then raises `StoreBusyError`.
Every public method raises only `StoreError` subclasses (or `ReviewerNameError` for a bad name).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from cxrviz.errors import StaleReviewError, StoreError, StoreUnavailableError
from cxrviz.findings import join_labels
from cxrviz.review.identity import display_name, name_key
from cxrviz.review.record import STATUSES, Labels, Review, utc_now
from cxrviz.review.store.errors import DRIVER_ERRORS, classify, is_unique_violation
from cxrviz.review.store.migrate import MIGRATION_LOCK, run_migrations
from cxrviz.review.store.tables import audit_log, drafts, predictions, reviewers, reviews

log = logging.getLogger(__name__)

ANY = object()  # `save_review(expected_updated_at=ANY)`: no version check
DEFAULT_TIMEOUT_S = 5.0
_WRITE = "cxrviz_write"  # execution option marking a connection that will write
_SAVE_ATTEMPTS = 3  # two first saves of one (image, reviewer) can race on PostgreSQL: retry as an update


def engine_url(target: str) -> str:
    """A SQLite path or a postgresql:// URL, as SQLAlchemy wants it; anything else is refused."""
    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    if scheme in ("postgresql+psycopg", "sqlite"):
        return target
    if scheme:
        raise StoreError(
            f"CXRVIZ_DB is a {scheme}:// URL; cxrviz stores reviews in a SQLite file (give its path) "
            "or PostgreSQL (a postgresql://user@host/db URL).")
    return f"sqlite:///{Path(target).expanduser()}"


MAX_IMAGE_NAME = 64  # the column's width (a SOP Instance UID is up to 64): PostgreSQL refuses longer, SQLite would accept it


def check_image_name(image: str) -> None:
    """Refuse, on SQLite as on PostgreSQL, an image name the store cannot hold faithfully."""
    if not image or not image.strip():
        raise StoreError("An image name is required.")
    if len(image) > MAX_IMAGE_NAME or any(ord(c) < 32 or ord(c) == 127 for c in image):
        raise StoreError(f"{image[:60]!r} is not an image name the review store accepts "
                         f"(at most {MAX_IMAGE_NAME} characters, no control characters).")


class Store:
    """One database; safe to share between threads of one process and between processes."""

    def __init__(self, target: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.target = target
        self.timeout = float(timeout)
        url = engine_url(target)
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            local = url.removeprefix("sqlite:///")
            if local and not local.startswith("file:") and local != ":memory:":
                folder = Path(local).parent
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreUnavailableError(
                        f"The folder {folder} for the review database cannot be created ({exc.strerror}). "
                        "Set CXRVIZ_DB to a file in a writable folder.") from exc
            self.engine = sa.create_engine(url, connect_args={"timeout": self.timeout, "check_same_thread": False})
            event.listen(self.engine, "connect", self._sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            ms = int(self.timeout * 1000)
            self.engine = sa.create_engine(url, pool_pre_ping=True, connect_args={
                "connect_timeout": max(1, round(self.timeout)),
                "options": f"-c statement_timeout={ms} -c lock_timeout={ms} -c idle_in_transaction_session_timeout={10 * ms}",
            })
        self.migrate()

    @property
    def where(self) -> str:
        return self.target if self.is_sqlite else self.engine.url.render_as_string(hide_password=True)

    # ---- transactions: the public API of the store's own modules -------------------------
    # `reading()` / `writing()` and the helpers below are what `review/store/*.py` (team, boxes,
    # quizzes, drafts, settings, oof) build on; no module outside `review/store/` calls them
    # (`tests/test_layers.py`): the rest of cxrviz asks those modules or `Store`'s methods.

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A read transaction: a snapshot (WAL) that neither waits for nor blocks writers."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except DRIVER_ERRORS as exc:
            raise classify(exc, self.where) from exc

    @contextmanager
    def writing(self) -> Iterator[sa.Connection]:
        """A write transaction that takes SQLite's write lock up front (BEGIN IMMEDIATE), so two
        writers queue on the busy timeout instead of failing half-way; commits on success."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    yield conn
        except DRIVER_ERRORS as exc:
            raise classify(exc, self.where) from exc

    def migrate(self) -> str:
        """Bring the schema to the newest revision (alembic); returns that revision.

        Safe when many processes start at once: PostgreSQL serialises them on an advisory lock,
        SQLite on its write lock. A store made by cxrviz 0.1.0 (a `schema_version` table, no
        `alembic_version`) is stamped at the baseline first, keeping every row."""
        with self.writing() as conn:
            if not self.is_sqlite:
                conn.execute(sa.text("SET LOCAL statement_timeout = '120s'"))  # others wait for the first migrator
                conn.execute(sa.text("SET LOCAL lock_timeout = '120s'"))
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            return run_migrations(conn)

    # ---- reviews ------------------------------------------------------------------------

    def dialect_insert(self):
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        return insert

    def reviewer_id(self, conn: sa.Connection, name: str) -> int:
        """The reviewer whose name matches `name` (case, width and spacing aside); created on first use."""
        key = name_key(name)
        found = conn.execute(sa.select(reviewers.c.id).where(reviewers.c.name_key == key)).scalar()
        if found is not None:
            return found
        conn.execute(self.dialect_insert()(reviewers).values(name=display_name(name), name_key=key, created_at=utc_now())
                     .on_conflict_do_nothing())
        return conn.execute(sa.select(reviewers.c.id).where(reviewers.c.name_key == key)).scalar_one()

    def save_review(self, image: str, reviewer: str, labels: list[str] | tuple[str, ...], status: str, note: str = "",
                    model: str | None = None, probabilities: dict[str, float] | None = None, at: str | None = None,
                    expected_updated_at: str | None | object = ANY) -> int:
        """Create or update this reviewer's review of the image and log the change; returns its id.

        With `expected_updated_at` (the `updated_at` of the review the form was opened with, None
        for "there was none"), a review changed since then raises `StaleReviewError` and nothing is
        written: a stale form never overwrites a newer save silently."""
        display_name(reviewer)  # refuse a bad name before touching the database
        check_image_name(image)
        if status not in STATUSES:
            raise StoreError(f"Unknown status {status!r}; choose one of {', '.join(STATUSES)}.")
        _seen_before_save()  # import it now: the first import must not run inside the write lock (seconds under load)
        label_text = Labels(labels).text  # one type from the form: no join, split and join again
        new = {"labels": label_text, "status": status, "note": note, "model": model,
               "probabilities": json.dumps(probabilities) if probabilities is not None else None}
        for attempt in range(_SAVE_ATTEMPTS):
            try:
                return self._save_once(image, reviewer, new, at or utc_now(), expected_updated_at)
            except StoreError as exc:
                if not is_unique_violation(exc.__cause__) or attempt == _SAVE_ATTEMPTS - 1:
                    raise
                log.info("Concurrent first save of %s by %s; retrying as an update", image, reviewer)
        raise AssertionError("unreachable")

    def _save_once(self, image: str, reviewer: str, new: dict, now: str, expected_updated_at) -> int:
        with self.writing() as conn:
            reviewer_id = self.reviewer_id(conn, reviewer)
            query = sa.select(reviews).where(reviews.c.image == image, reviews.c.reviewer_id == reviewer_id)
            if not self.is_sqlite:
                query = query.with_for_update()
            old = conn.execute(query).mappings().first()
            if expected_updated_at is not ANY and (old["updated_at"] if old else None) != expected_updated_at:
                theirs = self.review_of(old, self.name_of(conn, reviewer_id)) if old else None
                raise StaleReviewError(
                    f"{image} was saved by {theirs.reviewer if theirs else reviewer} at {old['updated_at'] if old else '?'} "
                    "since you opened it; nothing was written. Keep theirs, keep yours, or merge.", theirs)
            seen = _seen_before_save()(conn, image, self.name_of(conn, reviewer_id), old["id"] if old else None)
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
                review_id=review_id, image=image, reviewer=self.name_of(conn, reviewer_id),
                action="create" if before is None else "update", old_values=before, new_values=json.dumps({**new, **seen}), at=now,
            ))
            # the form's draft became this review: gone in the same commit (`store/drafts.py`)
            conn.execute(sa.delete(drafts).where(drafts.c.image == image, drafts.c.reviewer_key == name_key(reviewer)))
        return int(review_id)

    @staticmethod
    def name_of(conn: sa.Connection, reviewer_id: int) -> str:
        return conn.execute(sa.select(reviewers.c.name).where(reviewers.c.id == reviewer_id)).scalar_one()

    def restore_created_at(self, rows: list[tuple[str, str, str]]) -> None:
        """(image, reviewer, created_at): imported reviews keep their original creation time."""
        with self.writing() as conn:
            for image, reviewer, created_at in rows:
                ids = sa.select(reviewers.c.id).where(reviewers.c.name_key == name_key(reviewer)).scalar_subquery()
                conn.execute(reviews.update().where(reviews.c.image == image, reviews.c.reviewer_id == ids).values(created_at=created_at))

    @staticmethod
    def review_of(row, reviewer: str) -> Review:
        return Review(
            image=row["image"], reviewer=reviewer, labels=Labels.parse(row["labels"]), status=row["status"],
            note=row["note"], model=row["model"], probabilities=json.loads(row["probabilities"]) if row["probabilities"] else None,
            created_at=row["created_at"], updated_at=row["updated_at"],
        )

    def select_reviews(self):
        return sa.select(reviews, reviewers.c.name.label("reviewer")).join(reviewers, reviewers.c.id == reviews.c.reviewer_id)

    def reviews(self, image: str | None = None) -> list[Review]:
        """Latest review of each (image, reviewer), oldest first."""
        query = self.select_reviews().order_by(reviews.c.updated_at, reviews.c.id)
        if image is not None:
            query = query.where(reviews.c.image == image)
        with self.reading() as conn:
            rows = conn.execute(query).mappings().all()
        return [self.review_of(r, r["reviewer"]) for r in rows]

    def reviewed_images(self, reviewer: str | None = None) -> set[str]:
        """Images reviewed by anyone, or by the reviewer whose name matches `reviewer`."""
        with self.reading() as conn:
            return self.reviewed_images_in(conn, reviewer)

    @staticmethod
    def reviewed_images_in(conn: sa.Connection, reviewer: str | None = None) -> set[str]:
        """`reviewed_images` inside the caller's transaction (`team.under_review`'s one read)."""
        query = sa.select(reviews.c.image).distinct()
        if reviewer is not None:
            query = query.join(reviewers, reviewers.c.id == reviews.c.reviewer_id).where(reviewers.c.name_key == name_key(reviewer))
        return set(conn.execute(query).scalars())

    def audit(self, image: str | None = None) -> list[dict]:
        """The audit log, oldest first: every create and update with old and new values."""
        query = sa.select(audit_log).order_by(audit_log.c.id)
        if image is not None:
            query = query.where(audit_log.c.image == image)
        with self.reading() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # ---- batch-prediction cache ---------------------------------------------------------

    def cached_predictions(self, model: str, weights_sha256: str, images: list[str] | None = None) -> dict[str, list[float]]:
        query = sa.select(predictions.c.image, predictions.c.probabilities).where(
            predictions.c.model == model, predictions.c.weights_sha256 == weights_sha256)
        with self.reading() as conn:
            rows = conn.execute(query).all()
        wanted = None if images is None else set(images)
        return {image: json.loads(p) for image, p in rows if wanted is None or image in wanted}

    def put_predictions(self, model: str, weights_sha256: str, rows: dict[str, list[float]]) -> None:
        if not rows:
            return
        now = utc_now()
        values = [{"image": i, "model": model, "weights_sha256": weights_sha256, "probabilities": json.dumps([float(x) for x in p]), "created_at": now}
                  for i, p in rows.items()]
        with self.writing() as conn:
            conn.execute(self.dialect_insert()(predictions).values(values).on_conflict_do_nothing())

    def dispose(self) -> None:
        """Close pooled connections (tests, and before a process forks)."""
        self.engine.dispose()

    def _sqlite_pragmas(self, dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun by `_sqlite_begin`
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    # ---- import ---------------------------------------------------------------------------

    def import_reviews(self, rows: list[Review], imported_by: str, replace_newer: bool = False,
                       dry_run: bool = False) -> list[str]:
        """Write reviews read from a file, all in one transaction or none; returns each row's outcome
        (`IMPORT_NEW`, `IMPORT_UPDATED`, `IMPORT_SKIPPED_OLDER`, `IMPORT_UNCHANGED`).

        A row never replaces the store's review of the same (image, reviewer) made at the same time
        or later, unless `replace_newer`; an identical row writes nothing. Every change is audited
        with action "import" and `imported_by` in its new values; `created_at` comes from the row
        (the earlier of the two for an update). `dry_run` reads only and writes nothing. The caller
        validates the rows (`cxrviz.review.imports`); this refuses only what would corrupt the store."""
        importer = display_name(imported_by)
        keys = [name_key(r.reviewer) for r in rows]
        _check_imports(rows, keys)
        if dry_run:
            with self.reading() as conn:
                return [outcome for outcome, _, _ in _import_plan(conn, rows, keys, replace_newer)[1]]
        with self.writing() as conn:
            plan = self._write_imports(conn, rows, keys, importer, replace_newer)
        counts = {o: sum(1 for p in plan if p[0] == o) for o in (IMPORT_NEW, IMPORT_UPDATED, IMPORT_SKIPPED_OLDER, IMPORT_UNCHANGED)}
        log.info("Imported %d reviews into %s by %s: %s", len(rows), self.where, importer, counts)
        return [outcome for outcome, _, _ in plan]

    def import_reviews_in(self, conn: sa.Connection, rows: list[Review], imported_by: str,
                          replace_newer: bool = False) -> list[str]:
        """`import_reviews` inside a write transaction the caller opened (`self.writing()`), so the
        store's own modules can import reviews and boxes in one commit (`store/sr.py`)."""
        importer = display_name(imported_by)
        keys = [name_key(r.reviewer) for r in rows]
        _check_imports(rows, keys)
        return [outcome for outcome, _, _ in self._write_imports(conn, rows, keys, importer, replace_newer)]

    def _write_imports(self, conn: sa.Connection, rows: list[Review], keys: list[str], importer: str,
                       replace_newer: bool) -> list[tuple]:
        now = utc_now()
        if not self.is_sqlite:  # saves made meanwhile wait (lock timeout) instead of being overwritten by a stale plan
            conn.execute(sa.text("LOCK TABLE reviews IN SHARE ROW EXCLUSIVE MODE"))
        reviewer_ids, plan = _import_plan(conn, rows, keys, replace_newer)
        names = dict(conn.execute(sa.select(reviewers.c.id, reviewers.c.name)).all())
        audits = []
        for review, key, (outcome, old, new) in zip(rows, keys, plan):
            if outcome == IMPORT_NEW:
                if key not in reviewer_ids:
                    reviewer_ids[key] = self.reviewer_id(conn, review.reviewer)
                    names[reviewer_ids[key]] = self.name_of(conn, reviewer_ids[key])
                rid = reviewer_ids[key]
                review_id = conn.execute(reviews.insert().values(image=review.image, reviewer_id=rid, **new)).inserted_primary_key[0]
                before = None
            elif outcome == IMPORT_UPDATED:
                rid, review_id = old["reviewer_id"], old["id"]
                conn.execute(reviews.update().where(reviews.c.id == review_id).values(**new))
                before = json.dumps({k: old[k] for k in new})
            else:
                continue
            audits.append({"review_id": review_id, "image": review.image, "reviewer": names[rid], "action": "import",
                           "old_values": before, "new_values": json.dumps({**new, "imported_by": importer}), "at": now})
        if audits:
            conn.execute(audit_log.insert(), audits)
        return plan


def _check_imports(rows: list[Review], keys: list[str]) -> None:
    for review in rows:
        if review.status not in STATUSES:
            raise StoreError(f"Unknown status {review.status!r} for {review.image}; nothing was imported.")
        if review.created_at > review.updated_at:
            raise StoreError(f"{review.image}: created after it was last updated; nothing was imported.")
    if len(set(zip((r.image for r in rows), keys))) != len(rows):
        raise StoreError("The same image and reviewer appear twice in one import; nothing was imported.")


def _seen_before_save():
    """`team.seen_before_save` (whether this save comes after others' blind readings were visible),
    imported late because team builds on this module."""
    from cxrviz.review.store.team import seen_before_save

    return seen_before_save


def _sqlite_begin(conn: sa.Connection) -> None:
    # pysqlite's own BEGIN is deferred; a writer takes the write lock up front instead (writers queue
    # on the busy timeout), a reader begins deferred and never blocks anyone under WAL.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


# Outcomes of `Store.import_reviews`, one per imported row.
IMPORT_NEW, IMPORT_UPDATED, IMPORT_SKIPPED_OLDER, IMPORT_UNCHANGED = "new", "updated", "skipped-older", "unchanged"
_IMPORT_LOOKUP = 200  # an import naming more images than this reads the whole reviews table once
_CONTENT = ("labels", "status", "note", "model", "probabilities")


def _import_values(review: Review) -> dict:
    return {"labels": join_labels(list(review.labels)), "status": review.status, "note": review.note, "model": review.model,
            "probabilities": json.dumps(review.probabilities) if review.probabilities is not None else None}


def _same_content(old, new: dict) -> bool:
    def probs(text):
        return json.loads(text) if text else None
    return all(old[k] == new[k] for k in _CONTENT if k != "probabilities") and probs(old["probabilities"]) == probs(new["probabilities"])


def _import_plan(conn: sa.Connection, rows: list[Review], keys: list[str], replace_newer: bool) -> tuple[dict, list[tuple]]:
    """Reviewer key -> id, and per row (outcome, old row or None, new values) against the store as it is now."""
    reviewer_ids = {key: rid for rid, key in conn.execute(sa.select(reviewers.c.id, reviewers.c.name_key))}
    images = sorted({r.image for r in rows})
    # A few images: look them up; many: one pass over the table (long IN lists are slow on PostgreSQL).
    query = sa.select(reviews) if len(images) > _IMPORT_LOOKUP else sa.select(reviews).where(reviews.c.image.in_(images))
    existing = {(row["image"], row["reviewer_id"]): row for row in conn.execute(query).mappings()}
    plan = []
    for review, key in zip(rows, keys):
        new = _import_values(review)
        old = existing.get((review.image, reviewer_ids.get(key)))
        if old is None:
            plan.append((IMPORT_NEW, None, {**new, "created_at": review.created_at, "updated_at": review.updated_at}))
            continue
        new.update(created_at=min(old["created_at"], review.created_at), updated_at=review.updated_at)
        if _same_content(old, new) and old["updated_at"] == new["updated_at"] and old["created_at"] == new["created_at"]:
            plan.append((IMPORT_UNCHANGED, old, new))
        elif review.updated_at <= old["updated_at"] and not replace_newer:
            plan.append((IMPORT_SKIPPED_OLDER, old, new))
        else:
            plan.append((IMPORT_UPDATED, old, new))
    return reviewer_ids, plan
