import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from cxrviz.errors import StoreBusyError, StoreError, StoreUnavailableError
from cxrviz.review.identity import ReviewerNameError
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
    with pytest.raises(ReviewerNameError, match="reviewer name is required"):
        store.save_review("x.png", "  ", [], "confirmed")
    with pytest.raises(StoreError, match="Unknown status"):
        store.save_review("x.png", "ann", [], "maybe")
    for image in ("", "x" * 61 + ".png", "a\x00.png", "a\nb.png"):  # PostgreSQL would refuse these; so does SQLite now
        with pytest.raises(StoreError, match="image name"):
            store.save_review(image, "ann", [], "confirmed")


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


def test_a_locked_database_refuses_writes_with_a_message_and_reads_still_work(tmp_path):
    path = tmp_path / "locked.sqlite"
    store = Store(str(path), timeout=0.2)
    store.save_review("a.png", "ann", ["Mass"], "corrected", "before the lock")
    blocker = sqlite3.connect(path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    blocker.execute("INSERT INTO reviewers (name, name_key, created_at) VALUES ('zed', 'zed', 'x')")
    with pytest.raises(StoreBusyError, match="locked by another program"):
        store.save_review("b.png", "ann", [], "confirmed", "typed during the lock")
    # reads take no lock: the page can still show the queue, the progress and the audit
    assert [r.note for r in store.reviews()] == ["before the lock"]
    assert store.reviewed_images() == {"a.png"} and len(store.audit()) == 1
    blocker.rollback()
    blocker.close()
    store.save_review("b.png", "ann", [], "confirmed", "after the lock")
    assert sorted(r.note for r in store.reviews()) == ["after the lock", "before the lock"]


def test_every_public_read_raises_only_store_errors(tmp_path):
    corrupt = tmp_path / "c.sqlite"
    store = Store(str(corrupt))
    store.dispose()
    corrupt.write_bytes(b"this is not a database" * 500)
    for call in (store.reviews, store.reviewed_images, store.audit, lambda: store.cached_predictions("m", "s"),
                 lambda: store.put_predictions("m", "s", {"a.png": [0.1]}), lambda: store.save_review("a.png", "ann", [], "confirmed")):
        store.dispose()
        with pytest.raises(StoreUnavailableError, match="not a valid SQLite database"):
            call()


@pytest.mark.parametrize("url", ["mysql://root@localhost/db", "http://example.invalid/x"])
def test_unsupported_database_urls_get_a_message(url):
    with pytest.raises(StoreError, match="SQLite file .* or PostgreSQL"):
        Store(url)


def test_a_folder_that_cannot_be_created_gets_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailableError, match="cannot be created"):
        Store(str(blocker / "sub" / "reviews.sqlite"))


def test_a_server_that_accepts_but_never_answers_times_out_with_a_message():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    try:
        with pytest.raises(StoreUnavailableError, match="cannot be reached or did not answer"):
            Store(f"postgresql://nobody@127.0.0.1:{port}/db", timeout=1)
    finally:
        listener.close()


def test_names_match_whatever_the_case_or_spacing(target):
    store = Store(target)
    store.save_review("a.png", " Dr  Alice ", ["Mass"], "corrected")
    store.save_review("a.png", "dr alice", ["Nodule"], "corrected")
    store.save_review("b.png", "ＤＲ ALICE", [], "confirmed")  # full-width letters: NFKC
    reviews = store.reviews()
    assert {r.reviewer for r in reviews} == {"Dr Alice"} and len(reviews) == 2
    assert store.reviewed_images("DR ALICE") == {"a.png", "b.png"} and store.reviewed_images("bob") == set()
    for bad in ("ann\u200b", "ann\nbob", "x" * 101):
        with pytest.raises(ReviewerNameError):
            store.save_review("a.png", bad, [], "confirmed")


def test_concurrent_first_saves_of_one_image_all_land_as_history(target, tmp_path):
    """Eight processes save the same (image, reviewer) for the first time at once: none may fail."""
    Store(target)
    go = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, "-m", "tests.review.store_worker", target, "ann", "1", "--same-image", str(go)],
                                cwd=REPO, stdout=subprocess.PIPE, text=True) for _ in range(8)]
    assert [w.stdout.readline().strip() for w in workers] == ["ready"] * 8
    go.touch()
    assert [w.wait(timeout=120) for w in workers] == [0] * 8
    store = Store(target)
    assert len(store.reviews()) == 1
    assert [a["action"] for a in store.audit()] == ["create"] + ["update"] * 7


def test_read_only_and_corrupt_databases(tmp_path):
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a valid SQLite database"):
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


def test_many_processes_opening_an_empty_database_at_once_all_start(target, tmp_path):
    """Schema creation is serialised (advisory lock on PostgreSQL, the write lock on SQLite)."""
    go = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, "-m", "tests.review.store_worker", target, f"r{i}", "1", "--open-at", str(go)],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(12)]
    assert [w.stdout.readline().strip() for w in workers] == ["ready"] * 12
    go.touch()
    codes = [w.wait(timeout=180) for w in workers]
    assert codes == [0] * 12, [w.stderr.read()[-800:] for w in workers if w.returncode]
    assert len(Store(target).reviews()) == 12
