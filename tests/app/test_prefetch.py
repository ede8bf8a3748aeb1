"""The next image is ready before "Save and next": its probabilities, their chart and the heatmap the
page will show first (the finding on top of the bars as shown, calibrated) are computed while the
reader looks at this one, and the page uses them without computing any of them again."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cxrviz.app import prefetch
from cxrviz.app.text import escape_markdown
from cxrviz.data.imaging import load_gray
from cxrviz.findings import FINDINGS
from tests.conftest import REPO

TIMEOUT = 240


def _settle() -> None:
    """Wait for the prefetch thread's queued jobs (one worker: jobs run in order)."""
    prefetch._executor.submit(lambda: None).result(timeout=TIMEOUT)


@pytest.fixture(autouse=True)
def _fresh_prefetch():
    """The prefetch cache is process-wide: start each test without what earlier tests left there."""
    _settle()
    with prefetch._lock:
        prefetch._results.clear()
        prefetch._queued.clear()


def _fail(what: str):
    def refuse(*args, **kwargs):
        raise AssertionError(f"the page computed {what} again instead of using the prefetched one")
    return refuse


@pytest.mark.parametrize("view_changed", [False, True])
def test_save_and_next_draws_the_prefetched_probabilities_chart_heatmap_and_picture(app_env, nih_images, monkeypatch,
                                                                                     view_changed):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["reviewer"] = "Dr Fast"
    at.switch_page("pages/review.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if view_changed:  # the next picture is rendered with the reader's window, zoom and colours, not the defaults
        at.slider(key="review_level").set_value(0.4).run()
        at.slider(key="review_zoom").set_value(2.0).run()
        at.slider(key="review_cx").set_value(0.3).run()
        at.selectbox(key="review_cmap").set_value("inferno").run()
        assert not at.exception, [e.value for e in at.exception]
    first = at.session_state["image"]
    following = sorted(p.name for p in nih_images.glob("*.png"))[1]
    _settle()
    key = prefetch.image_key(load_gray(nih_images / following))
    cams = [k for k in list(prefetch._results) if k[0] == "cam" and k[1] == key]
    assert len(cams) == 1, cams  # one heatmap, of the finding the page will show
    assert any(k[0] == "figure" for k in prefetch._results)
    pictures = [k for k in list(prefetch._results) if k[0] == "png" and k[1][0] == key]
    # one per choice of view (AppTest reruns the whole page; in a browser a view change reruns only the viewer,
    # so the next image prefetched before it misses once and is rendered when shown)
    assert len(pictures) == (5 if view_changed else 1), pictures
    assert pictures[-1][3] == ((0.4, 1.0, False, 2.0, (0.3, 0.5)) if view_changed else (0.5, 1.0, False, 1.0, (0.5, 0.5)))
    assert pictures[-1][5] == ("inferno" if view_changed else "jet")

    # From here on, a recomputation fails the run: the model, a heatmap, the chart, the picture.
    import cxrviz.app.image_view as image_view
    import cxrviz.app.plots as plots
    import cxrviz.app.viewer as viewer
    import cxrviz.explain.cam as cam

    monkeypatch.setattr(image_view, "render_now", _fail("the picture"))
    monkeypatch.setattr(viewer, "predict_gray", _fail("the probabilities"))
    monkeypatch.setattr(cam, "heatmap", _fail("a heatmap"))
    monkeypatch.setattr(plots, "probability_bar", _fail("the probability chart"))
    at.button(key=f"save_{first}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["image"] == following
    assert at.selectbox(key=f"review_finding_{key}").value == FINDINGS[cams[0][-2]]  # the prefetched one is the one shown
    assert cams[0][-1] == at.selectbox(key="review_method").value == "GradCAM"
    assert any("Saved" in t.value for t in at.toast)
    _settle()  # the image after it, prefetched under the patches above (and logged as failed), before they go


@pytest.mark.parametrize("calibrated", [True, False])
def test_the_prefetched_heatmap_follows_the_calibration_toggle(app_env, nih_images, calibrated):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["reviewer"] = "Dr Fast"
    at.switch_page("pages/review.py")
    at.run()
    if not calibrated:
        at.toggle(key="review_calibrated").set_value(False).run()
    assert not at.exception, [e.value for e in at.exception]
    following = sorted(p.name for p in nih_images.glob("*.png"))[1]
    _settle()
    key = prefetch.image_key(load_gray(nih_images / following))
    wanted = {k[-2] for k in list(prefetch._results) if k[0] == "cam" and k[1] == key}
    at.button(key=f"save_{at.session_state['image']}").click().run()
    shown = FINDINGS.index(at.selectbox(key=f"review_finding_{key}").value)
    assert shown in wanted
    if calibrated:  # the toggle off: the first run's (calibrated) prefetch is there too
        assert wanted == {shown}


def test_the_viewer_queues_the_next_prefetch_on_its_own_reruns(nih_images):
    """A view change reruns only the viewer fragment in a browser: its body must queue the next
    image's prefetch itself, with the view just chosen (not only the page around it)."""
    def script(folder: str) -> None:
        from pathlib import Path

        import streamlit as st

        from cxrviz.app import viewer
        from cxrviz.data.imaging import load_gray

        gray = load_gray(sorted(Path(folder).glob("*.png"))[0])
        calls = st.session_state.setdefault("next_up_calls", [])
        viewer._viewer.__wrapped__(gray, "k", None, None, [], "t", next_up=lambda: calls.append(len(calls)))

    at = AppTest.from_function(script, args=(str(nih_images),), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["next_up_calls"] == [0]
    at.slider(key="t_level").set_value(0.3).run()
    assert at.session_state["next_up_calls"] == [0, 1]


def _blind_reading(app_env, nih_images) -> tuple[AppTest, str, str]:
    """A signed-in reader of a blind campaign that hides the references of the first two images,
    on the Review page at the first: (the page, first, second)."""
    from cxrviz.review.campaigns import CampaignSpec
    from cxrviz.review.store import Store, team
    from tests.app.test_auth import AUTH

    first, second = sorted(p.name for p in nih_images.glob("*.png"))[:2]
    admin, reader = "ann@example.org", "cy@example.org"
    store = Store(str(app_env / "reviews.sqlite"))
    team.sign_in(store, admin)
    team.set_role(store, admin, reader, "reader")
    team.create_campaign(store, admin, CampaignSpec("pilot", (first, second), (reader,), 1, blind=True, hide_references=True))
    store.dispose()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.user = {"is_logged_in": True, "name": "cy", "email": reader}
    at.secrets = AUTH
    at.query_params["image"] = first
    at.switch_page("pages/review.py")
    at.run()
    return at, first, second


def test_after_a_hidden_image_the_next_is_prefetched_and_a_hidden_next_is_drawn_plain(app_env, nih_images, monkeypatch):
    from cxrviz.app import image_view

    at, first, second = _blind_reading(app_env, nih_images)
    assert not at.exception, [e.value for e in at.exception]
    assert any("Campaign reading" in c.value for c in at.caption)  # this one's references are hidden
    _settle()
    key = prefetch.image_key(load_gray(nih_images / second))
    ready = [k for k in list(prefetch._results) if (k[0] == "probs" and k[1] == key) or (k[0] == "png" and k[1][0] == key)]
    assert {k[0] for k in ready} == {"probs", "png"}  # the next image's model work and picture are done ahead all the same

    drawn = []
    render_now = image_view.render_now
    monkeypatch.setattr(image_view, "render_now", lambda gray, overlay, *rest: drawn.append(overlay) or render_now(gray, overlay, *rest))
    at.button(key=f"status_{first}_uncertain").click().run()
    at.button(key=f"save_{first}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["image"] == second
    assert any("Campaign reading" in c.value for c in at.caption)
    assert drawn == []  # hidden too: the page draws the plain picture prefetched beside the one with its heatmap


def _pictures(at) -> dict[str, str]:
    """The page's st.image pictures: caption (the next image's name, as the page escapes it for Markdown)
    -> media URL (a hash of the bytes)."""
    return {img.caption: img.url for e in at.get("image") for img in e.proto.imgs}


def _url_of(png: bytes) -> str:
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    return _calculate_file_id(png, "image/png")


def test_the_next_picture_is_sent_ahead_and_is_the_one_the_page_then_draws(app_env, nih_images):
    """The browser holds the next image's picture before Ctrl+Enter (`review_keys.next_picture`) and
    shows it at the key press: it must be the very picture the page draws for that image."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["reviewer"] = "Dr Fast"
    at.switch_page("pages/review.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    first = at.session_state["image"]
    following = sorted(p.name for p in nih_images.glob("*.png"))[1]
    _settle()
    at.run()  # the picture rendered ahead now goes with the page, named by its caption
    ahead = _pictures(at)
    assert escape_markdown(following) in ahead, ahead
    at.button(key=f"save_{first}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["image"] == following
    main = [url for caption, url in _pictures(at).items() if not caption.endswith(escape_markdown(".png"))]  # the next one's is named
    assert main and main[0] == ahead[escape_markdown(following)]  # the same bytes: the picture shown ahead is the page's own


def test_a_hidden_next_image_is_sent_ahead_plain(app_env, nih_images):
    """Blind reading: the next image hides its references, so the picture sent ahead is the plain X-ray
    (no heatmap, no NIH boxes), byte for byte what a reading without a model draws."""
    from dataclasses import astuple

    from cxrviz.app import image_view

    at, _, second = _blind_reading(app_env, nih_images)
    _settle()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    ahead = _pictures(at)
    assert escape_markdown(second) in ahead, ahead
    plain = image_view.render_now(load_gray(nih_images / second), None, (), astuple(image_view.View()), 0.4, "jet")
    assert _url_of(plain) in ahead[escape_markdown(second)]


def test_after_a_blind_reading_the_readers_cam_method_and_calibration_are_kept(app_env, nih_images):
    """A view without a model (references hidden until read) shows the CAM method as "none", disabled,
    and no calibration toggle; that must not reset the reader's choices: once the image is read, and
    after another hidden image, the heatmap is drawn again with their method and calibration."""
    at, first, second = _blind_reading(app_env, nih_images)
    assert at.selectbox(key="review_method_off").value == "none"
    at.button(key=f"status_{first}_uncertain").click().run()
    at.button(key=f"save_{first}").click().run()
    assert at.session_state["image"] == second
    at.button(key="review_prev").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["image"] == first
    assert not any("Campaign reading" in c.value for c in at.caption)  # read: the references are back
    assert at.selectbox(key="review_method").value == "GradCAM"
    at.selectbox(key="review_method").set_value("GradCAM++").run()
    at.toggle(key="review_calibrated").set_value(False).run()
    at.button(key="review_next").click().run()  # the second image: hidden, no model shown
    assert any("Campaign reading" in c.value for c in at.caption)
    at.button(key="review_prev").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="review_method").value == "GradCAM++"
    assert at.toggle(key="review_calibrated").value is False
    assert any(img.caption.startswith("Yellow") for e in at.get("image") for img in e.proto.imgs)  # the CAM box is drawn
