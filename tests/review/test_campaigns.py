"""Campaign rules: assignment, blind visibility, disagreement and outcomes, on hand-made cases."""

from __future__ import annotations

from collections import Counter

import pytest

from cxrviz.data.boxes import Box
from cxrviz.review import campaigns
from cxrviz.review.campaigns import ADJUDICATED, PENDING, SINGLE, UNANIMOUS, CampaignError, CampaignSpec
from cxrviz.review.roles import ADJUDICATOR, ADMIN, READER

IMAGES = [f"{i:08d}_000.png" for i in range(1, 11)]


@pytest.mark.parametrize("n_images, readers, per_image", [(10, 3, 2), (10, 2, 2), (7, 5, 3), (1, 4, 1), (3, 3, 3)])
def test_each_image_gets_exactly_n_distinct_readers_and_loads_differ_by_at_most_one(n_images, readers, per_image):
    names = [f"reader {k}" for k in range(readers)]
    plan = campaigns.assign(IMAGES[:n_images], names, per_image, seed=4)
    assert list(plan) == IMAGES[:n_images]
    for assigned in plan.values():
        assert len(assigned) == per_image and len(set(assigned)) == per_image
        assert set(assigned) <= set(names)
    loads = Counter(r for assigned in plan.values() for r in assigned)
    counts = [loads.get(n, 0) for n in names]
    assert sum(counts) == n_images * per_image
    assert max(counts) - min(counts) <= 1


def test_assignment_is_fixed_by_the_seed():
    names = ["a", "b", "c", "d"]
    assert campaigns.assign(IMAGES, names, 2, seed=1) == campaigns.assign(IMAGES, names, 2, seed=1)
    assert any(campaigns.assign(IMAGES, names, 2, seed=s) != campaigns.assign(IMAGES, names, 2, seed=1) for s in range(2, 6))


def test_more_readers_per_image_than_readers_is_refused():
    with pytest.raises(CampaignError, match="at least 3 distinct readers"):
        campaigns.assign(IMAGES, ["a", "b"], 3)


def test_spec_checks_merge_readers_typed_twice_and_need_images():
    spec = campaigns.check_spec(CampaignSpec("  chest  pilot ", (IMAGES[0], IMAGES[0], " "), ("Dr A", "dr  a", "Dr B"), 2))
    assert spec.name == "chest pilot" and spec.images == (IMAGES[0],) and spec.readers == ("Dr A", "Dr B")
    with pytest.raises(CampaignError, match="at least 3 distinct readers"):
        campaigns.check_spec(CampaignSpec("x", (IMAGES[0],), ("Dr A", "dr a", "Dr B"), 3))
    with pytest.raises(CampaignError, match="at least one image"):
        campaigns.check_spec(CampaignSpec("x", (), ("a", "b"), 1))
    with pytest.raises(CampaignError, match="name"):
        campaigns.check_spec(CampaignSpec("  ", (IMAGES[0],), ("a",), 1))


def test_blind_reader_sees_others_only_after_submitting():
    assigned = ("Alice", "Bob")
    assert not campaigns.can_see_others(True, "alice", assigned, submitted={"bob"}, role=READER)
    assert campaigns.can_see_others(True, "ALICE", assigned, submitted={"alice"}, role=READER)
    assert campaigns.can_see_others(False, "alice", assigned, submitted=set(), role=READER)  # open campaign


def test_blind_adjudicator_who_is_also_a_reader_stays_blind_until_submitting():
    assigned = ("Alice", "Bob")
    assert not campaigns.can_see_others(True, "bob", assigned, submitted=set(), role=ADJUDICATOR)
    assert campaigns.can_see_others(True, "Carol", assigned, submitted=set(), role=ADJUDICATOR)
    assert campaigns.can_see_others(True, "Carol", assigned, submitted=set(), role=ADMIN)
    assert not campaigns.can_see_others(True, "Carol", assigned, submitted=set(), role=READER)
    assert not campaigns.can_see_others(True, "Carol", assigned, submitted=set(), role=None)


def test_any_differing_finding_is_a_disagreement():
    assert campaigns.labels_disagree({"a": {"Mass", "Nodule"}, "b": {"Mass"}}) == ["Nodule"]
    assert campaigns.labels_disagree({"a": {"No Finding"}, "b": {"Effusion"}}) == ["Effusion", "No Finding"]
    assert campaigns.labels_disagree({"a": {"Mass"}, "b": {"Mass"}, "c": {"Mass"}}) == []
    assert campaigns.labels_disagree({"a": {"Mass"}}) == []


def test_boxes_that_do_not_overlap_enough_are_a_disagreement():
    same = {"a": {"Mass": [Box(100, 100, 50, 50)]}, "b": {"Mass": [Box(102, 101, 50, 50)]}}
    apart = {"a": {"Mass": [Box(100, 100, 50, 50)]}, "b": {"Mass": [Box(130, 130, 50, 50)]}}  # IoU ~0.09
    extra = {"a": {"Mass": [Box(100, 100, 50, 50)]}, "b": {"Mass": [Box(100, 100, 50, 50), Box(400, 400, 20, 20)]}}
    undrawn = {"a": {"Mass": [Box(100, 100, 50, 50)]}, "b": {}}
    readings = {"a": {"Mass"}, "b": {"Mass"}}
    assert campaigns.disagreement(readings, same) == []
    assert campaigns.disagreement(readings, apart) == ["boxes: Mass"]
    assert campaigns.disagreement(readings, extra) == ["boxes: Mass"]
    assert campaigns.disagreement(readings, undrawn) == []


def test_outcomes():
    assert campaigns.outcome({"a": {"Mass"}}, None) == (("Mass",), SINGLE)
    assert campaigns.outcome({"a": {"Mass", "Effusion"}, "b": {"Effusion", "Mass"}}, None) == (("Effusion", "Mass"), UNANIMOUS)
    assert campaigns.outcome({"a": {"Mass"}, "b": {"Nodule"}}, None) == (None, PENDING)
    assert campaigns.outcome({"a": {"Mass"}, "b": {"Nodule"}}, {"Nodule", "Mass"}) == (("Mass", "Nodule"), ADJUDICATED)
    assert campaigns.outcome({}, None) == (None, PENDING)
    assert campaigns.outcome({"a": {"Mass"}}, None, expected=2) == (None, PENDING)  # the second reader is still to read
    assert campaigns.outcome({"a": {"Mass"}}, None, expected=1) == (("Mass",), SINGLE)
    assert campaigns.outcome({"a": {"Mass"}, "b": {"Mass"}}, None, expected=2) == (("Mass",), UNANIMOUS)
    apart = {"a": {"Mass": [Box(0, 0, 10, 10)]}, "b": {"Mass": [Box(50, 50, 10, 10)]}}
    assert campaigns.outcome({"a": {"Mass"}, "b": {"Mass"}}, None, apart) == (None, PENDING)


def test_progress_counts_per_reader_and_campaign():
    plan = {"i1": ("Alice", "Bob"), "i2": ("Bob", "Carol"), "i3": ("Carol", "Alice")}
    rows, total = campaigns.progress(plan, {("i1", "alice"), ("i1", "bob"), ("i2", "bob")})
    assert rows == [
        {"reader": "Alice", "assigned": 2, "submitted": 1, "left": 1},
        {"reader": "Bob", "assigned": 2, "submitted": 2, "left": 0},
        {"reader": "Carol", "assigned": 2, "submitted": 0, "left": 2},
    ]
    assert total == {"images": 3, "images fully read": 1, "readings submitted": 3, "readings assigned": 6}


def test_a_blind_reader_keeps_only_their_own_boxes():
    rows = [("Alice", "Mass", Box(0, 0, 1, 1)), ("bob", "Mass", Box(2, 2, 1, 1)), ("alice ", "Nodule", Box(3, 3, 1, 1))]
    assert campaigns.own_rows(rows, "ALICE") == [rows[0], rows[2]]


def test_reader_quality_against_settled_labels_and_time_per_image():
    from cxrviz.review.campaigns import ADJUDICATED, SINGLE, UNANIMOUS, reader_quality

    images = [
        {"image": "a.png", "readings": {"Bob": frozenset({"Mass"}), "Cy": frozenset({"Mass"})}, "final": ("Mass",), "how": UNANIMOUS},
        {"image": "b.png", "readings": {"Bob": frozenset({"Mass", "Nodule"}), "Cy": frozenset({"Nodule"})},
         "final": ("Nodule",), "how": ADJUDICATED},
        {"image": "c.png", "readings": {"Bob": frozenset({"Effusion"})}, "final": ("Effusion",), "how": SINGLE},  # not settled by two
    ]
    saved = {("a.png", "bob"): "2026-11-25T10:00:00Z", ("b.png", "bob"): "2026-11-25T10:00:30Z",
             ("c.png", "bob"): "2026-11-25T11:00:00Z",  # an hour later: a break, not time on an image
             ("a.png", "cy"): "2026-11-25T10:00:00Z", ("b.png", "cy"): "2026-11-25T10:00:10Z"}
    quality = {row["reader"]: row for row in reader_quality(images, saved)}
    assert quality["Bob"]["images compared"] == 2 and quality["Bob"]["exact agreement"] == 0.5  # b.png: Mass too many
    assert quality["Bob"]["Mass"] == 0.5 and quality["Bob"]["Nodule"] == 1.0 and quality["Bob"]["Effusion"] == 1.0
    assert quality["Cy"]["exact agreement"] == 1.0
    assert quality["Bob"]["median seconds per image"] == 30.0 and quality["Cy"]["median seconds per image"] == 10.0
