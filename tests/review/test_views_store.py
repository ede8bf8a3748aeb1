"""The image views in the store (SQLite and PostgreSQL): recorded with the server's clock, read back
with the audit log's saves into readings, and the corrections export's `seconds_on_image`."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.record import Review
from cxrviz.review.store import Store, team, views
from cxrviz.review.throughput import ACTIVE
from tests.conftest import REPO
from tests.review.test_throughput import FakeClock

A, B, C = "00000001_000.png", "00000001_001.png", "00000002_000.png"


def _session(store: Store, clock: FakeClock) -> None:
    views.record_view(store, A, "Ann", at=clock())
    store.save_review(A, "ann", ["Mass"], "corrected", at=clock.advance(42)())  # 42 s
    views.record_view(store, B, "ann", at=clock())
    views.record_view(store, B, "ann", ACTIVE, at=clock.advance(250)())
    store.save_review(B, "ann", [], "confirmed", at=clock.advance(310)())  # 250 s active, then 310 s idle
    views.record_view(store, C, "ann", at=clock())
    store.save_review(C, "ann", [], "skipped", at=clock.advance(900)())  # idle throughout: no time
    store.save_review(A, "bob", ["Mass"], "corrected", at=clock.advance(5)())  # never shown to bob


def test_views_and_saves_become_readings(target):
    store = Store(target)
    _session(store, FakeClock())
    found = views.readings(store)
    assert [(r.reader, r.image, r.seconds) for r in found] == [
        ("ann", A, 42.0), ("ann", B, 250.0), ("ann", C, None), ("bob", A, None)]
    assert views.seconds_on_image(store) == {("ann", A): 42.0, ("ann", B): 250.0}
    assert [v.kind for v in views.views(store, "ANN")] == ["shown", "shown", "active", "shown"]
    assert [s.image for s in views.saves(store, "bob")] == [A]


def test_imports_are_not_time_spent_in_the_app(target):
    store = Store(target)
    clock = FakeClock()
    views.record_view(store, A, "cy", at=clock())
    stamp = clock.advance(30)()
    store.import_reviews([Review(A, "cy", ("Mass",), "corrected", "", None, None, stamp, stamp)], "admin")
    assert store.audit()[0]["action"] == "import" and views.readings(store) == []  # no save made in the app


def test_the_corrections_export_has_seconds_on_image(target, metadata):
    store = Store(target)
    _session(store, FakeClock())
    rows = list(csv.DictReader(io.StringIO(team.shared_with(store, None, operator=True).corrections_csv(metadata).decode())))
    cells = {(r["Reviewer"], r["Image Index"]): r["seconds_on_image"] for r in rows}
    assert cells == {("ann", A): "42.0", ("ann", B): "250.0", ("ann", C): "", ("bob", A): ""}


def test_a_blind_readers_export_holds_no_time_of_others(target, metadata):
    store = Store(target)
    team.sign_in(store, "admin")
    team.create_campaign(store, "admin", CampaignSpec("blind", (A,), ("ann", "bob"), 2, blind=True))
    clock = FakeClock()
    for reader in ("ann", "bob"):
        views.record_view(store, A, reader, at=clock())
    store.save_review(A, "bob", ["Mass"], "corrected", at=clock.advance(20)())
    shared = team.shared_with(store, "ann")
    assert shared.seconds == {} and b"bob" not in shared.corrections_csv(metadata)
    assert team.shared_with(store, "bob").seconds == {("bob", A): 20.0}


def test_cli_export_writes_the_column(tmp_path):
    store = Store(str(tmp_path / "reviews.sqlite"))
    _session(store, FakeClock())
    out = tmp_path / "c.csv"
    subprocess.run([sys.executable, "-m", "cxrviz", "export", "--db", store.target, "--corrections", str(out),
                    "--data-entry", str(tmp_path / "d.csv")], cwd=REPO, capture_output=True, text=True, check=True)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["Image Index"]: r["seconds_on_image"] for r in rows if r["Reviewer"] == "ann"} == {A: "42.0", B: "250.0", C: ""}


def test_the_gate_gives_a_blind_reader_their_own_readings_and_an_admin_all(target):
    store = Store(target)
    team.sign_in(store, "admin")
    cid = team.create_campaign(store, "admin", CampaignSpec("blind", (A, B), ("ann", "bob"), 2, blind=True))
    clock = FakeClock()
    for reader, seconds in (("ann", 12), ("bob", 34)):
        views.record_view(store, A, reader, at=clock())  # from the Browse queue: the campaign comes from the assignment
        store.save_review(A, reader, [], "confirmed", at=clock.advance(seconds)())
    views.record_view(store, C, "bob", at=clock())  # outside the campaign
    store.save_review(C, "bob", [], "confirmed", at=clock.advance(7)())
    found, sees_all = team.visible_readings(store, "ann")
    assert not sees_all and [(r.reader, r.image, r.seconds, r.campaign) for r in found] == [
        ("ann", A, 12.0, cid), ("bob", C, 7.0, None)]  # bob's blind reading is not ann's to see, his open one is
    found, sees_all = team.visible_readings(store, "admin")
    assert sees_all and [(r.reader, r.seconds) for r in found] == [("ann", 12.0), ("bob", 34.0), ("bob", 7.0)]
    assert [r.reader for r in team.visible_readings(store, None)[0]] == ["bob"]  # nobody: open readings only
