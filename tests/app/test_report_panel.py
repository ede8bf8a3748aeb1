"""The Report panel (AppTest): draft from the saved reading, edit (saved as it changes), sign,
read-only after signing, a new version that keeps the old; report text is shown as text."""

from __future__ import annotations

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.reports import UNVERIFIED
from cxrviz.review.store import Store
from cxrviz.review.store import reports as stored
from cxrviz.review.store.boxes import add_box
from tests.conftest import REPO, shown

IMAGE = "00001511_000.png"  # AP; the patient's prior study is 00001511_002.png (follow-up #1)
TIMEOUT = 120


def _script(db: str, image: str, reader: str) -> None:
    import streamlit as st

    from cxrviz.app import report_view
    from cxrviz.data.metadata import load_metadata
    from cxrviz.review.store import Store, team

    @st.cache_resource
    def metadata():
        return load_metadata()

    store = Store(db)
    report_view.panel(store, image, reader, team.image_under_review(store, image, reader), metadata())


def _panel(db: str, reader: str = "Dr Ann") -> AppTest:
    at = AppTest.from_function(_script, args=(db, IMAGE, reader), default_timeout=TIMEOUT)
    return _ok(at.run())


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_draft_edit_sign_read_only_then_new_version(tmp_path, nih_images):
    db = str(tmp_path / "reviews.sqlite")
    store = Store(db)
    with Image.open(nih_images / IMAGE) as im:
        w, h = im.size
    store.save_review(IMAGE, "Dr Ann", ["Nodule"], "corrected")
    add_box(store, ReviewerBox(IMAGE, "Dr Ann", "Nodule", 0.2 * w, 0.15 * h, 0.1 * w, 0.1 * h, w, h))  # centre (25%, 20%)

    at = _panel(db)
    assert any(w.value.startswith(UNVERIFIED) for w in at.warning)
    at.button(key=f"report_draft_{IMAGE}").click().run()
    _ok(at)
    box = at.text_area(key=f"report_text_{IMAGE}_v1")
    assert "Nodule in the right upper zone." in box.value
    assert "Comparison: prior study 00001511_002.png (follow-up #1); its NIH labels: Effusion, Infiltration." in box.value
    assert box.value.startswith(f"CHEST RADIOGRAPH (AP): {IMAGE}")

    typed = box.value + "\n\nAddendum: **not bold** <b>nor html</b> [link](http://x.org)"
    box.input(typed).run()  # leaving the box saves it
    _ok(at)
    assert stored.latest(store, IMAGE, "Dr Ann").text == typed
    again = _panel(db)  # a reload finds the edited draft
    assert again.text_area(key=f"report_text_{IMAGE}_v1").value == typed

    at.button(key=f"report_sign_{IMAGE}").click().run()
    _ok(at)
    assert not at.text_area  # read-only now: no text area left
    assert _texts(at) == [typed]  # shown as text, the Markdown and HTML as typed
    signed = stored.latest(store, IMAGE, "Dr Ann")
    assert signed.signed_by == "Dr Ann" and signed.text == typed
    assert any(shown(s.value).startswith("Signed by Dr Ann at 20") and shown(s.value).endswith("UTC (version 1)") for s in at.success)
    assert not any(w.value.startswith(UNVERIFIED) for w in at.warning)
    assert [d.proto.label for d in at.get("download_button")] == ["Text (.txt)", "FHIR R4 JSON (.json)", "DICOM SR (.dcm)"]
    assert any("version 1" in c.value for c in at.caption)

    at.button(key=f"report_new_{IMAGE}").click().run()
    _ok(at)
    second = at.text_area(key=f"report_text_{IMAGE}_v2")
    assert second.value == typed
    assert any(w.value.startswith(UNVERIFIED) for w in at.warning)
    second.input("Amended: nodule unchanged.").run()
    _ok(at)
    assert [(v.version, v.signed) for v in stored.versions(store, IMAGE, "Dr Ann")] == [(1, True), (2, False)]
    assert typed in _texts(at)  # version 1 listed, as signed
    assert any(shown(c.value).startswith("Signed by Dr Ann") for c in at.caption)


def test_no_draft_before_a_reading_and_a_sign_from_another_tab_is_refused(tmp_path):
    db = str(tmp_path / "reviews.sqlite")
    at = _panel(db)
    assert at.button(key=f"report_draft_{IMAGE}").disabled
    at.text_area(key=f"report_text_{IMAGE}_v0").input("Typed without a draft.").run()
    _ok(at)
    assert stored.latest(Store(db), IMAGE, "Dr Ann").text == "Typed without a draft."
    other_tab = _panel(db)
    stored.sign(Store(db), IMAGE, "Dr Ann", 1)  # signed elsewhere meanwhile
    other_tab.text_area(key=f"report_text_{IMAGE}_v1").input("A late change.").run()
    _ok(other_tab)
    assert any("was not saved" in shown(e.value) and "cannot change" in shown(e.value) for e in other_tab.error)
    assert stored.latest(Store(db), IMAGE, "Dr Ann").text == "Typed without a draft."


def _review_page(image: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=240)
    at.query_params["reviewer"] = "Dr Ann"
    at.query_params["image"] = image
    at.switch_page("pages/review.py")
    _ok(at.run())
    assert at.session_state["image"] == image
    return at


def test_the_review_page_drafts_the_report_from_the_reading_saved(app_env):
    at = _review_page(IMAGE)
    assert at.button(key=f"report_draft_{IMAGE}").disabled  # nothing saved yet
    at.button(key=f"lab_{IMAGE}_Pneumothorax").click().run()
    at.button(key=f"save_{IMAGE}").click().run()  # saves, then moves on to the next image
    _ok(at)
    at = _review_page(IMAGE)
    at.button(key=f"report_draft_{IMAGE}").click().run()
    _ok(at)
    text = at.text_area(key=f"report_text_{IMAGE}_v1").value
    assert "Pneumothorax, location not marked." in text and "Comparison: prior study 00001511_002.png" in text
    assert any(w.value.startswith(UNVERIFIED) for w in at.warning)


def test_drafting_over_written_text_asks_first_and_a_changed_reading_is_said(tmp_path):
    db = str(tmp_path / "reviews.sqlite")
    store = Store(db)
    store.save_review(IMAGE, "Dr Ann", ["Mass"], "corrected")
    at = _panel(db)
    at.text_area(key=f"report_text_{IMAGE}_v0").input("My own words.").run()
    _ok(at)
    assert stored.latest(store, IMAGE, "Dr Ann").findings == ("Mass",)  # the saved reading's, written by hand
    at.button(key=f"report_draft_{IMAGE}").click().run()
    _ok(at)
    assert any("replaces the text you have written" in w.value for w in at.warning)
    at.button(key=f"report_keep_{IMAGE}").click().run()
    _ok(at)
    assert at.text_area(key=f"report_text_{IMAGE}_v1").value == "My own words."
    assert not any("replaces the text" in w.value for w in at.warning)
    at.button(key=f"report_draft_{IMAGE}").click().run()
    at.button(key=f"report_redraft_{IMAGE}").click().run()
    _ok(at)
    assert "Mass, location not marked." in at.text_area(key=f"report_text_{IMAGE}_v1").value
    assert stored.latest(store, IMAGE, "Dr Ann").text.startswith("CHEST RADIOGRAPH")
    assert [e["old_values"] for e in stored.report_log(store, IMAGE)][-1].find("My own words.") > 0  # kept in the log

    at.button(key=f"report_sign_{IMAGE}").click().run()
    store.save_review(IMAGE, "Dr Ann", ["Mass", "Effusion"], "corrected")  # the reading changes after signing
    at = _panel(db)
    assert any("it now has Effusion, Mass; this version reports Mass" in shown(i.value) and "new version" in shown(i.value)
               for i in at.info)


@pytest.mark.parametrize("drafted", [False, True], ids=["written-by-hand", "after-the-draft"])
def test_typed_then_signed_in_one_rerun_signs_the_typed_text_without_an_error(tmp_path, drafted):
    """Typing and pressing Sign straight from the box runs the text's autosave and Sign in one rerun:
    whichever runs first, the typed text is signed once and no false "changed in another tab" shows."""
    db = str(tmp_path / "reviews.sqlite")
    store = Store(db)
    store.save_review(IMAGE, "Dr Ann", ["Nodule"], "corrected")
    at = _panel(db)
    version = 0
    if drafted:
        at.button(key=f"report_draft_{IMAGE}").click().run()
        version = 1
    typed = "Typed by hand: **a nodule**, <i>right</i>."
    at.text_area(key=f"report_text_{IMAGE}_v{version}").set_value(typed)
    at.button(key=f"report_sign_{IMAGE}").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    signed = stored.latest(store, IMAGE, "Dr Ann")
    assert signed.signed and signed.version == 1 and signed.text == typed
    assert [v.version for v in stored.versions(store, IMAGE, "Dr Ann")] == [1]
