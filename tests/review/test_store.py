import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from cxrviz.errors import StoreError
from cxrviz.review.store import Store
from tests.conftest import REPO


def test_save_update_and_audit(target):
    store = Store(target)
    store.save_review("00000001_000.png", "ann", ["Mass", "Effusion"], "corrected", "first")
    store.save_review("00000001_000.png", "ann", ["Effusion"], "corrected", "second")
    store.save_review("00000001_000.png", "bob", [], "confirmed")
    reviews = store.reviews("00000001_000.png")
    assert [(r.reviewer, r.labels, r.note) for r in reviews] == [("ann", ("Effusion",), "second"), ("bob", ("No Finding",), "")]
    audit = store.audit("00000001_000.png")
    assert [a["action"] for a in audit] == ["create", "update", "create"]
    assert '"Effusion|Mass"' in audit[1]["old_values"] and '"second"' in audit[1]["new_values"]
    assert reviews[0].updated_at.endswith("Z") and reviews[0].created_at < reviews[0].updated_at


def test_migrations_are_versioned_and_idempotent(target):
    from cxrviz.review.store.migrate import head_revision

    first = Store(target)
    assert first.migrate() == head_revision()
    assert Store(target).migrate() == head_revision()


def test_prediction_cache(target):
    store = Store(target)
    store.put_predictions("m", "sha", {"a.png": [0.5] * 14})
    store.put_predictions("m", "sha", {"a.png": [0.9] * 14, "b.png": [0.1] * 14})  # first result kept
    cached = store.cached_predictions("m", "sha")
    assert cached["a.png"][0] == 0.5 and set(cached) == {"a.png", "b.png"}
    assert store.cached_predictions("m", "other-sha") == {}


def test_bad_input_is_refused(target):
    store = Store(target)
    with pytest.raises(StoreError, match="reviewer name is required"):
        store.save_review("x.png", "  ", [], "confirmed")
    with pytest.raises(StoreError, match="Unknown status"):
        store.save_review("x.png", "ann", [], "maybe")


def test_two_processes_save_500_each(target):
    Store(target)  # schema first, so the workers only write
    workers = [subprocess.Popen([sys.executable, "-m", "tests.review.store_worker", target, who, "500"], cwd=REPO) for who in ("ann", "bob")]
    assert [w.wait(timeout=300) for w in workers] == [0, 0]
    reviews = Store(target).reviews()
    assert len(reviews) == 1000
    assert {r.reviewer for r in reviews} == {"ann", "bob"}
    assert len(Store(target).audit()) == 1000


def test_sigkill_right_after_save_loses_nothing(target):
    worker = subprocess.Popen([sys.executable, "-m", "tests.review.store_worker", target, "kim", "1"], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "saved"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    reviews = Store(target).reviews()
    assert [(r.image, r.reviewer, r.note) for r in reviews] == [("00000000_000.png", "kim", "note 0")]


def test_locked_database_gives_a_clear_message(tmp_path):
    path = tmp_path / "locked.sqlite"
    store = Store(str(path))
    store.engine.dispose()
    blocker = sqlite3.connect(path, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    import sqlalchemy as sa

    quick = Store.__new__(Store)
    quick.target, quick.is_sqlite = str(path), True
    quick.engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    from sqlalchemy import event

    from cxrviz.review.store.core import _sqlite_pragmas

    event.listen(quick.engine, "connect", lambda c, r: (_sqlite_pragmas(c, r), c.execute("PRAGMA busy_timeout=200")))
    event.listen(quick.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    with pytest.raises(StoreError, match="locked"):
        quick.save_review("x.png", "ann", [], "confirmed")
    blocker.rollback()
    blocker.close()


def test_read_only_and_corrupt_databases(tmp_path):
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="corrupt"):
        Store(str(corrupt))
    readonly = tmp_path / "ro.sqlite"
    Store(str(readonly)).engine.dispose()
    ro_store = Store(f"sqlite:///file:{readonly}?mode=ro&uri=true")
    with pytest.raises(StoreError, match="read-only"):
        ro_store.save_review("x.png", "ann", [], "confirmed")


def test_a_stale_form_is_refused_and_nothing_is_written(target):
    from cxrviz.errors import StaleReviewError

    store = Store(target)
    store.save_review("00000001_000.png", "ann", ["Mass"], "corrected", "first", expected_updated_at=None)
    opened_with = store.reviews("00000001_000.png")[0].updated_at
    store.save_review("00000001_000.png", "ann", ["Effusion"], "corrected", "from another tab", expected_updated_at=opened_with)
    with pytest.raises(StaleReviewError) as caught:
        store.save_review("00000001_000.png", "ann", ["Nodule"], "corrected", "stale tab", expected_updated_at=opened_with)
    assert caught.value.theirs.labels == ("Effusion",) and caught.value.theirs.note == "from another tab"
    assert [r.labels for r in store.reviews("00000001_000.png")] == [("Effusion",)]
    with pytest.raises(StaleReviewError):  # a first save that finds someone else's first save
        store.save_review("00000001_000.png", "ann", ["Nodule"], "corrected", "", expected_updated_at=None)
    assert len(store.audit("00000001_000.png")) == 2
