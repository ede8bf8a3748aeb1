"""Schema migrations with alembic, run programmatically on an open connection."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
MIGRATION_LOCK = 0x63787276  # "cxrv": the PostgreSQL advisory-lock key taken while migrating


def _config(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def run_migrations(conn: sa.Connection) -> str:
    """Upgrade to head inside the caller's transaction; returns the revision reached."""
    config = _config(conn)
    tables = set(sa.inspect(conn).get_table_names())
    if "alembic_version" not in tables and "schema_version" in tables and "reviews" in tables:
        log.info("A cxrviz 0.1.0 store: stamping it at revision %s", BASELINE)
        command.stamp(config, BASELINE)  # a cxrviz 0.1.0 store: its tables are the baseline
    before = current_revision(conn)
    if before != head_revision():
        command.upgrade(config, "head")
        log.info("Review store upgraded from revision %s to %s", before, head_revision())
    return current_revision(conn)
