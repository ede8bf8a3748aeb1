"""The blind-reading gate (`cxrviz.review.visibility`, read by `store.team`), on SQLite and
PostgreSQL: what unlocks other readers' work (a decided reading; skipping does not), references,
the audit of readings made after others were visible, exports for a reader, and that no page or
app module reads reviews or boxes around the gate."""

from __future__ import annotations

import ast
import csv
import io
import json
import subprocess
import sys

import pytest

from cxrviz.review import visibility
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.roles import ADJUDICATOR, READER
from cxrviz.review.store import Store, team
from cxrviz.review.store.boxes import add_box
from tests.conftest import REPO

IMAGES = ("00000001_000.png", "00000002_000.png", "00000003_000.png")
OUTSIDE = "00000004_000.png"  # in no campaign


@pytest.fixture()
def store(target):
    s = Store(target)
    team.sign_in(s, "admin")
    for reader in ("alice", "bob", "carol"):
        team.set_role(s, "admin", reader, READER)
    team.set_role(s, "admin", "judy", ADJUDICATOR)
    yield s
    s.dispose()


def _blind(store, readers=("alice", "bob"), hide=True, images=IMAGES) -> int:
    return team.create_campaign(store, "admin", CampaignSpec("blind", images, readers, len(readers), True, hide))


def _others(store, viewer, image):
    view = team.image_under_review(store, image, viewer)
    return None if view.others is None else sorted(r.reviewer for r in view.others)


def test_rules_on_plain_data():
    rows = [visibility.Assignment(1, "a.png", "alice", True, True), visibility.Assignment(1, "a.png", "bob", True, True),
            visibility.Assignment(2, "b.png", "alice", False, True)]
    seen = visibility.decide("Alice", READER, rows, {("a.png", "bob")})
    assert seen.locked == {"a.png"} and seen.references_hidden == {"a.png", "b.png"} and seen.unread == {"a.png"}
    seen = visibility.decide("alice", READER, rows, {("a.png", "alice"), ("b.png", "alice")})
    assert seen.locked == set() and seen.references_hidden == set() and seen.unread == set()
    assert visibility.decide("judy", ADJUDICATOR, rows, set()).locked == set()  # not a reader of it: there to compare
    assert visibility.decide("carol", READER, rows, set()).locked == {"a.png"}  # a reader from outside: blind too
    assert visibility.decide(None, None, rows, set()).locked == {"a.png"}  # nobody named: nothing of a blind image
    assert visibility.decide("alice", READER, [], set()) == visibility.Visibility("alice")


def test_skipped_does_not_unlock_and_uncertain_does(store):
    _blind(store)
    image = IMAGES[0]
    store.save_review(image, "bob", ["Mass"], "corrected", "bob's note")
    add_box(store, ReviewerBox(image, "bob", "Mass", 100, 100, 80, 80, 1024, 1024))
    assert _others(store, "alice", image) is None
    store.save_review(image, "alice", [], "skipped")
    view = team.image_under_review(store, image, "alice")
    assert view.others is None and view.references_hidden and [b.reviewer for b in view.boxes] == []
    assert view.own is not None and view.own.status == "skipped"
    assert [r.reviewer for r in team.visible_reviews(store, "alice", image)] == ["alice"]
    assert team.visible_boxes(store, "alice", image) == []
    store.save_review(image, "alice", ["Nodule"], "uncertain")
    view = team.image_under_review(store, image, "alice")
    assert [r.reviewer for r in view.others] == ["bob"] and not view.references_hidden
    assert [b.reviewer for b in view.boxes] == ["bob"]


def test_confirmed_unlocks_only_that_image_and_outsiders_stay_blind(store):
    _blind(store)
    a, b = IMAGES[:2]
    for image in (a, b):
        store.save_review(image, "bob", ["Mass"], "corrected")
    store.save_review(OUTSIDE, "bob", ["Hernia"], "corrected")
    store.save_review(a, "alice", ["No Finding"], "confirmed")
    assert _others(store, "alice", a) == ["bob"] and _others(store, "alice", b) is None
    assert _others(store, "alice", OUTSIDE) == ["bob"]  # no campaign: open as before
    assert _others(store, "carol", a) is None  # a reader who is not one of its readers
    assert _others(store, "judy", a) == ["alice", "bob"]  # an adjudicator from outside
    assert _others(store, "admin", a) == ["alice", "bob"]
    assert _others(store, None, a) is None  # no name: nobody


def test_an_adjudicator_who_is_a_reader_waits_like_one(store):
    campaign = _blind(store, readers=("alice", "carol", "judy"))
    a, b = IMAGES[:2]
    for image in (a, b):
        store.save_review(image, "alice", ["Mass"], "corrected")
        store.save_review(image, "carol", ["Nodule"], "corrected")
    store.save_review(b, "judy", ["Nodule"], "corrected")
    assert _others(store, "judy", a) is None
    assert [row["image"] for row in team.adjudication_queue(store, campaign, "admin")] == [a, b]
    assert [row["image"] for row in team.adjudication_queue(store, campaign, "judy")] == [b]  # a waits for her reading
    rows = {row["image"]: row for row in team.visible_campaign_images(store, campaign, "judy")}
    assert rows[a]["readings"] == {} and rows[a]["how"] == visibility.NOT_SHOWN and rows[a]["readers"] == ("judy",)
    assert rows[a]["disagreement"] == [] and rows[a]["final"] is None
    assert rows[b]["readings"] == {"alice": frozenset({"Mass"}), "carol": frozenset({"Nodule"}), "judy": frozenset({"Nodule"})}


def test_references_stay_hidden_until_decided(store):
    team.create_campaign(store, "admin", CampaignSpec("hidden", IMAGES[:1], ("alice",), 1, blind=False, hide_references=True))
    image = IMAGES[0]
    assert team.references_hidden(store, image, "alice") and not team.references_hidden(store, image, "bob")
    store.save_review(image, "alice", [], "skipped")
    assert team.references_hidden(store, image, "alice")
    store.save_review(image, "alice", ["Mass"], "corrected")
    assert not team.references_hidden(store, image, "alice")


def _audit_flags(store, image, reviewer):
    return [bool(json.loads(e["new_values"]).get(visibility.OTHERS_VISIBLE)) for e in store.audit(image) if e["reviewer"] == reviewer]


def test_saves_after_others_were_visible_are_audited_and_shown_with_the_first_reading(store):
    _blind(store)
    image = IMAGES[0]
    store.save_review(image, "alice", ["Mass"], "corrected")  # first: nobody else yet
    store.save_review(image, "bob", ["Nodule"], "corrected")  # bob was blind: independent
    store.save_review(image, "alice", ["Mass", "Nodule"], "corrected")  # alice saw bob's, then changed hers
    assert _audit_flags(store, image, "alice") == [False, True] and _audit_flags(store, image, "bob") == [False]
    history = team.reading_history(store, "judy", image)
    assert history["alice"] == {"others_visible": True, "independent": {"labels": "Mass", "status": "corrected",
                                                                         "at": store.audit(image)[0]["at"]}}
    assert history["bob"]["others_visible"] is False
    assert team.reading_history(store, "carol", image) == {}  # a reader from outside sees nobody's history


def test_peeking_by_skipping_is_still_audited(store):
    """Decide (unlocks), look at the others, re-save as skipped (locks again), then save their labels."""
    _blind(store)
    image = IMAGES[1]
    store.save_review(image, "bob", ["Effusion"], "corrected")
    store.save_review(image, "alice", [], "skipped")  # skipped first: still blind, so not a peek
    assert _audit_flags(store, image, "alice") == [False]
    store.save_review(image, "alice", ["Mass"], "confirmed")  # the first decided reading: independent
    store.save_review(image, "alice", [], "skipped")
    assert _others(store, "alice", image) is None  # locked again...
    store.save_review(image, "alice", ["Effusion"], "corrected")  # ...but she had seen bob's
    assert _audit_flags(store, image, "alice") == [False, False, True, True]
    assert team.reading_history(store, "judy", image)["alice"]["independent"]["labels"] == "Mass"


def test_no_audit_flag_outside_blind_campaigns(store):
    team.create_campaign(store, "admin", CampaignSpec("open", IMAGES[:1], ("alice", "bob"), 2, blind=False))
    for image in (IMAGES[0], OUTSIDE):
        store.save_review(image, "bob", ["Mass"], "corrected")
        store.save_review(image, "alice", ["Mass"], "corrected")
        store.save_review(image, "alice", ["Mass", "Nodule"], "corrected")
        assert _audit_flags(store, image, "alice") == [False, False]


def _markers_campaign(store):
    _blind(store)
    image = IMAGES[0]
    store.save_review(image, "bob", ["Hernia"], "corrected", "MARKER-NOTE-bob")
    add_box(store, ReviewerBox(image, "bob", "Hernia", 123.25, 100, 80, 80, 1024, 1024))
    return image


def test_exports_for_a_reader_hold_only_what_they_may_see(store, metadata):
    image = _markers_campaign(store)
    shared = team.shared_with(store, "alice")
    assert shared.reviews == [] and shared.boxes == []
    for data in (shared.corrections_csv(metadata), shared.boxes_csv(), shared.boxes_coco()):
        assert b"bob" not in data and b"MARKER-NOTE" not in data and b"123.25" not in data
    entry = shared.data_entry_csv(metadata).decode()
    assert image not in entry and IMAGES[2] not in entry and OUTSIDE in entry  # references hidden: no NIH row
    assert "3 blind-campaign images" in shared.notice() and "NIH labels of the 3 images" in shared.notice()
    store.save_review(image, "alice", ["Mass"], "corrected")
    shared = team.shared_with(store, "alice")
    assert b"MARKER-NOTE-bob" in shared.corrections_csv(metadata) and b"123.25" in shared.boxes_csv()
    rows = list(csv.DictReader(io.StringIO(shared.corrections_csv(metadata).decode())))
    assert {r["Reviewer"] for r in rows} == {"alice", "bob"} and all(r["Original Labels"] for r in rows)  # read: NIH shown
    everything = team.shared_with(store, None, operator=True)
    assert len(everything.reviews) == 2 and everything.notice() == ""


def test_cli_export_as_a_reader(store, tmp_path):
    _markers_campaign(store)
    if not store.is_sqlite:
        pytest.skip("the CLI run is the same code on both stores; its gate is covered on PostgreSQL above")
    run = [sys.executable, "-m", "cxrviz", "export", "--db", store.target]
    files = {"--corrections": tmp_path / "c.csv", "--data-entry": tmp_path / "d.csv", "--boxes": tmp_path / "b.csv", "--coco": tmp_path / "b.json"}
    args = [x for flag, path in files.items() for x in (flag, str(path))]
    out = subprocess.run([*run, *args, "--as", "Alice"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "exporting as Alice (reader)" in out.stdout and "left out" in out.stdout
    for path in files.values():
        data = path.read_bytes()
        assert b"bob" not in data and b"MARKER-NOTE" not in data and b"123.25" not in data, path
    subprocess.run([*run, *args], cwd=REPO, capture_output=True, text=True, check=True)  # the operator: everything
    assert b"MARKER-NOTE-bob" in files["--corrections"].read_bytes() and b"123.25" in files["--boxes"].read_bytes()


# Reads that return other people's reviews or boxes: pages and app modules must get those through
# the gate (`team.image_under_review`, `visible_reviews`, `visible_boxes`, `shared_with`, ...).
UNGATED = {"reviews", "list_boxes", "images_with_boxes", "campaign_images", "audit", "box_log", "list_measurements", "measurement_log",
           "boxes_in", "measurements_in", "all_in"}  # the last three: in-transaction reads for `team.under_review`


def _ungated_calls(path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in UNGATED:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {name}()")
        if isinstance(node, ast.ImportFrom) and node.module in ("cxrviz.review.store.boxes", "cxrviz.review.store.measurements"):
            found += [f"{path.relative_to(REPO)}:{node.lineno} imports {a.name}" for a in node.names if a.name in UNGATED]
    return found


def test_no_page_or_app_module_reads_reviews_or_boxes_around_the_gate():
    sources = sorted((REPO / "pages").glob("*.py")) + sorted((REPO / "cxrviz" / "app").glob("*.py")) + [REPO / "app.py"]
    assert [call for path in sources for call in _ungated_calls(path)] == []
