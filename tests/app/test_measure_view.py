"""The measuring tools on the Image page through AppTest (the canvas itself is driven in
tests/e2e/test_measure.py): Measure (L) shows the tools, the spacing used and the saved
measurements with value, unit and reading; one's own can be deleted (with its audit row) and
others' cannot; the saved measurements are drawn on the picture where they are; the canvas's
fabric lines are read back at their ends."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from cxrviz.app.measure_view import LENGTH_COLOUR, Measuring, canvas_lines, draw_measurements
from cxrviz.app.text import escape_markdown
from cxrviz.data.frames import Frame
from cxrviz.review.measurements import Measurement
from cxrviz.review.store import Store
from cxrviz.review.store.measurements import add_measurement, list_measurements, measurement_log
from tests.conftest import BOXED_1024, REPO, SMALL_512, shown

TIMEOUT = 240
SPACING = (0.194311 * 2021 / 1024,) * 2


def _image_page(reviewer: str, measure: bool = True) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["image"] = BOXED_1024
    at.query_params["reviewer"] = reviewer
    at.switch_page("pages/image.py")
    at.run()
    return at.button(key="image_measure").click().run() if measure else at


def _measurements_table(at):
    [found] = [t.value for t in at.table if "reading" in t.value.columns]  # the viewer may show the CAM box's IoU table too
    return found


def test_measure_mode_lists_saved_figures_and_deletes_only_ones_own(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    length = add_measurement(store, Measurement(BOXED_1024, "ann", "length", ((200.0, 500.0), (500.0, 500.0)), 1024, 1024, SPACING, "PA"))
    add_measurement(store, Measurement(BOXED_1024, "ann", "ctr", ((230.0, 600.0), (790.0, 600.0), (12.0, 500.0), (1012.0, 500.0)),
                                       1024, 1024, None, "PA"))
    add_measurement(store, Measurement(BOXED_1024, "**[bob](https://x.test)**", "length", ((0.0, 0.0), (30.0, 40.0)), 1024, 1024,
                                       None, None))
    at = _image_page("ann")
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="image_measure_tool").options == ["Length", "CTR (heart, then thorax)"]
    assert any("Pixel spacing 0.3835 mm across × 0.3835 mm down, from the NIH metadata" in shown(c.value) for c in at.caption)
    table = _measurements_table(at)
    assert list(table["who"]) == ["ann", "ann", escape_markdown("**[bob](https://x.test)**")]  # st.table renders Markdown
    assert escape_markdown("**[bob](https://x.test)**") != "**[bob](https://x.test)**"
    assert list(table["value"]) == ["115.0 mm", "0.56", "50 px (no spacing: pixels)"]
    assert list(table["reading"])[1] == "0.56: above 0.5 on a PA view"
    assert at.selectbox(key="image_measure_chosen").options == [f"#{length} length 115.0 mm", f"#{length + 1} CTR 0.56"]  # bob's is not offered
    at.button(key="image_measure_delete").click().run()
    assert [m.kind for m in list_measurements(store, BOXED_1024, "ann")] == ["ctr"]
    assert any(f"Deleted measurement #{length}." in shown(w.value) for w in at.warning)
    assert [e["action"] for e in measurement_log(store, BOXED_1024)][-1] == "measure-delete"
    assert [b.label for b in at.download_button] and any(b.label == "Measurements CSV" for b in at.download_button)


def test_outside_measure_mode_the_saved_figures_are_under_the_picture(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    add_measurement(store, Measurement(BOXED_1024, "ann", "ctr", ((230.0, 600.0), (790.0, 600.0), (12.0, 500.0), (1012.0, 500.0)),
                                       1024, 1024, None, "AP"))
    at = _image_page("ann", measure=False)
    assert not at.exception, [e.value for e in at.exception]
    table = _measurements_table(at)
    assert list(table["reading"]) == ["0.56: AP views magnify the heart; 0.5 does not apply"]
    at.button(key="image_measure").click().run()  # Measure (L) on, then Draw (B): one canvas, one mode at a time
    assert at.radio(key="image_measure_tool")
    at.button(key="image_draw").click().run()
    assert not [r for r in at.radio if r.key == "image_measure_tool"] and at.selectbox(key="image_boxes_finding")
    at.button(key="image_measure").click().run()
    assert at.radio(key="image_measure_tool") and not [s for s in at.selectbox if s.key == "image_boxes_finding"]


def test_saved_lines_are_drawn_where_they_are_at_the_view_s_zoom():
    gray = Image.fromarray(np.full((200, 200), 40, np.uint8)).convert("RGB")
    png = io.BytesIO()
    gray.save(png, format="PNG")
    m = Measurement("a.png", "ann", "length", ((100.0, 100.0), (300.0, 100.0)), 400, 400, None, None, 1)  # drawn on a 400-px copy
    measuring = Measuring(None, "a.png", "ann", None, None, (m,))
    # the decoded image is 200 px: the line runs (50, 50) -> (150, 50); the view is that image at zoom 1, its own size
    out = np.asarray(Image.open(io.BytesIO(draw_measurements(png.getvalue(), measuring, Frame(200, 200)))))
    assert tuple(out[50, 100]) == LENGTH_COLOUR and tuple(out[50, 20]) == (40, 40, 40) and tuple(out[120, 100]) == (40, 40, 40)
    # shown at 400 px wide (a canvas), zoom 2 on the centre: the crop is x, y in [50, 150) and the line is at y = 0
    zoomed = Frame(200, 200, 400, 2.0, (0.5, 0.5))
    crop = Image.fromarray(np.full((100, 100), 40, np.uint8)).convert("RGB")
    png = io.BytesIO()
    crop.save(png, format="PNG")
    out = np.asarray(Image.open(io.BytesIO(draw_measurements(png.getvalue(), measuring, zoomed))))
    assert out.shape[:2] == (400, 400) and tuple(out[1, 200]) == LENGTH_COLOUR and tuple(out[200, 200]) == (40, 40, 40)
    assert draw_measurements(b"same", Measuring(None, "a.png", "ann", None, None, ()), zoomed) == b"same"


def test_fabric_lines_are_read_at_their_ends():
    # as fabric saves a line dragged from (10, 80) to (110, 20): centred at (60, 50), ends relative to it
    line = {"type": "line", "left": 60, "top": 50, "width": 100, "height": 60, "originX": "center", "originY": "center",
            "x1": -50, "y1": 30, "x2": 50, "y2": -30, "scaleX": 1, "scaleY": 1}
    left_origin = {**line, "left": 10, "top": 20, "originX": "left", "originY": "top"}
    scaled = {**line, "x1": -25, "y1": 15, "x2": 25, "y2": -15, "width": 50, "height": 30, "scaleX": 2, "scaleY": 2}
    rect = {"type": "rect", "left": 0, "top": 0, "width": 5, "height": 5}
    assert canvas_lines({"objects": [line, rect, left_origin, scaled]}) == [((10.0, 80.0), (110.0, 20.0))] * 3
    assert canvas_lines(None) == []


def test_the_review_page_measures_its_image_too(app_env):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["image"] = SMALL_512
    at.switch_page("pages/review.py")
    at.run()
    at.text_input(key="reviewer").input("ann").run()
    name = next(t.value for t in at.text if t.value.startswith("0"))  # "NAME (position / queue length)"
    image = name.split(" ")[0]
    store = Store(str(app_env / "reviews.sqlite"))
    add_measurement(store, Measurement(image, "ann", "length", ((0.0, 0.0), (30.0, 40.0)), 512, 512, None, None))
    at.button(key="review_measure").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="review_measure_tool").value == "Length"
    assert any("Pixel spacing" in shown(c.value) and "NIH metadata" in shown(c.value) for c in at.caption)
    assert list(_measurements_table(at)["value"])[0].endswith(" px (no spacing: pixels)")  # as stored: it was saved without spacing


def test_a_save_the_store_refuses_keeps_the_drawn_lines_and_says_so(app_env, monkeypatch):
    from types import SimpleNamespace

    from cxrviz.app import measure_view
    from cxrviz.review.store.errors import StoreError

    line = {"type": "line", "left": 100, "top": 250, "width": 300, "height": 0, "x1": -150, "y1": 0, "x2": 150, "y2": 0,
            "originX": "left", "originY": "top"}
    monkeypatch.setattr(measure_view, "_canvas", lambda background, key: SimpleNamespace(json_data={"objects": [line]}))

    def locked(store, measurement):
        raise StoreError("The review store is locked by another program; nothing was saved.")

    monkeypatch.setattr(measure_view, "add_measurement", locked)
    at = _image_page("ann")
    generation = at.session_state["image_measure_generation"]
    at.button(key="image_measure_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["image_measure_generation"] == generation  # the canvas keeps its lines
    assert any("nothing was saved" in shown(w.value) and "Your lines are kept" in shown(w.value) for w in at.warning)
    assert list_measurements(Store(str(app_env / "reviews.sqlite")), BOXED_1024) == []
