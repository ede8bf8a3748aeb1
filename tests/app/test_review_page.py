"""The Review page as an annotator uses it: drafts that survive navigation, a locked database,
a stale form, names, progress. Labels and statuses are buttons (their keys work wherever focus is)."""

from __future__ import annotations

import contextlib
import sqlite3
import sys

import pytest
from streamlit.testing.v1 import AppTest

from cxrviz.review.store import Store
from tests.conftest import REPO

TIMEOUT = 240


def _review(reviewer: str | None = "Dr Ann", **params) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("pages/review.py")
    at.run()
    if reviewer is not None:
        at.text_input(key="reviewer").input(reviewer).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _ticked(at: AppTest, image: str) -> set[str]:
    prefix = f"lab_{image}_"
    return {b.key.removeprefix(prefix) for b in at.button if b.key and b.key.startswith(prefix) and b.proto.type == "primary"}


def _press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _store(app_env) -> Store:
    return Store(str(app_env / "reviews.sqlite"))


def test_label_with_buttons_save_and_move_on(app_env):
    at = _review()
    first = at.session_state["image"]
    _press(at, f"lab_{first}_Hernia")
    assert "Hernia" in _ticked(at, first) and "No Finding" not in _ticked(at, first)  # a finding unticks No Finding
    at.text_area(key=f"note_{first}").input("<b>bold?</b> =1+1").run()
    _press(at, f"save_{first}")
    assert any("Saved" in t.value for t in at.toast)
    assert at.session_state["image"] != first
    saved = _store(app_env).reviews(first)
    assert len(saved) == 1 and "Hernia" in saved[0].labels and saved[0].note == "<b>bold?</b> =1+1"
    assert saved[0].reviewer == "Dr Ann"
    assert saved[0].status == "corrected"  # 'confirmed' with changed labels is a correction


def test_drafts_survive_next_previous_and_a_page_switch(app_env):
    at = _review()
    first = at.session_state["image"]
    _press(at, f"lab_{first}_Mass")
    _press(at, f"status_{first}_uncertain")
    at.text_area(key=f"note_{first}").input("check the left apex").run()
    at.button[[b.label for b in at.button].index("Next ▶")].click().run()
    second = at.session_state["image"]
    assert second != first
    assert any(first in t.value and "unsaved" in t.value for t in at.text)
    at.button[[b.label for b in at.button].index("◀ Previous")].click().run()
    assert at.session_state["image"] == first
    assert "Mass" in _ticked(at, first)
    assert at.button(key=f"status_{first}_uncertain").proto.type == "primary"
    assert at.text_area(key=f"note_{first}").value == "check the left apex"
    at.switch_page("pages/agreement.py").run()
    at.switch_page("pages/review.py").run()
    assert at.text_area(key=f"note_{first}").value == "check the left apex" and "Mass" in _ticked(at, first)
    assert _store(app_env).reviews() == []  # a draft is not a save


def test_a_locked_database_keeps_the_form_and_the_next_save_lands(app_env, monkeypatch):
    monkeypatch.setenv("CXRVIZ_DB_TIMEOUT", "0.2")
    at = _review()
    image = at.session_state["image"]
    _press(at, f"lab_{image}_Hernia")
    at.text_area(key=f"note_{image}").input("important observation").run()
    blocker = sqlite3.connect(app_env / "reviews.sqlite", timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    blocker.execute("INSERT INTO reviewers (name, name_key, created_at) VALUES ('zed', 'zed', 'x')")
    try:
        _press(at, f"save_{image}")
        assert any("locked by another program" in e.value and "Nothing was written" in e.value for e in at.error)
        assert at.session_state["image"] == image
        assert at.text_area(key=f"note_{image}").value == "important observation"
        assert "Hernia" in _ticked(at, image)
    finally:
        blocker.rollback()
        blocker.close()
    _press(at, f"save_{image}")
    assert at.session_state["image"] != image
    assert [r.note for r in _store(app_env).reviews(image)] == ["important observation"]


@pytest.mark.parametrize("choice", ["Merge", "Keep mine", "Keep theirs"])
def test_a_stale_form_offers_theirs_mine_or_merge(app_env, choice):
    at = _review()
    image = at.session_state["image"]
    _press(at, f"lab_{image}_Hernia")
    mine = _ticked(at, image)
    at.text_area(key=f"note_{image}").input("mine").run()
    # meanwhile, the same reviewer saves this image from another tab
    _store(app_env).save_review(image, "dr ann", ["Mass"], "corrected", "theirs")
    _press(at, f"save_{image}")
    assert any("since you opened it" in e.value for e in at.error)
    assert at.session_state["image"] == image
    assert [r.note for r in _store(app_env).reviews(image)] == ["theirs"]  # nothing overwritten
    at.button[[b.label for b in at.button].index(choice)].click().run()
    if choice == "Keep theirs":
        assert _ticked(at, image) == {"Mass"} and at.text_area(key=f"note_{image}").value == "theirs"
        return
    _press(at, f"save_{image}")
    saved = _store(app_env).reviews(image)
    assert len(saved) == 1
    if choice == "Merge":
        assert set(saved[0].labels) == mine | {"Mass"} and saved[0].note == "theirs\n---\nmine"
    else:
        assert set(saved[0].labels) == mine and saved[0].note == "mine"


def test_the_name_is_kept_in_the_url_and_progress_counts_mine_and_everyone(app_env, nih_images):
    store = _store(app_env)
    names = sorted(p.name for p in nih_images.glob("*.png"))
    store.save_review(names[0], "Bob", [], "confirmed")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["reviewer"] = "  Dr   Ann "
    at.switch_page("pages/review.py").run()
    assert at.text_input(key="reviewer").value == "  Dr   Ann "
    assert at.query_params["reviewer"] == "Dr Ann"
    assert any("You: 0 of" in p.proto.text and "anyone: 1" in p.proto.text for p in at.get("progress"))
    image = at.session_state["image"]
    _press(at, f"save_{image}")
    assert any("You: 1 of" in p.proto.text for p in at.get("progress"))
    assert {r.reviewer for r in store.reviews()} == {"Bob", "Dr Ann"}


def test_a_name_with_invisible_characters_is_refused_with_a_message(app_env):
    at = _review(reviewer="ann\u200b")
    assert any("invisible or control characters" in e.value for e in at.error)
    assert not any(b.key and b.key.startswith("save_") for b in at.button)


def test_an_adjudicated_image_shows_the_expert_labels_beside_the_nih_ones(app_env):
    from cxrviz.data.expert import load_expert_labels

    at = _review(image="00013519_000.png")  # one of the shared images Google's radiologists adjudicated
    assert at.session_state["image"] == "00013519_000.png"
    expected = load_expert_labels().of("00013519_000.png")
    assert expected
    shown = [c.value for c in at.caption if "Google 2019" in c.value]
    assert shown and all(f in shown[0] for f in expected)


def _in_image_fragment() -> bool:
    """Whether the caller runs inside the page's image fragment (`review_image` of pages/review.py)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "review_image" and frame.f_code.co_filename.endswith("review.py"):
            return True
        frame = frame.f_back
    return False


def test_save_and_next_reruns_the_image_fragment_on_one_read_transaction(app_env, nih_images, monkeypatch):
    """The image under review is one value from one read (`team.under_review`): own review, others',
    boxes, drafts, measurements, reports, progress. Before it a save-and-next rerun opened 11 read
    transactions (two progress reads, the gate and the boxes, kept drafts, the stored draft, the
    measurements' gate and rows, the report versions, the others' reports' gate and rows)."""
    from cxrviz.review.measurements import Measurement
    from cxrviz.review.store import reports as store_reports
    from cxrviz.review.store.drafts import save_draft
    from cxrviz.review.store.measurements import add_measurement

    store = _store(app_env)
    first, second, third = sorted(p.name for p in nih_images.glob("*.png"))[:3]
    store.save_review(second, "Dr Bob", ["Mass"], "corrected")
    signed = store_reports.save_text(store, second, "Dr Bob", "Bob's report on the mass")
    store_reports.sign(store, second, "Dr Bob", signed.version, signed.text)
    add_measurement(store, Measurement(second, "Dr Bob", "length", ((200.0, 500.0), (500.0, 500.0)), 1024, 1024, None, "PA"))
    save_draft(store, second, "Dr Ann", ["Hernia"], "corrected", "typed in another tab", None)
    save_draft(store, third, "Dr Ann", ["Nodule"], "corrected", "", None)
    at = _review()
    assert at.session_state["image"] == first
    _press(at, f"lab_{first}_Effusion")
    opened = {"reading": 0, "writing": 0}
    real_reading, real_writing = Store.reading, Store.writing

    def counted(kind, real):
        @contextlib.contextmanager
        def opening(self):
            if _in_image_fragment():
                opened[kind] += 1
            with real(self) as conn:
                yield conn
        return opening

    monkeypatch.setattr(Store, "reading", counted("reading", real_reading))
    monkeypatch.setattr(Store, "writing", counted("writing", real_writing))
    _press(at, f"save_{first}")
    assert at.session_state["image"] == second
    assert opened == {"reading": 1, "writing": 0}, opened
    # and what the one read carried is what the fragment drew
    assert "Hernia" in _ticked(at, second) and at.text_area(key=f"note_{second}").value == "typed in another tab"
    assert any("Draft restored from" in c.value for c in at.caption)
    assert any(third in t.value and "unsaved drafts kept" in t.value for t in at.text)
    assert any("You: 1 of" in p.proto.text and "anyone: 2" in p.proto.text for p in at.get("progress"))
    assert any("Other readers' signed reports (1)" in e.label for e in at.expander)
    assert any("Dr Bob" in str(t.value) for t in at.table)  # the measurement table under the picture
