"""The review form's rules, apart from any widget."""

from __future__ import annotations

import numpy as np
import pytest

from cxrviz.findings import NO_FINDING
from cxrviz.review import rules
from cxrviz.review.record import Review
from cxrviz.review.store import Store


def _review(labels=("Mass",), note="theirs", at="2026-01-02T00:00:00.000000Z", reviewer="Dr Ann") -> Review:
    return Review("a.png", reviewer, tuple(labels), "corrected", note, None, None, at, at)


def test_resolve_status_turns_a_changed_confirmation_into_a_correction():
    assert rules.resolve_status("confirmed", {"Mass"}, ["Mass"]) == "confirmed"
    assert rules.resolve_status("confirmed", {"Mass"}, ["Mass", "Nodule"]) == "corrected"
    assert rules.resolve_status("confirmed", set(), [NO_FINDING]) == "confirmed"  # No Finding is not a finding
    assert rules.resolve_status("uncertain", {"Mass"}, ["Nodule"]) == "uncertain"
    assert rules.resolve_status("skipped", set(), ["Mass"]) == "skipped"


def test_chosen_labels_and_the_no_finding_conflict():
    assert rules.chosen_labels({}) == [NO_FINDING]
    assert rules.chosen_labels({"Mass": True, "Nodule": False}) == ["Mass"]
    with pytest.raises(rules.LabelConflict, match="cannot be ticked together with Mass"):
        rules.chosen_labels({"Mass": True, NO_FINDING: True})


def test_toggle_keeps_no_finding_exclusive_and_never_empty():
    start = frozenset({NO_FINDING})
    assert rules.toggle(start, "Mass") == {"Mass"}
    assert rules.toggle(frozenset({"Mass"}), "Mass") == {NO_FINDING}
    assert rules.toggle(frozenset({"Mass", "Nodule"}), NO_FINDING) == {NO_FINDING}
    assert rules.toggle(frozenset({"Mass"}), "Nodule") == {"Mass", "Nodule"}


def test_drafts_start_from_own_review_else_nih_and_merge_or_rebase_on_theirs():
    fresh = rules.starting_draft(None, {"Effusion"})
    assert fresh == rules.Draft(frozenset({"Effusion"}), "confirmed", "", None)
    own = _review()
    assert rules.starting_draft(own, {"Effusion"}) == rules.Draft(frozenset({"Mass"}), "corrected", "theirs", own.updated_at)
    mine = rules.Draft(frozenset({"Nodule"}), "uncertain", "mine", None)
    merged = rules.merge(mine, own)
    assert merged == rules.Draft(frozenset({"Mass", "Nodule"}), "uncertain", "theirs\n---\nmine", own.updated_at)
    assert rules.merge(rules.Draft(frozenset({NO_FINDING}), "confirmed", "theirs", None), own).labels == {"Mass"}
    assert rules.rebase(mine, own) == rules.Draft(mine.labels, "uncertain", "mine", own.updated_at)
    assert mine.differs_from(fresh) and not fresh.differs_from(rules.Draft(frozenset({"Effusion"}), "confirmed", "", "x"))


def test_progress_own_review_and_others_match_names_by_key():
    assert rules.progress(["a", "b", "c"], {"a"}, {"a", "b", "z"}) == (1, 2)
    reviews = [_review(reviewer="Dr Ann"), _review(reviewer="Bob")]
    assert rules.own_review(reviews, "  dr   ANN ").reviewer == "Dr Ann"
    assert [o["reviewer"] for o in rules.others(reviews, "DR ANN")] == ["Bob"]


def test_build_queue_from_browse_rows_or_the_whole_folder():
    from cxrviz.data.image_index import ImageIndex
    from cxrviz.data.metadata import load_metadata

    metadata = load_metadata()
    names = metadata.table["image"].tolist()
    index = ImageIndex(root=None, paths={names[5]: None, names[2]: None})
    assert list(rules.build_queue(rules.BROWSE_SOURCE, None, metadata, index, None)) == sorted([names[2], names[5]])
    assert list(rules.build_queue(rules.BROWSE_SOURCE, np.array([5, 3]), metadata, index, None)) == [names[5]]
    assert list(rules.build_queue("Triage", None, metadata, index, ["x.png"])) == ["x.png"]


def test_save_and_advance_saves_names_the_next_image_and_refuses_confirming_an_unseen_image(tmp_path):
    store = Store(str(tmp_path / "r.sqlite"))
    queue = ["a.png", "b.png"]
    outcome = rules.save_and_advance(store, "a.png", "ann", {"Mass": True}, "confirmed", "n", set(), queue, None, None)
    assert (outcome.status, outcome.next_image, outcome.labels) == ("corrected", "b.png", ["Mass"])
    with pytest.raises(rules.UnseenImageError, match="could not be shown"):
        rules.save_and_advance(store, "b.png", "ann", {}, "confirmed", "", set(), queue, None, None, image_shown=False)
    last = rules.save_and_advance(store, "b.png", "ann", {}, "skipped", "file missing", set(), queue, None, None, image_shown=False)
    assert last.next_image is None
    assert [(r.image, r.status) for r in store.reviews()] == [("a.png", "corrected"), ("b.png", "skipped")]


def test_image_names_from_a_csv_export_or_a_plain_list():
    export = b"\xef\xbb\xbfImage Index,Finding Labels\n00000001_000.png,Mass\n00000002_000.png,\n00000001_000.png,Mass\n"
    assert rules.image_names_from_csv(export) == ["00000001_000.png", "00000002_000.png"]
    assert rules.image_names_from_csv(b"00000003_000.png\n\n00000004_000.png,x\n") == ["00000003_000.png", "00000004_000.png"]
    for bad in (b"", b"\xff\xfe\x00a", b"a\x00b\n"):
        with pytest.raises(rules.ImageListError):
            rules.image_names_from_csv(bad)


def test_queue_finds_positions_by_look_up_and_counts_progress_both_ways():
    import pickle

    queue = rules.Queue(["c.png", "a.png", "b.png", "a.png"])  # a name listed twice is found at its first place
    assert queue.index("a.png") == 1 and rules.queue_position(queue, "b.png") == 2
    assert rules.queue_position(queue, "zz.png") == 0 and rules.queue_position(queue, None) == 0
    assert "c.png" in queue and "zz.png" not in queue and list(queue) == ["c.png", "a.png", "b.png", "a.png"]
    try:
        queue.index("zz.png")
    except ValueError as error:
        assert "zz.png" in str(error)
    else:
        raise AssertionError("a name not in the queue has no position")
    copy = pickle.loads(pickle.dumps(queue))  # session state and caches pickle it
    assert isinstance(copy, rules.Queue) and copy.index("b.png") == 2 and copy == queue
    # walking the reviewed set (fewer than the queue) or the queue (more) gives the same counts
    assert rules.progress(queue, {"a.png", "x.png"}, {f"n{i}" for i in range(10)} | {"b.png", "c.png"}) == (1, 2)
    # a name listed twice counts once, whichever way is walked
    assert rules.progress(queue, {"a.png"}, {"a.png", "x.png", "y.png", "z.png"}) == (1, 1)
    assert rules.as_queue(queue) is queue and rules.as_queue(["q"]).index("q") == 0
