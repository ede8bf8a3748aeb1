"""The image under review as one value (`store.team.under_review`, `review.under_review`), on SQLite
and PostgreSQL: one read transaction holds the reader's review, the others' (None while blind), the
boxes, drafts, measurements, report versions and progress; and the hidden-references policy
(`under_review.shown`) on plain data."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest

from cxrviz.errors import CxrvizError
from cxrviz.review import under_review, visibility
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.measurements import Measurement
from cxrviz.review.roles import READER
from cxrviz.review.store import Store, team
from cxrviz.review.store import reports as store_reports
from cxrviz.review.store.boxes import add_box
from cxrviz.review.store.drafts import save_draft
from cxrviz.review.store.measurements import add_measurement
from cxrviz.review.suspects import Suspect

IMAGES = ("00000001_000.png", "00000002_000.png", "00000003_000.png")
QUEUE = [*IMAGES, "00000004_000.png"]


@pytest.fixture()
def store(target):
    s = Store(target)
    team.sign_in(s, "admin")
    for reader in ("alice", "bob"):
        team.set_role(s, "admin", reader, READER)
    yield s
    s.dispose()


def _length(image: str, reviewer: str) -> Measurement:
    return Measurement(image, reviewer, "length", ((200.0, 500.0), (500.0, 500.0)), 1024, 1024, None, "PA")


def _work_of(store, reader: str, image: str) -> None:
    """A reader's whole work on an image: review, box, measurement, signed report."""
    store.save_review(image, reader, ["Mass"], "corrected", note=f"note of {reader}")
    add_box(store, ReviewerBox(image, reader, "Mass", 100, 100, 80, 80, 1024, 1024))
    add_measurement(store, _length(image, reader))
    version = store_reports.save_text(store, image, reader, f"report of {reader}")
    store_reports.sign(store, image, reader, version.version, version.text)


@contextlib.contextmanager
def _counted(monkeypatch):
    opened = []
    real = Store.reading

    @contextlib.contextmanager
    def reading(self):
        opened.append(1)
        with real(self) as conn:
            yield conn

    monkeypatch.setattr(Store, "reading", reading)
    yield opened


def test_one_read_holds_everything_the_review_page_draws(store, monkeypatch):
    image = IMAGES[0]
    _work_of(store, "bob", image)
    store.save_review(image, "alice", ["Nodule"], "corrected")
    store.save_review(IMAGES[1], "bob", [], "confirmed")
    save_draft(store, IMAGES[2], "alice", ["Hernia"], "corrected", "", None)
    save_draft(store, image, "alice", ["Mass"], "corrected", "half typed", None)
    add_measurement(store, _length(image, "alice"))
    store_reports.save_text(store, image, "alice", "my unsigned report")
    with _counted(monkeypatch) as opened:
        got = team.under_review(store, image, "Alice", QUEUE)
    assert len(opened) == 1  # one transaction, not one per part
    assert got.image == image and got.view.own.reviewer == "alice" and [r.reviewer for r in got.view.others] == ["bob"]
    assert {b.reviewer for b in got.view.boxes} == {"bob"}
    assert got.draft.note == "half typed" and got.drafted == (image, IMAGES[2])  # newest first
    assert sorted(m.reviewer for m in got.measurements) == ["alice", "bob"]
    assert [v.text for v in got.reports] == ["my unsigned report"]
    assert [v.reviewer for v in got.others_reports] == ["bob"]
    assert (got.done_mine, got.done_anyone) == (1, 2) and got.complete


def test_while_blind_nothing_of_the_others_is_in_the_value(store):
    image = IMAGES[0]
    team.create_campaign(store, "admin", CampaignSpec("blind", IMAGES, ("alice", "bob"), 2, True, True))
    _work_of(store, "bob", image)
    store.save_review(IMAGES[1], "bob", [], "confirmed")
    got = team.under_review(store, image, "alice", QUEUE)
    assert got.view.others is None and got.references_hidden
    assert got.view.boxes == () and got.measurements == () and got.others_reports is None
    assert got.done_anyone is None and got.done_mine == 0  # others' progress would hint at their readings
    store.save_review(image, "alice", [], "skipped")  # skipping opens nothing
    assert team.under_review(store, image, "alice", QUEUE).others_reports is None
    store.save_review(image, "alice", ["Mass"], "corrected")
    opened = team.under_review(store, image, "alice", QUEUE)
    assert [r.reviewer for r in opened.view.others] == ["bob"] and not opened.references_hidden
    assert [v.reviewer for v in opened.others_reports] == ["bob"] and {m.reviewer for m in opened.measurements} == {"bob"}
    assert opened.done_mine == 1 and opened.done_anyone is None  # IMAGES[1], [2] are still unread: still no count
    for other in IMAGES[1:]:
        store.save_review(other, "alice", [], "uncertain")
    assert team.under_review(store, image, "alice", QUEUE).done_anyone == 3


def test_progress_hides_anyone_while_blind_and_counts_locked_images_only_as_mine():
    seen = visibility.Visibility("alice", locked=frozenset({"b"}), unread=frozenset())
    assert under_review.progress(["a", "b", "c"], {"c"}, {"a", "b", "c"}, seen) == (1, 2)  # b: someone's, locked
    blind = visibility.Visibility("alice", locked=frozenset({"b"}), unread=frozenset({"b"}))
    assert under_review.progress(["a", "b", "c"], {"c"}, {"a", "b", "c"}, blind) == (1, None)


def _view(hidden: bool) -> visibility.ImageUnderReview:
    return visibility.ImageUnderReview("x.png", None, None if hidden else (), hidden, (), visibility.Visibility("alice"))


def _model():  # stands for a LoadedModel: `shown` reads only its spec's name
    return SimpleNamespace(spec=SimpleNamespace(name="densenet"))


SUSPECT = Suspect("Mass", "missing", "the model says 0.9", ("Mass",))


def test_hidden_references_show_nothing_and_start_empty():
    called = []
    got = under_review.shown(_view(True), {"Mass"}, "boxes table", _model(), (SUSPECT,), lambda: called.append(1) or "note")
    assert got.hidden and got.nih == frozenset({"Mass"})  # kept for the saved status only
    assert (got.nih_labels, got.boxes_table, got.model, got.model_name) == (None, None, None, None)
    assert got.suspects == () and got.reference(str) is None and got.start == frozenset() and not got.follow_ups
    assert called == []  # the expert note is not even read


def test_shown_references_pass_through_with_the_expert_note():
    got = under_review.shown(_view(False), {"Nodule", "Mass"}, "boxes table", _model(), [SUSPECT], lambda: "Google 2019: Mass present")
    assert not got.hidden and got.nih_labels == frozenset({"Mass", "Nodule"}) and got.boxes_table == "boxes table"
    assert got.model_name == "densenet" and got.suspects == (SUSPECT,) and got.start is None and got.follow_ups
    assert got.reference(lambda s: f"<{s}>") == "<Google 2019: Mass present> (NIH: <Mass, Nodule>)"
    plain = under_review.shown(_view(False), None, None, None, (), lambda: "")
    assert plain.reference(str) is None and plain.nih == frozenset() and plain.model_name is None
    assert under_review.shown(_view(False), set(), None, None, (), lambda: "n").reference(str) == "n (NIH: No Finding)"


def test_an_unreadable_expert_note_is_kept_as_the_problem():
    def broken() -> str:
        raise CxrvizError("expert labels missing")

    got = under_review.shown(_view(False), {"Mass"}, None, None, (), broken)
    assert str(got.problem) == "expert labels missing" and got.reference(str) is None and got.nih_labels == frozenset({"Mass"})


def test_the_unknown_value_hides_everything_and_leaves_the_parts_unread():
    got = under_review.unknown("x.png", "alice")
    assert got.view.others is None and got.references_hidden and not got.complete
    assert (got.drafted, got.measurements, got.reports, got.others_reports) == (None, None, None, None)
