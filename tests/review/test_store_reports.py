"""Reports in the store, on SQLite and PostgreSQL: the autosaved draft, one sign per version,
signed rows refused by the database itself, new versions keeping the old, blind campaigns."""

from __future__ import annotations

import pytest

from cxrviz.errors import StoreError
from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.record import Review
from cxrviz.review.reports import ReportError, draft_report
from cxrviz.review.store import Store, team
from cxrviz.review.store import reports as store_reports
from cxrviz.review.store.tables import reports as reports_table

IMAGE = "00001511_000.png"


def _signed_row_id(store: Store) -> int:
    return store_reports.signed_reports(store, operator=True)[0].id


def test_draft_edit_sign_then_read_only_then_a_new_version_keeps_the_old(target):
    store = Store(target)
    review = Review(IMAGE, "Dr Ann", ("Mass",), "corrected", "", None, None, "t", "t")
    first = store_reports.save_draft(store, IMAGE, "Dr Ann", draft_report(review), expected_version=None)
    assert (first.version, first.findings, first.signed) == (1, ("Mass",), False)
    edited = store_reports.save_text(store, IMAGE, "dr  ann", first.text + "\nReader's note: *not* markdown.", expected_version=1)
    assert store_reports.latest(Store(target), IMAGE, "Dr Ann").text == edited.text  # a restarted server reads it

    signed = store_reports.sign(store, IMAGE, "Dr Ann", 1, edited.text, at="2026-12-03T11:00:00.000000Z")
    assert (signed.signed_by, signed.signed_at) == ("Dr Ann", "2026-12-03T11:00:00.000000Z")
    with pytest.raises(ReportError, match="signed by Dr Ann at 2026-12-03T11:00:00.000000Z"):
        store_reports.sign(store, IMAGE, "Dr Ann", 1, "something else")  # a second sign of the same version
    with pytest.raises(ReportError, match="cannot change"):
        store_reports.save_text(store, IMAGE, "Dr Ann", "changed after signing")
    assert store_reports.latest(store, IMAGE, "Dr Ann").text == edited.text

    second = store_reports.start_new_version(store, IMAGE, "Dr Ann", expected_version=1)
    assert (second.version, second.text, second.signed) == (2, edited.text, False)
    with pytest.raises(ReportError, match="now at version 2"):
        store_reports.start_new_version(store, IMAGE, "Dr Ann", expected_version=1)  # a stale tab
    store_reports.save_text(store, IMAGE, "Dr Ann", "Amended: the mass is smaller.", expected_version=2)
    store_reports.sign(store, IMAGE, "Dr Ann", 2)
    kept = store_reports.versions(store, IMAGE, "Dr Ann")
    assert [(v.version, v.text, v.signed_at is not None) for v in kept] == [
        (1, edited.text, True), (2, "Amended: the mass is smaller.", True)]
    assert store_reports.latest_signed(store, IMAGE, "Dr Ann").version == 2
    actions = [e["action"] for e in store_reports.report_log(store, IMAGE)]
    assert actions == ["report-draft", "report-edit", "report-sign", "report-version", "report-edit", "report-sign"]


def test_the_database_refuses_any_update_or_delete_of_a_signed_row(target):
    store = Store(target)
    store_reports.save_text(store, IMAGE, "Dr Ann", "Version one.", ["Mass"])
    store_reports.sign(store, IMAGE, "Dr Ann", 1)
    row_id = _signed_row_id(store)
    for statement in (reports_table.update().where(reports_table.c.id == row_id).values(text="rewritten"),
                      reports_table.update().where(reports_table.c.id == row_id).values(signed_at=None),
                      reports_table.delete().where(reports_table.c.id == row_id)):
        with pytest.raises(StoreError):
            with store.writing() as conn:  # SQL sent around the rules: the triggers refuse it
                conn.execute(statement)
    assert [(v.text, v.signed_by) for v in store_reports.versions(store, IMAGE, "Dr Ann")] == [("Version one.", "Dr Ann")]
    # an unsigned row is still an editable draft at the database level too
    store_reports.start_new_version(store, IMAGE, "Dr Ann", 1)
    with store.writing() as conn:
        conn.execute(reports_table.update().where(reports_table.c.version == 2).values(text="draft two"))
    assert store_reports.latest(store, IMAGE, "Dr Ann").text == "draft two"


def test_refusals_say_what_to_do(target):
    store = Store(target)
    with pytest.raises(ReportError, match="no report on .* to sign"):
        store_reports.sign(store, IMAGE, "Dr Ann", 1)
    store_reports.save_text(store, IMAGE, "Dr Ann", "   ")
    with pytest.raises(ReportError, match="empty"):
        store_reports.sign(store, IMAGE, "Dr Ann", 1)
    with pytest.raises(ReportError, match="not signed yet"):
        store_reports.start_new_version(store, IMAGE, "Dr Ann", 1)
    with pytest.raises(ReportError, match="changed in another tab"):
        store_reports.save_text(store, IMAGE, "Dr Ann", "from a stale tab", expected_version=None)
    with pytest.raises(ReportError, match="at most"):
        store_reports.save_text(store, IMAGE, "Dr Ann", "x" * 20_001)
    assert store_reports.latest(store, IMAGE, "Dr Ann").text == "   "


def test_a_blind_reader_sees_only_their_own_reports_until_they_have_read_the_image(target):
    store = Store(target)
    team.sign_in(store, "Admin")
    team.create_campaign(store, "Admin", CampaignSpec("blind", (IMAGE,), ("Dr Ann", "Dr Bob"), 2, blind=True))
    store.save_review(IMAGE, "Dr Ann", ["Mass"], "corrected")
    store_reports.save_text(store, IMAGE, "Dr Ann", "Ann's report.", ["Mass"])
    store_reports.sign(store, IMAGE, "Dr Ann", 1)
    assert store_reports.visible_reports(store, "Dr Bob", IMAGE) == []
    assert store_reports.signed_reports(store, "Dr Bob") == []
    assert [v.reviewer for v in store_reports.signed_reports(store, operator=True)] == ["Dr Ann"]
    store.save_review(IMAGE, "Dr Bob", ["Mass"], "confirmed")  # Bob's own decided reading opens the others'
    assert [v.text for v in store_reports.visible_reports(store, "Dr Bob", IMAGE)] == ["Ann's report."]
    assert [v.reviewer for v in store_reports.visible_reports(store, "Admin", IMAGE)] == ["Dr Ann"]


def _together(*calls):
    """Run the calls at once on threads; their results or the exceptions they raised, in order."""
    import threading

    start, out = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        start.wait()
        try:
            out[i] = call()
        except Exception as exc:  # noqa: BLE001 - returned for the test to look at
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_two_signs_of_one_version_at_once_sign_it_once_and_two_first_saves_make_one_version(target):
    a, b = Store(target), Store(target)  # two servers
    saved = _together(lambda: store_reports.save_text(a, IMAGE, "Dr Ann", "from tab one"),
                      lambda: store_reports.save_text(b, IMAGE, "Dr Ann", "from tab two"))
    assert all(not isinstance(r, Exception) for r in saved), saved
    assert [v.version for v in store_reports.versions(a, IMAGE, "Dr Ann")] == [1]
    signs = _together(lambda: store_reports.sign(a, IMAGE, "Dr Ann", 1, "signed in tab one"),
                      lambda: store_reports.sign(b, IMAGE, "Dr Ann", 1, "signed in tab two"))
    refused = [r for r in signs if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], ReportError) and "cannot change" in str(refused[0])
    winner = next(r for r in signs if not isinstance(r, Exception))
    assert store_reports.latest(a, IMAGE, "Dr Ann").text == winner.text
    assert [e["action"] for e in store_reports.report_log(a, IMAGE)].count("report-sign") == 1
