"""Reports in the store: every version of each reader's report on an image, and their audit log.

- The unsigned latest version is saved as it is edited (`save_text`, the autosave), so a reload or a
  server restart finds the text; each save is audited with the text before and after.
- `sign` signs one version in one transaction, with the text the reader signed; a second sign of
  the same version (another tab, a double click) is refused with a sentence, nothing changed.
- A signed row is never changed: `save_text` refuses it, and the database's own triggers (migration
  0010) refuse any UPDATE or DELETE of it, whoever sends it. A change is `start_new_version`.
- A reader's reports of a blind-campaign image reach another viewer only through the gate
  (`store/team.py`'s `visibility`), like their reviews: not before the viewer has read it.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from cxrviz.errors import StoreError
from cxrviz.findings import FINDINGS
from cxrviz.review import reports as rules
from cxrviz.review.identity import display_name, name_key
from cxrviz.review.record import utc_now
from cxrviz.review.reports import ReportError, ReportVersion
from cxrviz.review.store.core import ANY, Store, check_image_name
from cxrviz.review.store.errors import is_unique_violation
from cxrviz.review.store.tables import report_audit, reports

_ATTEMPTS = 3  # two first saves of one (image, reader) can race: retry, the second then edits the first


def _findings_text(findings) -> str:
    return "|".join(f for f in FINDINGS if f in set(findings or ()))


def _version_of(row) -> ReportVersion:
    return ReportVersion(image=row["image"], reviewer=row["reviewer"], version=row["version"], text=row["text"],
                         findings=tuple(f for f in row["findings"].split("|") if f), signed_by=row["signed_by"],
                         signed_at=row["signed_at"], created_at=row["created_at"], id=row["id"])


def _of(image: str, reader: str):
    return sa.and_(reports.c.image == image, reports.c.reviewer_key == name_key(reader))


def _latest_row(store: Store, conn: sa.Connection, image: str, reader: str):
    query = sa.select(reports).where(_of(image, reader)).order_by(reports.c.version.desc()).limit(1)
    if not store.is_sqlite:
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def _audit(conn: sa.Connection, report_id: int, image: str, reader: str, action: str, old: dict | None, new: dict | None,
           at: str) -> None:
    conn.execute(report_audit.insert().values(
        report_id=report_id, image=image, reviewer=reader, action=action, at=at,
        old_values=json.dumps(old) if old is not None else None, new_values=json.dumps(new) if new is not None else None))


def _retrying(write):
    for attempt in range(_ATTEMPTS):
        try:
            return write()
        except StoreError as exc:
            if not is_unique_violation(exc.__cause__) or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _stale(image: str, expected: int, found) -> ReportError:
    now = f"version {found['version']}" + (" (signed)" if found["signed_at"] else "") if found else "no report"
    return ReportError(f"The report on {image} changed in another tab or window since you opened it (it is now at {now}); "
                       "nothing was saved. Reload the page to see it.")


def versions(store: Store, image: str, reader: str) -> list[ReportVersion]:
    """Every version of this reader's report on the image, the first first."""
    with store.reading() as conn:
        return versions_in(conn, image, reader)


def versions_in(conn: sa.Connection, image: str, reader: str) -> list[ReportVersion]:
    """`versions` inside the caller's transaction (`team.under_review`'s one read)."""
    rows = conn.execute(sa.select(reports).where(_of(image, reader)).order_by(reports.c.version)).mappings().all()
    return [_version_of(r) for r in rows]


def latest(store: Store, image: str, reader: str) -> ReportVersion | None:
    found = versions(store, image, reader)
    return found[-1] if found else None


def latest_signed(store: Store, image: str, reader: str) -> ReportVersion | None:
    """The newest signed version of this reader's report on the image, or None."""
    return next((v for v in reversed(versions(store, image, reader)) if v.signed), None)


def save_text(store: Store, image: str, reader: str, text: str, findings=None, expected_version: int | None | object = ANY,
              action: str = "report-edit") -> ReportVersion:
    """Create version 1, or replace the text of the unsigned latest version (the autosave). A signed
    latest version is refused (start a new version); with `expected_version` (the version the page
    shows, None for "none yet"), a report that moved on meanwhile is refused and nothing written."""
    reader = display_name(reader)
    check_image_name(image)
    if len(text) > rules.MAX_REPORT_CHARS:
        rules.check_text(text)

    def write() -> ReportVersion:
        now = utc_now()
        with store.writing() as conn:
            old = _latest_row(store, conn, image, reader)
            if expected_version is not ANY and (old["version"] if old else None) != expected_version:
                raise _stale(image, expected_version, old)
            if old is None:
                values = {"text": text, "findings": _findings_text(findings)}
                report_id = conn.execute(reports.insert().values(
                    image=image, reviewer_key=name_key(reader), reviewer=reader, version=1, signed_by=None, signed_at=None,
                    created_at=now, updated_at=now, **values)).inserted_primary_key[0]
                _audit(conn, report_id, image, reader, "report-draft" if action == "report-draft" else "report-create", None, {"version": 1, **values}, now)
                row = conn.execute(sa.select(reports).where(reports.c.id == report_id)).mappings().one()
                return _version_of(row)
            current = _version_of(old)
            rules.edit(current, text)  # refuses a signed version
            values = {"text": text, "findings": old["findings"] if findings is None else _findings_text(findings)}
            if values == {"text": old["text"], "findings": old["findings"]}:
                return current
            conn.execute(reports.update().where(reports.c.id == old["id"], reports.c.signed_at.is_(None))
                         .values(updated_at=now, **values))
            _audit(conn, old["id"], image, reader, action, {"text": old["text"], "findings": old["findings"]},
                   {"version": old["version"], **values}, now)
            return _version_of({**old, **values})

    return _retrying(write)


def save_draft(store: Store, image: str, reader: str, draft: ReportVersion,
               expected_version: int | None | object = ANY) -> ReportVersion:
    """"Draft from my reading": the drafted text and findings into the unsigned latest version (or
    version 1). The text it replaces stays in the audit log."""
    return save_text(store, image, reader, draft.text, draft.findings, expected_version, action="report-draft")


def sign(store: Store, image: str, reader: str, version: int, text: str | None = None, at: str | None = None) -> ReportVersion:
    """The reader signs `version` of their report (with `text`, what their page shows, when given):
    one transaction, audited. A version signed already, or not the latest, is refused with a sentence."""
    reader = display_name(reader)
    now = at or utc_now()
    with store.writing() as conn:
        old = _latest_row(store, conn, image, reader)
        if old is None:
            raise ReportError(f"There is no report on {image} to sign yet: draft or write it first.")
        if old["version"] != version:
            raise _stale(image, version, old)
        signed = rules.sign(rules.edit(_version_of(old), old["text"] if text is None else text), reader, now)
        done = conn.execute(reports.update().where(reports.c.id == old["id"], reports.c.signed_at.is_(None))
                            .values(text=signed.text, signed_by=signed.signed_by, signed_at=signed.signed_at, updated_at=now))
        if done.rowcount != 1:  # cannot happen under the row lock; said rather than assumed
            raise ReportError(f"Version {version} of the report on {image} was signed meanwhile; nothing was changed.")
        _audit(conn, old["id"], image, reader, "report-sign", {"text": old["text"]} if signed.text != old["text"] else None,
               {"version": version, "signed_by": signed.signed_by, "signed_at": signed.signed_at}, now)
    return signed


def start_new_version(store: Store, image: str, reader: str, expected_version: int) -> ReportVersion:
    """The next version of a signed report, unsigned, starting from its text; every earlier version
    is kept as it was signed."""
    reader = display_name(reader)

    def write() -> ReportVersion:
        now = utc_now()
        with store.writing() as conn:
            old = _latest_row(store, conn, image, reader)
            if old is None or old["version"] != expected_version:
                raise _stale(image, expected_version, old)
            nxt = rules.new_version(_version_of(old))
            report_id = conn.execute(reports.insert().values(
                image=image, reviewer_key=name_key(reader), reviewer=old["reviewer"], version=nxt.version, text=nxt.text,
                findings=old["findings"], signed_by=None, signed_at=None, created_at=now, updated_at=now)).inserted_primary_key[0]
            _audit(conn, report_id, image, reader, "report-version", None, {"version": nxt.version, "from": old["version"]}, now)
            return _version_of(conn.execute(sa.select(reports).where(reports.c.id == report_id)).mappings().one())

    return _retrying(write)


def _all(store: Store, image: str | None, signed_only: bool) -> list[ReportVersion]:
    with store.reading() as conn:
        return all_in(conn, image, signed_only)


def all_in(conn: sa.Connection, image: str | None, signed_only: bool) -> list[ReportVersion]:
    """Every version (of one image, or all; signed ones only, or all), ungated: callers pass them
    through `Visibility.reports` in the same transaction (`team.under_review`)."""
    query = sa.select(reports).order_by(reports.c.image, reports.c.reviewer_key, reports.c.version)
    if image is not None:
        query = query.where(reports.c.image == image)
    if signed_only:
        query = query.where(reports.c.signed_at.is_not(None))
    return [_version_of(r) for r in conn.execute(query).mappings()]


def visible_reports(store: Store, viewer: str | None, image: str | None = None, signed_only: bool = False) -> list[ReportVersion]:
    """The report versions `viewer` may receive: their own, and others' except on blind-campaign
    images they may not see yet (the gate is read first, so a reading saved meanwhile can only
    leave the answer stricter)."""
    from cxrviz.review.store.team import visibility

    seen = visibility(store, viewer)
    return seen.reports(_all(store, image, signed_only))


def signed_reports(store: Store, viewer: str | None = None, operator: bool = False) -> list[ReportVersion]:
    """Every signed version, for export: all of them for the operator (the CLI without `--as`),
    else what `viewer` may receive."""
    if operator:
        return _all(store, None, True)
    return visible_reports(store, viewer, signed_only=True)


def report_log(store: Store, image: str | None = None) -> list[dict]:
    """The report audit log, oldest first."""
    query = sa.select(report_audit).order_by(report_audit.c.id)
    if image is not None:
        query = query.where(report_audit.c.image == image)
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
