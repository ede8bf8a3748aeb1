"""The overlay toggles of the image view through AppTest: each hides its layer from the picture
(what the renderer is given, and the PNG itself), and the choice is the reader's own in their next
session; without a name, or with the store failing, the session keeps it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cxrviz.app import image_view
from cxrviz.errors import StoreError
from cxrviz.review.store import Store
from cxrviz.review.store.settings import get_settings
from tests.conftest import BOXED_1024, REPO, shown

TIMEOUT = 240


@pytest.fixture()
def renders(monkeypatch):
    """Every picture the renderer draws: (box labels, heatmap given, PNG bytes)."""
    calls = []
    real = image_view.render_png

    def spy(gray, cam, boxes, *args, **kwargs):
        png = real(gray, cam, boxes, *args, **kwargs)
        calls.append(([b.label for b in boxes], cam is not None, png))
        return png

    image_view._rendered.clear()
    monkeypatch.setattr(image_view, "render_png", spy)
    return calls


def _scores(at: AppTest) -> list:
    return [t for t in at.table if "IoU" in t.value.columns]


def _image_page(reviewer: str | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["image"] = BOXED_1024
    if reviewer:
        at.query_params["reviewer"] = reviewer
    at.switch_page("pages/image.py")
    return at.run()


def test_each_toggle_hides_its_layer_and_the_reader_gets_them_back_next_session(app_env, renders):
    at = _image_page("ann")
    assert not at.exception, [e.value for e in at.exception]
    labels, heat, first = renders[-1]
    assert labels == ["GT Cardiomegaly", "CAM Cardiomegaly"] and heat  # the model's top finding here (tests/app/test_app.py)
    assert len(_scores(at)) == 1  # the CAM box scored against the NIH box

    at.button(key="image_nih_boxes").click().run()
    labels, heat, second = renders[-1]
    assert labels == ["CAM Cardiomegaly"] and heat and second != first
    assert not _scores(at) and "ground-truth" not in (at.get("image")[0].proto.imgs[0].caption or "")  # no score against a hidden answer
    at.button(key="image_heatmap").click().run()
    labels, heat, third = renders[-1]
    assert labels == ["CAM Cardiomegaly"] and not heat and third != second
    at.button(key="image_cam_box").click().run()
    assert renders[-1][:2] == ([], False)
    assert [at.button(key=f"image_{k}").proto.type for k in ("nih_boxes", "heatmap", "cam_box")] == ["secondary"] * 3

    store = Store(str(app_env / "reviews.sqlite"))
    assert get_settings(store, "Ann") == {"overlay.nih_boxes": False, "overlay.heatmap": False, "overlay.cam_box": False}
    renders.clear(), image_view._rendered.clear()  # a picture drawn before would come from the cache
    again = _image_page("ANN")  # a new session of the same reader
    assert renders and renders[-1][:2] == ([], False)
    again.button(key="image_nih_boxes").click().run()  # and back on
    assert renders[-1][:2] == (["GT Cardiomegaly"], False)
    assert get_settings(store, "ann")["overlay.nih_boxes"] is True
    renders.clear(), image_view._rendered.clear()  # a picture drawn before would come from the cache
    _image_page("bob")  # another reader has their own: everything shown
    assert renders[-1][:2] == (["GT Cardiomegaly", "CAM Cardiomegaly"], True)


def test_without_a_name_the_session_remembers(app_env, renders):
    at = _image_page()
    at.button(key="image_nih_boxes").click().run()
    at.run()
    assert renders[-1][0] == ["CAM Cardiomegaly"]
    at.selectbox(key="image_method").set_value("EigenCAM").run()
    assert renders[-1][0] == ["CAM Cardiomegaly"]  # still hidden after another choice
    import sqlalchemy as sa

    with Store(str(app_env / "reviews.sqlite")).engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM reader_settings")).scalar_one() == 0


def test_a_store_that_fails_leaves_the_toggle_working_and_says_so(app_env, renders, monkeypatch):
    import cxrviz.review.store.settings as settings

    def refuse(*args, **kwargs):
        raise StoreError("the review store is locked")

    monkeypatch.setattr(settings, "set_setting", refuse)
    at = _image_page("ann")
    at.button(key="image_nih_boxes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert renders[-1][0] == ["CAM Cardiomegaly"]
    assert any("could not be saved" in shown(w.value) and "this session keeps them" in shown(w.value) for w in at.warning)
    at.run()
    assert renders[-1][0] == ["CAM Cardiomegaly"]  # the session keeps the choice
