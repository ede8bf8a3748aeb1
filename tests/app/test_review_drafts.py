"""Nothing typed on Review is lost: drafts kept in the store across a reload, a new tab or a server
restart (each a new session here), stale drafts offered rather than applied, store failures and
over-long text said out loud."""

from __future__ import annotations

import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from cxrviz.app.review_form import MAX_NOTE_CHARS
from cxrviz.review.identity import MAX_NAME_LENGTH
from cxrviz.review.store import Store
from cxrviz.review.store.drafts import load_draft
from tests.conftest import REPO, shown

TIMEOUT = 240


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _review(image: str | None = None, reviewer: str = "Dr Ann") -> AppTest:
    """A new session on Review (a reload, a new tab, a restarted server's reconnect): the URL
    holds the image and the name."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["reviewer"] = reviewer
    if image:
        at.query_params["image"] = image
    at.switch_page("pages/review.py")
    return _ok(at.run())


def _ticked(at: AppTest, image: str) -> set[str]:
    prefix = f"lab_{image}_"
    return {b.key.removeprefix(prefix) for b in at.button if b.key and b.key.startswith(prefix) and b.proto.type == "primary"}


def _press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    return _ok(at)


def _store(app_env) -> Store:
    return Store(str(app_env / "reviews.sqlite"))


def _captions(at: AppTest) -> list[str]:
    return [shown(c.value) for c in at.caption]


def test_a_reload_restores_the_draft_and_the_save_clears_it(app_env):
    at = _review()
    image = at.session_state["image"]
    _press(at, f"lab_{image}_Hernia")
    _press(at, f"status_{image}_uncertain")
    at.text_area(key=f"note_{image}").input("check the left apex").run()
    ticked = _ticked(at, image)
    assert load_draft(_store(app_env), image, "dr ann").note == "check the left apex"

    again = _review(image)  # reload: a new session, nothing of the old one
    assert again.session_state["image"] == image
    assert _ticked(again, image) == ticked
    assert again.button(key=f"status_{image}_uncertain").proto.type == "primary"
    assert again.text_area(key=f"note_{image}").value == "check the left apex"
    assert any(m.value.startswith("**Your labels** · *unsaved*") for m in again.markdown)
    assert any(c.startswith("Draft restored from 20") and c.endswith(" UTC") for c in _captions(again))

    _press(again, f"save_{image}")
    saved = _store(app_env).reviews(image)
    assert [r.note for r in saved] == ["check the left apex"] and "Hernia" in saved[0].labels
    assert load_draft(_store(app_env), image, "Dr Ann") is None
    third = _review(image)  # the saved review, not a draft, fills the form now
    assert not any(c.startswith("Draft restored") for c in _captions(third))
    assert _ticked(third, image) == set(saved[0].labels)


def test_unticking_back_to_the_saved_labels_leaves_no_draft(app_env):
    at = _review()
    image = at.session_state["image"]
    _press(at, f"lab_{image}_Hernia")
    assert load_draft(_store(app_env), image, "Dr Ann") is not None
    _press(at, f"lab_{image}_Hernia")
    assert load_draft(_store(app_env), image, "Dr Ann") is None
    assert not any(c.startswith("Draft restored") for c in _captions(_review(image)))


@pytest.mark.parametrize("keep", [True, False])
def test_a_draft_made_before_a_newer_save_is_offered_not_applied(app_env, keep):
    at = _review()
    image = at.session_state["image"]
    _press(at, f"lab_{image}_Hernia")
    _store(app_env).save_review(image, "dr ann", ["Mass"], "corrected", "from another tab")  # saved meanwhile (and
    assert load_draft(_store(app_env), image, "Dr Ann") is None  # that save cleared the draft it replaced)
    _press(at, f"lab_{image}_Nodule")  # this tab goes on: its draft is on the version it opened
    mine = _ticked(at, image)

    again = _review(image)
    assert _ticked(again, image) == {"Mass"}  # the newer save, not the old draft
    (warning,) = [shown(w.value) for w in again.warning if "draft" in w.value]
    assert "your saved review changed since it was started" in warning and "Hernia" in warning and "Nodule" in warning
    _press(again, f"draft_keep_{image}" if keep else f"draft_drop_{image}")
    assert not [w for w in again.warning if "draft" in w.value]
    if not keep:
        assert _ticked(again, image) == {"Mass"} and load_draft(_store(app_env), image, "Dr Ann") is None
        return
    assert _ticked(again, image) == mine
    _press(again, f"save_{image}")  # on top of the newer save: not refused as stale
    assert not again.error
    assert [set(r.labels) for r in _store(app_env).reviews(image)] == [mine]


def test_a_locked_store_keeps_the_change_and_says_the_draft_was_not_stored(app_env, monkeypatch):
    monkeypatch.setenv("CXRVIZ_DB_TIMEOUT", "0.2")
    at = _review()
    image = at.session_state["image"]
    blocker = sqlite3.connect(app_env / "reviews.sqlite", timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    blocker.execute("INSERT INTO reviewers (name, name_key, created_at) VALUES ('zed', 'zed', 'x')")
    try:
        _press(at, f"lab_{image}_Hernia")
        assert "Hernia" in _ticked(at, image)
        assert any("could not be stored as a draft" in shown(w.value) and "locked by another program" in shown(w.value)
                   for w in at.warning), [w.value for w in at.warning]
    finally:
        blocker.rollback()
        blocker.close()
    _press(at, f"save_{image}")
    assert "Hernia" in _store(app_env).reviews(image)[0].labels


def test_a_note_longer_than_the_limit_is_cut_and_the_page_says_so(app_env):
    at = _review()
    image = at.session_state["image"]
    at.text_area(key=f"note_{image}").input("x" * (MAX_NOTE_CHARS + 5_000)).run()
    assert len(_ok(at).text_area(key=f"note_{image}").value) == MAX_NOTE_CHARS
    assert any(f"cut to its first {MAX_NOTE_CHARS:,} characters" in shown(w.value) and "25,000" in shown(w.value)
               for w in at.warning)
    _press(at, f"save_{image}")
    assert len(_store(app_env).reviews(image)[0].note) == MAX_NOTE_CHARS


def test_a_5000_character_name_is_cut_to_the_limit_with_a_message(app_env):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("pages/review.py")
    _ok(at.run()).text_input(key="reviewer").input("a" * 5000).run()
    assert _ok(at).text_input(key="reviewer").value == "a" * MAX_NAME_LENGTH
    assert any(f"cut to its first {MAX_NAME_LENGTH}" in shown(w.value) and "5,000" in shown(w.value) for w in at.sidebar.warning)
    assert any(b.key and b.key.startswith("save_") for b in at.button)  # the form is there, under the cut name


def test_a_new_session_lists_the_images_with_a_stored_draft(app_env):
    at = _review()
    first = at.session_state["image"]
    _press(at, f"lab_{first}_Hernia")
    at.button(key="review_next").click().run()
    second = _ok(at).session_state["image"]
    assert second != first
    elsewhere = _review(second)  # another tab, on another image
    assert any(t.value.startswith(f"{second} (") and f"unsaved drafts kept: {first}" in t.value for t in elsewhere.text)
