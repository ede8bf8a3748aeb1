"""Team review in the store, on SQLite and PostgreSQL: first admin, roles from the store only,
campaigns, blind visibility, adjudication, and the audit of every change."""

from __future__ import annotations

import threading

import pytest

from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.campaigns import ADJUDICATED, PENDING, UNANIMOUS, CampaignError, CampaignSpec
from cxrviz.review.roles import ADJUDICATOR, ADMIN, READER, PermissionDenied, RoleError
from cxrviz.review.store import Store, team
from cxrviz.review.store.boxes import add_box

IMAGES = ("00000001_000.png", "00000002_000.png", "00000003_000.png")


@pytest.fixture()
def store(target):
    s = Store(target)
    yield s
    s.dispose()


def test_first_signed_in_user_is_admin_later_ones_have_no_role(store):
    assert team.sign_in(store, "ann@example.org", "ann@example.org", "Ann") == ADMIN
    assert team.sign_in(store, "bob@example.org") is None
    assert team.sign_in(store, "ANN@example.org") == ADMIN  # the same user again, whatever the case
    assert [(u["name"], u["role"]) for u in team.list_users(store)] == [("ann@example.org", ADMIN), ("bob@example.org", None)]
    log = team.team_log(store)
    assert [(e["action"], e["target"]) for e in log] == [("user-create", "ann@example.org"), ("user-create", "bob@example.org")]


def test_two_first_sign_ins_at_once_make_exactly_one_admin(store):
    results = {}

    def go(who):
        other = Store(store.target)
        try:
            results[who] = team.sign_in(other, who)
        finally:
            other.dispose()

    threads = [threading.Thread(target=go, args=(f"user{i}@example.org",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and list(results.values()).count(ADMIN) == 1 and list(results.values()).count(None) == 3


def test_only_an_admin_changes_roles_the_change_is_audited_and_one_admin_stays(store):
    team.sign_in(store, "ann")
    team.sign_in(store, "bob")
    with pytest.raises(PermissionDenied, match="ask your admin"):
        team.set_role(store, "bob", "bob", ADMIN)  # no role: cannot raise himself
    team.set_role(store, "ann", "bob", READER)
    with pytest.raises(PermissionDenied):
        team.set_role(store, "bob", "bob", ADMIN)  # a reader cannot either
    assert team.role_of(store, "bob") == READER
    with pytest.raises(RoleError, match="only admin"):
        team.set_role(store, "ann", "ann", READER)
    team.set_role(store, "ann", "carol", ADJUDICATOR)  # named before her first sign-in
    assert team.sign_in(store, "Carol") == ADJUDICATOR
    changes = [(e["actor"], e["action"], e["target"], e["old_values"], e["new_values"]) for e in team.team_log(store) if e["action"] == "role-set"]
    assert changes == [("ann", "role-set", "bob", '{"role": null}', '{"role": "reader"}'),
                       ("ann", "role-set", "carol", None, '{"role": "adjudicator"}')]


def _campaign(store, blind=True, per_image=2, readers=("alice", "bob")):
    team.sign_in(store, "admin")
    return team.create_campaign(store, "admin", CampaignSpec("pilot", IMAGES, readers, per_image, blind, seed=3))


def test_a_campaign_gives_each_image_n_readers_and_is_audited(store):
    campaign_id = _campaign(store, readers=("alice", "bob", "carol"))
    plan = team.assignments_of(store, campaign_id)
    assert list(plan) == list(IMAGES)
    assert all(len(set(r)) == 2 for r in plan.values())
    assert sum(len(team.reader_queue(store, campaign_id, r)) for r in ("alice", "bob", "carol")) == 6
    assert team.role_of(store, "alice") == READER  # readers named by the campaign can read
    entry = [e for e in team.team_log(store) if e["action"] == "campaign-create"]
    assert len(entry) == 1 and entry[0]["actor"] == "admin" and '"readers_per_image": 2' in entry[0]["new_values"]
    with pytest.raises(CampaignError, match="exists already"):
        team.create_campaign(store, "admin", CampaignSpec("pilot", IMAGES, ("alice", "bob"), 1))


def test_a_reader_cannot_create_a_campaign(store):
    _campaign(store)
    with pytest.raises(PermissionDenied):
        team.create_campaign(store, "alice", CampaignSpec("mine", IMAGES, ("alice", "bob"), 1))
    assert [c["name"] for c in team.list_campaigns(store)] == ["pilot"]


def test_blind_reader_sees_others_only_after_saving(store):
    _campaign(store)
    image = IMAGES[0]
    store.save_review(image, "bob", ["Mass"], "corrected")
    assert team.visible_others(store, image, "alice", store.reviews(image)) is None
    store.save_review(image, "alice", ["Nodule"], "corrected")
    seen = team.visible_others(store, image, "alice", store.reviews(image))
    assert [(r.reviewer, r.labels) for r in seen] == [("bob", ("Mass",))]


def test_open_campaign_shows_others_at_once(store):
    _campaign(store, blind=False)
    store.save_review(IMAGES[0], "bob", ["Mass"], "corrected")
    assert [r.reviewer for r in team.visible_others(store, IMAGES[0], "alice", store.reviews(IMAGES[0]))] == ["bob"]


def test_disagreements_are_queued_adjudicated_and_outcomes_reported(store):
    campaign_id = _campaign(store)
    team.set_role(store, "admin", "judy", ADJUDICATOR)
    a, b, c = IMAGES
    store.save_review(a, "alice", ["Mass"], "corrected")
    store.save_review(a, "bob", ["Mass", "Nodule"], "corrected")
    store.save_review(b, "alice", ["Effusion"], "corrected")
    store.save_review(b, "bob", ["Effusion"], "corrected")
    store.save_review(c, "alice", ["No Finding"], "confirmed")  # bob has not read it yet
    assert [row["image"] for row in team.adjudication_queue(store, campaign_id, "judy")] == [a]
    assert team.adjudication_queue(store, campaign_id, "judy")[0]["disagreement"] == ["Nodule"]
    with pytest.raises(PermissionDenied):
        team.adjudicate(store, "alice", campaign_id, a, ["Mass"], "I think so")
    with pytest.raises(CampaignError, match="reason"):
        team.adjudicate(store, "judy", campaign_id, a, ["Mass"], "  ")
    team.adjudicate(store, "judy", campaign_id, a, ["Mass", "Nodule"], "nodule visible at the right apex")
    assert team.adjudication_queue(store, campaign_id, "judy") == []
    outcomes = {row["image"]: (row["final"], row["how"]) for row in team.campaign_images(store, campaign_id)}
    assert outcomes == {a: (("Mass", "Nodule"), ADJUDICATED), b: (("Effusion",), UNANIMOUS), c: (None, PENDING)}
    entry = [e for e in team.team_log(store) if e["action"] == "adjudicate"]
    assert entry[0]["actor"] == "judy" and entry[0]["target"] == f"{campaign_id}:{a}"


def test_boxes_far_apart_send_an_agreeing_image_to_adjudication(store):
    campaign_id = _campaign(store)
    image = IMAGES[0]
    for reader, x in (("alice", 100), ("bob", 400)):
        store.save_review(image, reader, ["Mass"], "corrected")
        add_box(store, ReviewerBox(image, reader, "Mass", x, 100, 80, 80, 1024, 1024))
    row = team.campaign_images(store, campaign_id)[0]
    assert row["disagreement"] == ["boxes: Mass"] and row["how"] == PENDING


def test_progress_per_reader(store):
    campaign_id = _campaign(store)
    store.save_review(IMAGES[0], "alice", ["Mass"], "corrected")
    store.save_review(IMAGES[0], "someone else", ["Mass"], "corrected")  # not assigned: not counted
    rows, total = team.campaign_progress(store, campaign_id)
    assert {r["reader"]: r["submitted"] for r in rows} == {"alice": 1, "bob": 0}
    assert total["readings submitted"] == 1 and total["readings assigned"] == 6


def test_exports_are_withheld_from_a_blind_reader_until_all_their_images_are_read(store):
    campaign_id = _campaign(store)
    mine = team.reader_queue(store, campaign_id, "alice")
    assert team.blind_images(store, "alice") == set(mine)
    for image in mine:
        store.save_review(image, "alice", ["Mass"], "corrected")
    assert team.blind_images(store, "alice") == set()
    assert team.blind_images(store, "admin") == set()  # not a reader of the campaign


def test_references_are_hidden_from_an_assigned_reader_until_they_save(store):
    team.sign_in(store, "admin")
    team.create_campaign(store, "admin", CampaignSpec("hidden", IMAGES[:1], ("alice",), 1, blind=True, hide_references=True))
    team.create_campaign(store, "admin", CampaignSpec("shown", IMAGES[1:2], ("alice",), 1, blind=True, hide_references=False))
    assert team.references_hidden(store, IMAGES[0], "Alice")
    assert not team.references_hidden(store, IMAGES[0], "bob")  # not a reader of it
    assert not team.references_hidden(store, IMAGES[1], "alice")  # that campaign shows them
    store.save_review(IMAGES[0], "alice", ["Mass"], "corrected")
    assert not team.references_hidden(store, IMAGES[0], "alice")
