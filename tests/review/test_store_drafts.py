"""Drafts in the store: kept per (image, reader) across processes, gone in the save's own commit."""

from __future__ import annotations

import pytest

from cxrviz.errors import StaleReviewError
from cxrviz.review.store import Store
from cxrviz.review.store.drafts import clear_draft, drafted_images, load_draft, save_draft

IMAGE = "00000001_000.png"


def test_a_draft_is_kept_per_reader_and_replaced_by_the_next(target):
    store = Store(target)
    assert load_draft(store, IMAGE, "Dr Ann") is None
    first = save_draft(store, IMAGE, "Dr Ann", ["Mass", "Effusion"], "uncertain", "left apex", None)
    save_draft(store, IMAGE, "Bob", ["No Finding"], "confirmed", "", None)
    later = Store(target)  # another process (a restarted server) reads it back
    draft = load_draft(later, IMAGE, "  dr   ann ")  # the same reader, however the name is typed
    assert (draft.labels, draft.status, draft.note, draft.base_updated_at) == (("Effusion", "Mass"), "uncertain", "left apex", None)
    assert draft.updated_at == first
    save_draft(later, IMAGE, "dr ann", ["Hernia"], "corrected", "second thought", "2026-01-01T00:00:00.000000Z")
    draft = load_draft(store, IMAGE, "Dr Ann")
    assert (draft.labels, draft.note, draft.base_updated_at) == (("Hernia",), "second thought", "2026-01-01T00:00:00.000000Z")
    assert load_draft(store, IMAGE, "Bob").labels == ("No Finding",)
    assert drafted_images(store, "Dr Ann") == [IMAGE]
    clear_draft(store, IMAGE, "Dr Ann")
    assert load_draft(store, IMAGE, "Dr Ann") is None and load_draft(store, IMAGE, "Bob") is not None


def test_saving_the_review_clears_its_draft_in_the_same_commit_and_a_refused_save_keeps_it(target):
    store = Store(target)
    save_draft(store, IMAGE, "Dr Ann", ["Mass"], "corrected", "mine", None)
    save_draft(store, IMAGE, "Bob", ["Nodule"], "corrected", "his", None)
    store.save_review(IMAGE, "dr ann", ["Mass"], "corrected", "mine", expected_updated_at=None)
    assert load_draft(store, IMAGE, "Dr Ann") is None
    assert load_draft(store, IMAGE, "Bob").note == "his"  # another reader's draft stays
    save_draft(store, IMAGE, "Dr Ann", ["Hernia"], "corrected", "stale", None)
    with pytest.raises(StaleReviewError):  # nothing written: the draft is all that holds what was typed
        store.save_review(IMAGE, "Dr Ann", ["Hernia"], "corrected", "stale", expected_updated_at=None)
    assert load_draft(store, IMAGE, "Dr Ann").note == "stale"
