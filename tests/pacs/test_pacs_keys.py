"""A PACS image is keyed by its SOP Instance UID (up to 64 characters) in every store table,
SQLite and PostgreSQL (where VARCHAR(40) refused it before revision 0012)."""

from __future__ import annotations

from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.store import Store
from cxrviz.review.store import boxes as store_boxes

UID_64 = "1.2.826.0.1.3680043.10.543." + "1234567890" * 3 + "1234567"


def test_a_64_character_uid_keys_reviews_boxes_and_drafts(target):
    assert len(UID_64) == 64
    store = Store(target)
    store.save_review(UID_64, "dr ada", ["Effusion"], "corrected", "from the PACS")
    assert [(r.image, r.labels) for r in store.reviews(UID_64)] == [(UID_64, ("Effusion",))]
    store_boxes.add_box(store, ReviewerBox(UID_64, "dr ada", "Effusion", 10, 20, 100, 80, 1024, 1024))
    assert [b.image for b in store_boxes.list_boxes(store, UID_64)] == [UID_64]
    assert UID_64 in store.reviewed_images("dr ada")


def test_65_characters_are_still_refused(target):
    import pytest

    from cxrviz.errors import StoreError

    with pytest.raises(StoreError, match="at most 64 characters"):
        Store(target).save_review(UID_64 + "8", "dr ada", ["Effusion"], "corrected")
