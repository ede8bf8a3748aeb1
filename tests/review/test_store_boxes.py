"""Reviewer boxes in the store, on SQLite and PostgreSQL: add, move, delete, limits, ownership, audit."""

import json

import pytest

from cxrviz.review.boxes import BoxError, ReviewerBox
from cxrviz.review.store import Store
from cxrviz.review.store.boxes import add_box, box_log, delete_box, images_with_boxes, list_boxes, move_box

IMAGE = "00000001_000.png"


def _box(**kw) -> ReviewerBox:
    base = dict(image=IMAGE, reviewer="ann", finding="Mass", x=100.5, y=200.25, w=50, h=40, frame_width=1024, frame_height=1024)
    return ReviewerBox(**{**base, **kw})


def test_add_move_delete_with_audit(target):
    store = Store(target)
    store.save_review(IMAGE, "ann", ["Mass"], "corrected")
    box_id = add_box(store, _box(), at="2026-01-01T00:00:00.000000Z")
    [kept] = list_boxes(store, IMAGE)
    assert (kept.id, kept.reviewer, kept.finding, kept.box, kept.status, kept.created_at) == (
        box_id, "ann", "Mass", (100.5, 200.25, 50, 40), "drawn", "2026-01-01T00:00:00.000000Z")
    messages = move_box(store, box_id, "ANN ", 1000, 10, 100, 20)  # the name matches by key; the move is clipped
    assert messages and "clipped" in messages[0]
    assert list_boxes(store, IMAGE)[0].box == (1000, 10, 24, 20)
    delete_box(store, box_id, "ann")
    assert list_boxes(store) == []
    log = box_log(store, IMAGE)
    assert [e["action"] for e in log] == ["box-create", "box-move", "box-delete"]
    assert json.loads(log[1]["old_values"])["x"] == 100.5 and json.loads(log[1]["new_values"])["w"] == 24
    assert json.loads(log[2]["old_values"])["x"] == 1000 and log[2]["new_values"] is None
    assert {e["box_id"] for e in log} == {box_id}
    assert len(store.reviews()) == 1  # the review is untouched


def test_only_the_owner_moves_or_deletes(target):
    store = Store(target)
    box_id = add_box(store, _box())
    with pytest.raises(BoxError, match="ann's"):
        move_box(store, box_id, "bob", 0, 0, 10, 10)
    with pytest.raises(BoxError, match="ann's"):
        delete_box(store, box_id, "bob")
    delete_box(store, box_id, "ann")
    with pytest.raises(BoxError, match="no longer exists"):
        delete_box(store, box_id, "ann")


def test_twenty_boxes_per_reviewer_and_image(target):
    store = Store(target)
    for i in range(20):
        add_box(store, _box(x=i * 10, w=5))
    with pytest.raises(BoxError, match="at most 20"):
        add_box(store, _box())
    add_box(store, _box(reviewer="bob"))  # another reviewer has their own 20
    add_box(store, _box(image="00000002_000.png"))  # and another image
    assert len(list_boxes(store, IMAGE, reviewer="ann")) == 20
    assert images_with_boxes(store) == {IMAGE, "00000002_000.png"}


def test_bad_boxes_are_never_stored(target):
    store = Store(target)
    with pytest.raises(BoxError):
        add_box(store, _box(w=0))
    with pytest.raises(BoxError):
        add_box(store, _box(x=5000))
    assert list_boxes(store) == [] and box_log(store) == []


def test_marking_an_nih_box_wrong_twice_keeps_one_mark(target):
    store = Store(target)
    wrong = _box(status="wrong", corrects=f"{IMAGE}:Mass:0")
    first = add_box(store, wrong)
    assert add_box(store, wrong) == first
    corrected = add_box(store, _box(status="corrected", corrects=f"{IMAGE}:Mass:0", x=300))
    assert [(b.status, b.corrects) for b in list_boxes(store)] == [("wrong", f"{IMAGE}:Mass:0"), ("corrected", f"{IMAGE}:Mass:0")]
    assert corrected != first


def test_the_limit_holds_when_many_tabs_add_at_once(target):
    from concurrent.futures import ThreadPoolExecutor

    store = Store(target, timeout=30)
    store.save_review(IMAGE, "ann", ["Mass"], "corrected")  # the reviewer exists before the race

    def one(i: int) -> str:
        try:
            add_box(Store(target, timeout=30), _box(x=i * 10, w=5))
            return "kept"
        except BoxError:
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one, range(28)))
    assert outcomes.count("kept") == 20 and outcomes.count("refused") == 8
    assert len(list_boxes(store, IMAGE)) == 20


def test_a_0002_store_upgrades_to_boxes_keeping_every_review(target):
    import sqlalchemy as sa
    from alembic import command

    from cxrviz.review.store.core import engine_url
    from cxrviz.review.store.migrate import _config, head_revision

    engine = sa.create_engine(engine_url(target))
    with engine.begin() as conn:  # the schema of the release before boxes, with reviews in it
        command.upgrade(_config(conn), "0002")
        conn.execute(sa.text("INSERT INTO reviewers (id, name, name_key, created_at) VALUES (1, 'Ann', 'ann', 't0')"))
        conn.execute(sa.text("INSERT INTO reviews (id, image, reviewer_id, labels, status, note, created_at, updated_at) "
                             "VALUES (1, :image, 1, 'Mass', 'corrected', 'kept', 't0', 't1')"), {"image": IMAGE})
        assert "boxes" not in sa.inspect(conn).get_table_names()
    engine.dispose()
    store = Store(target)
    assert store.migrate() == head_revision()
    [review] = store.reviews()
    assert (review.reviewer, review.labels, review.note, review.updated_at) == ("Ann", ("Mass",), "kept", "t1")
    add_box(store, _box(reviewer="ann"))
    assert [b.reviewer for b in list_boxes(store)] == ["Ann"]  # the box joins the existing reviewer


def test_the_same_box_saved_twice_is_refused_with_a_sentence(target):
    # a double click on Save sends the drawn rectangle twice: the second is one box too many
    store = Store(target)
    first = add_box(store, _box())
    with pytest.raises(BoxError, match=rf"already saved this Mass box on {IMAGE} \(#{first}\)"):
        add_box(store, _box(x=101.5, h=41))  # within 2 px of the 1024 frame: the same box
    with pytest.raises(BoxError, match="already saved"):  # a file of another size, the same place: still the same box
        add_box(store, _box(x=50.25, y=100.125, w=25, h=20, frame_width=512, frame_height=512))
    add_box(store, _box(x=110))  # 9.5 px off: a second box of the same finding is allowed
    add_box(store, _box(finding="Nodule"))  # the same place for another finding
    add_box(store, _box(reviewer="bob"))  # another reader's box
    add_box(store, _box(status="corrected", corrects=f"{IMAGE}:Mass:0"))  # a correction of an NIH box is another kind
    assert len(list_boxes(store, IMAGE)) == 5
    assert [e["action"] for e in box_log(store, IMAGE)] == ["box-create"] * 5
