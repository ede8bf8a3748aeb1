"""Database failures classified by the driver's own error codes (SQLite's extended result codes,
PostgreSQL's SQLSTATE via psycopg), turned into `StoreError`s whose message says what happened,
that nothing was written, and what to do. Message text is never parsed."""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy.exc import SQLAlchemyError

from cxrviz.errors import StoreBusyError, StoreError, StoreUnavailableError

log = logging.getLogger(__name__)

# SQLite primary result codes (the low byte of an extended code): https://sqlite.org/rescode.html
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR = 5, 6, 8, 10
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_CONSTRAINT, SQLITE_NOTADB = 11, 13, 14, 19, 26
SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY = 2067, 1555

# Errors worth catching around a store call: SQLAlchemy's own and the raw drivers' (raised outside
# SQLAlchemy by pragmas run in a connect hook).
try:
    import psycopg

    DRIVER_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, sqlite3.Error, psycopg.Error)
except ImportError:  # PostgreSQL support not installed
    DRIVER_ERRORS = (SQLAlchemyError, sqlite3.Error)

KEPT = "Nothing was written and your form is kept"


def _driver_error(exc: BaseException) -> BaseException:
    return getattr(exc, "orig", None) or exc


def is_unique_violation(exc: BaseException) -> bool:
    """A duplicate key: two first saves of the same row raced; the caller may retry as an update."""
    orig = _driver_error(exc)
    if getattr(orig, "sqlite_errorcode", None) in (SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY):
        return True
    return getattr(orig, "sqlstate", None) == "23505"


def classify(exc: BaseException, where: str) -> StoreError:
    """The `StoreError` to raise for a driver or SQLAlchemy error on the database `where`."""
    orig = _driver_error(exc)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return _sqlite(code & 0xFF, getattr(orig, "sqlite_errorname", str(code)), where)
    if isinstance(orig, sqlite3.Error):  # no result code: an interface or programming error
        log.error("SQLite error without a result code on %s: %r", where, orig)
        return StoreUnavailableError(f"The review database {where} failed ({type(orig).__name__}). {KEPT}.")
    return _postgres(orig, getattr(orig, "sqlstate", None), where)


def _sqlite(primary: int, name: str, where: str) -> StoreError:
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return StoreBusyError(f"The review database {where} is locked by another program. {KEPT}; press Save again in a moment.")
    if primary == SQLITE_READONLY:
        return StoreUnavailableError(f"The review database {where} is read-only. {KEPT}. Point CXRVIZ_DB at a writable file.")
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return StoreUnavailableError(
            f"The review database {where} is not a valid SQLite database or is damaged ({name}). {KEPT}. "
            "Restore it from a backup or set CXRVIZ_DB to a new file.")
    if primary == SQLITE_FULL:
        return StoreUnavailableError(f"The disk holding the review database {where} is full. {KEPT}.")
    if primary in (SQLITE_CANTOPEN, SQLITE_IOERR):
        return StoreUnavailableError(
            f"The review database {where} cannot be opened or written ({name}): check that its folder exists and is writable. {KEPT}.")
    log.error("Unclassified SQLite error %s on %s", name, where)
    return StoreError(f"The review database {where} refused the operation ({name}). {KEPT}.")


def _postgres(orig: BaseException, sqlstate: str | None, where: str) -> StoreError:
    if sqlstate is None:
        # psycopg raises OperationalError without a SQLSTATE when the connection itself fails:
        # refused, unknown host, timed out, authentication, server gone mid-query.
        log.warning("Cannot reach the review database %s: %s", where, orig)
        return StoreUnavailableError(
            f"The review database {where} cannot be reached or did not answer in time. {KEPT}. "
            "Check that the server is running and CXRVIZ_DB is right, then try again.")
    if sqlstate in ("57014", "55P03", "40P01", "40001"):  # statement timeout, lock timeout, deadlock, serialization
        return StoreBusyError(f"The review database {where} is busy (SQLSTATE {sqlstate}). {KEPT}; press Save again in a moment.")
    if sqlstate.startswith("08") or sqlstate.startswith("57P"):  # connection exception, server shutting down
        return StoreUnavailableError(f"The connection to the review database {where} was lost (SQLSTATE {sqlstate}). {KEPT}; try again.")
    if sqlstate in ("25006", "42501") or sqlstate.startswith("28"):  # read-only transaction, privileges, auth
        return StoreUnavailableError(
            f"The review database {where} does not allow this user to write (SQLSTATE {sqlstate}). {KEPT}.")
    if sqlstate.startswith("53"):  # insufficient resources: disk full, out of memory, too many connections
        return StoreUnavailableError(f"The review database server {where} is out of resources (SQLSTATE {sqlstate}). {KEPT}.")
    if sqlstate.startswith(("22", "23")):  # data exception, integrity constraint
        return StoreError(f"The review database {where} refused the values (SQLSTATE {sqlstate}). {KEPT}.")
    log.error("Unclassified PostgreSQL error %s on %s: %s", sqlstate, where, orig)
    return StoreError(f"The review database {where} failed (SQLSTATE {sqlstate}). {KEPT}.")
