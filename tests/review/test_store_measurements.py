"""Measurements in the store, on SQLite and PostgreSQL: add, list per image and reader, delete
one's own only, the audit rows of each write, the per-image limit, the checks applied again at
the store, and others' measurements withheld on a blind-campaign image like their boxes."""

from __future__ import annotations

import json

import pytest

from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.measurements import Measurement, MeasurementError
from cxrviz.review.roles import READER
from cxrviz.review.store import Store, team
from cxrviz.review.store.measurements import add_measurement, delete_measurement, list_measurements, measurement_log
from tests.conftest import BOXED_1024, SMALL_512

CTR = ((230.0, 598.0), (790.0, 602.0), (12.0, 500.0), (1012.0, 500.0))


@pytest.fixture()
def store(target):
    s = Store(target)
    yield s
    s.dispose()


def _length(reviewer="Dr Alice", image=BOXED_1024, spacing=(0.383499, 0.383499)):
    return Measurement(image, reviewer, "length", ((200.0, 500.0), (500.0, 500.0)), 1024, 1024, spacing, "PA")


def test_add_list_delete_with_an_audit_row_for_each_write(store):
    first = add_measurement(store, _length(), at="2026-12-01T10:00:00Z")
    ctr = add_measurement(store, Measurement(BOXED_1024, "Dr Alice", "ctr", CTR, 1024, 1024, None, "PA"), at="2026-12-01T10:01:00Z")
    add_measurement(store, _length("bob", spacing=None), at="2026-12-01T10:02:00Z")
    add_measurement(store, _length(image=SMALL_512), at="2026-12-01T10:03:00Z")

    mine = list_measurements(store, BOXED_1024, "dr alice")  # matched by name key
    assert [m.id for m in mine] == [first, ctr]
    length, ratio = mine
    assert (length.reviewer, length.kind, length.points, length.spacing_mm, length.view) == (
        "Dr Alice", "length", ((200.0, 500.0), (500.0, 500.0)), (0.383499, 0.383499), "PA")
    assert length.value == pytest.approx(115.05, abs=0.01) and length.created_at == "2026-12-01T10:00:00Z"
    assert ratio.points == ((230.0, 600.0), (790.0, 600.0), (12.0, 500.0), (1012.0, 500.0))  # levelled before it was kept
    assert ratio.value == pytest.approx(0.56) and ratio.spacing_mm is None
    [bobs] = list_measurements(store, BOXED_1024, "bob")
    assert bobs.unit == "px" and bobs.value == 300.0
    assert len(list_measurements(store)) == 4

    with pytest.raises(MeasurementError, match="is Dr Alice's; you can only delete your own"):
        delete_measurement(store, first, "bob")
    delete_measurement(store, first, "DR ALICE", at="2026-12-01T11:00:00Z")
    assert [m.id for m in list_measurements(store, BOXED_1024, "Dr Alice")] == [ctr]
    with pytest.raises(MeasurementError, match="no longer exists"):
        delete_measurement(store, first, "Dr Alice")

    log = measurement_log(store, BOXED_1024)
    assert [(e["measurement_id"], e["reviewer"], e["action"]) for e in log] == [
        (first, "Dr Alice", "measure-create"), (ctr, "Dr Alice", "measure-create"), (bobs.id, "bob", "measure-create"),
        (first, "Dr Alice", "measure-delete")]
    created, deleted = json.loads(log[0]["new_values"]), json.loads(log[-1]["old_values"])
    assert created == deleted and log[-1]["new_values"] is None and log[-1]["at"] == "2026-12-01T11:00:00Z"
    assert created["kind"] == "length" and created["unit"] == "mm" and created["value"] == pytest.approx(115.05, abs=0.01)
    assert created["points"] == [[200.0, 500.0], [500.0, 500.0]] and created["spacing_mm"] == [0.383499, 0.383499]


def test_the_store_checks_again_and_keeps_a_limit(store):
    outside = Measurement(BOXED_1024, "alice", "length", ((10.0, 10.0), (2000.0, 10.0)), 1024, 1024)
    with pytest.raises(MeasurementError, match="outside the image"):
        add_measurement(store, outside)
    for _ in range(3):
        add_measurement(store, _length("alice"), limit=3)
    with pytest.raises(MeasurementError, match=f"You already have 3 measurements on {BOXED_1024}"):
        add_measurement(store, _length("alice"), limit=3)
    add_measurement(store, _length("bob"), limit=3)  # the limit is per reader
    assert len(list_measurements(store, BOXED_1024)) == 4 and len(measurement_log(store)) == 4  # nothing logged for a refusal


def test_others_measurements_are_withheld_on_a_blind_image_like_their_boxes(store):
    team.sign_in(store, "admin")
    for reader in ("alice", "bob"):
        team.set_role(store, "admin", reader, READER)
    team.create_campaign(store, "admin", CampaignSpec("blind", (BOXED_1024,), ("alice", "bob"), 2, True, False))
    add_measurement(store, _length("alice"))
    add_measurement(store, _length("bob"))
    add_measurement(store, _length("bob", image=SMALL_512))  # not in the campaign
    assert {m.reviewer for m in team.visible_measurements(store, "alice", BOXED_1024)} == {"alice"}
    assert {(m.image, m.reviewer) for m in team.visible_measurements(store, "alice")} == {(BOXED_1024, "alice"), (SMALL_512, "bob")}
    store.save_review(BOXED_1024, "alice", ["Cardiomegaly"], "confirmed")  # alice has read it: bob's work opens to her
    assert {m.reviewer for m in team.visible_measurements(store, "alice", BOXED_1024)} == {"alice", "bob"}
    assert {m.reviewer for m in team.visible_measurements(store, "bob", BOXED_1024)} == {"bob"}  # bob has not


def test_cli_export_measurements_for_the_operator_and_as_a_reader(tmp_path):
    import csv
    import io
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    db = str(tmp_path / "s.sqlite")
    store = Store(db)
    team.sign_in(store, "admin")
    for reader in ("alice", "bob"):
        team.set_role(store, "admin", reader, READER)
    team.create_campaign(store, "admin", CampaignSpec("blind", (BOXED_1024,), ("alice", "bob"), 2, True, False))
    add_measurement(store, _length("alice"))
    add_measurement(store, Measurement(BOXED_1024, "bob", "ctr", CTR, 1024, 1024, None, "PA"))
    store.dispose()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CXRVIZ_DB", None)

    def export(*extra) -> list[dict]:
        done = subprocess.run([sys.executable, "-m", "cxrviz", "export", "--db", db, "--measurements", "m.csv", *extra],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert not (tmp_path / "corrections.csv").exists()  # measurements only: no label files written unasked
        return list(csv.DictReader(io.StringIO((tmp_path / "m.csv").read_text(encoding="utf-8"))))

    everything = export()
    assert [(r["reviewer"], r["kind"], r["value"], r["unit"]) for r in everything] == [
        ("alice", "length", "115.05", "mm"), ("bob", "ctr", "0.5600", "ratio")]
    assert everything[1]["reading"] == "0.56: above 0.5 on a PA view"
    assert [r["reviewer"] for r in export("--as", "alice")] == ["alice"]  # bob's work on the blind image stays out
