"""Alembic migrations: a store made by cxrviz 0.1.0 upgrades with every row intact, and the
migrated schema is exactly what `tables.py` declares."""

from __future__ import annotations

import shutil

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cxrviz.review.store import Store
from cxrviz.review.store.migrate import head_revision
from cxrviz.review.store.tables import metadata
from tests.conftest import REPO

RELEASE_0_1_0 = REPO / "tests" / "review" / "fixtures" / "store-0.1.0.sqlite"


def test_a_0_1_0_store_upgrades_keeping_every_review_and_audit_row(tmp_path):
    copy = tmp_path / "reviews.sqlite"
    shutil.copy(RELEASE_0_1_0, copy)
    raw = sa.create_engine(f"sqlite:///{copy}")
    with raw.connect() as conn:
        before_reviews = conn.execute(sa.text("SELECT * FROM reviews ORDER BY id")).all()
        before_audit = conn.execute(sa.text("SELECT * FROM audit_log ORDER BY id")).all()
        before_preds = conn.execute(sa.text("SELECT * FROM predictions")).all()
    raw.dispose()
    assert len(before_reviews) == 3 and len(before_audit) == 4

    store = Store(str(copy))
    assert store.migrate() == head_revision()
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id, image, reviewer_id, labels, status, note, model, probabilities, created_at, updated_at FROM reviews ORDER BY id")).all() == [tuple(r) for r in before_reviews]
        assert conn.execute(sa.text("SELECT * FROM audit_log ORDER BY id")).all() == before_audit
        assert conn.execute(sa.text("SELECT * FROM predictions")).all() == before_preds
    reviews = store.reviews()
    assert {(r.image, r.reviewer, tuple(r.labels)) for r in reviews} == {
        ("00000001_000.png", "dr alice", ("Cardiomegaly", "Effusion")),
        ("00000001_000.png", "dr bob", ("No Finding",)),
        ("00000003_000.png", "dr bob", ("Hernia",)),
    }
    # and the upgraded store keeps working
    store.save_review("00000003_000.png", "dr alice", ["Mass"], "corrected", "after upgrade")
    assert len(store.audit()) == 5


def test_the_migrated_schema_matches_the_declared_tables(target):
    store = Store(target)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"tables.py and migrations/versions disagree: {diff}"
