"""Measuring on the Image page with real mouse events in headless Chromium: a length, then a
cardiothoracic ratio (heart, then thorax) drawn on the viewer's canvas, the figures shown checked
against hand-computed values (the NIH metadata's spacing of this image), both saved, listed and
in the store. Then the reader's report on the Review page: drafted with the CTR, signed, and its
DICOM SR downloaded with the CTR and the length in it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cxrviz.review.store import Store
from cxrviz.review.store.measurements import list_measurements
from tests.conftest import BOXED_1024
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

REVIEWER = "e2e measure"
CANVAS = '[class*="st-key-image_measure_canvas_00009745_000-png_{tool}_"] canvas.upper-canvas'  # fabric's drawing layer
MM = 0.194311 * 2021 / 1024  # Data_Entry_2017: 2021 px originals at 0.194311 mm, stored as 1024 px
SCALE = 1024 / 500  # original px per canvas px at zoom 1 and the default 500-px drawing width


def _drag(page, box, start, end) -> None:
    page.mouse.move(box["x"] + start[0], box["y"] + start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + (start[0] + end[0]) / 2, box["y"] + (start[1] + end[1]) / 2, steps=6)
    page.mouse.move(box["x"] + end[0], box["y"] + end[1], steps=6)
    page.mouse.up()


def _canvas(page, tool: str):
    canvas = page.locator(CANVAS.format(tool=tool)).last
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(700)
    box = canvas.bounding_box()
    assert round(box["width"]) == 500, box
    return box


def test_draw_a_length_and_a_ctr_and_read_their_figures(page, app_url, app_home, tmp_path):
    page.goto(f"{app_url}/image?image={BOXED_1024}&reviewer=e2e%20measure")
    # the view button (key L), not "Measurements CSV"; first: while the page loads, a stale copy can stand beside it
    measure = page.locator(".st-key-image_measure button").first
    expect(measure).to_be_visible()
    measure.click()
    expect(page.get_by_text("Pixel spacing 0.3835 mm across")).to_be_visible()

    # a length: 300 canvas px across = 614.4 original px = 235.6 mm
    _drag(page, _canvas(page, "length"), (100, 250), (400, 250))
    length_mm = 300 * SCALE * MM
    try:
        expect(page.get_by_role("cell", name=f"{length_mm:.1f} mm")).to_be_visible(timeout=30_000)
    except AssertionError:
        screenshot(page, "measure-failed")
        raise
    page.get_by_role("button", name="Save measurement").click()
    expect(page.get_by_role("alert").filter(has_text="Saved measurement #1")).to_contain_text(f"{length_mm:.1f} mm")
    page.wait_for_timeout(1000)  # the fresh canvas reports once: let that run end

    # a CTR on this PA view: the heart 224 canvas px wide, the thorax 400: 0.56
    page.get_by_text("CTR (heart, then thorax)").click()
    box = _canvas(page, "ctr")
    _drag(page, box, (138, 300), (362, 302))
    expect(page.get_by_text("Heart width drawn; now draw the thorax")).to_be_visible()
    _drag(page, box, (50, 240), (450, 240))
    reading = "0.56: above 0.5 on a PA view"
    expect(page.get_by_role("cell", name=reading)).to_be_visible()
    page.get_by_role("button", name="Save measurement").click()
    expect(page.get_by_role("alert").filter(has_text="Saved measurement #2")).to_contain_text("0.56")
    page.wait_for_timeout(1000)
    expect(page.get_by_role("cell", name=f"{length_mm:.1f} mm")).to_be_visible()  # both in the table of saved measurements
    expect(page.get_by_role("cell", name=reading)).to_be_visible()

    length, ctr = list_measurements(Store(str(app_home / "reviews.sqlite")), BOXED_1024, REVIEWER)
    assert length.kind == "length" and length.points[0] == pytest.approx((100 * SCALE, 250 * SCALE), abs=2.5)
    assert length.value == pytest.approx(length_mm, abs=1.0) and length.unit == "mm"
    assert ctr.kind == "ctr" and ctr.value == pytest.approx(224 / 400, abs=0.01) and ctr.view == "PA"
    assert ctr.points[0][1] == ctr.points[1][1]  # the heart's width is levelled
    page.locator("[data-testid=stMain]").evaluate("m => m.scrollTo(0, 0)")
    screenshot(page, "measure-length-ctr")
    page.set_viewport_size({"width": 1280, "height": 800})  # the five view buttons on a common laptop screen
    page.wait_for_timeout(1000)
    page.locator("[data-testid=stMain]").evaluate("m => m.scrollTo(0, 0)")
    screenshot(page, "measure-1280x800")

    _sign_and_download_the_sr(page, app_url, app_home, ctr.value, tmp_path)


def _sign_and_download_the_sr(page, app_url, app_home, ratio: float, tmp_path) -> None:
    import pydicom

    store = Store(str(app_home / "reviews.sqlite"))
    store.save_review(BOXED_1024, REVIEWER, ["Cardiomegaly"], "corrected")
    page.set_viewport_size({"width": 1500, "height": 1100})
    page.goto(f"{app_url}/review?reviewer=e2e%20measure&image={BOXED_1024}")
    page.get_by_role("button", name="Draft from my reading").click()
    area = page.get_by_role("textbox", name="Report text")
    expect(area).to_have_value(re.compile(rf"Cardiothoracic ratio {ratio:.2f} \(PA view"))
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Signed by e2e measure at .* UTC \(version 1\)$"))).to_be_visible()
    screenshot(page, "report-signed-with-ctr")
    with page.expect_download() as info:
        page.get_by_role("button", name="DICOM SR (.dcm)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    sr = pydicom.dcmread(path)

    def items(ds):
        for element in ds:
            if element.VR == "SQ":
                for item in element.value:
                    yield item
                    yield from items(item)

    numbers = {i.ConceptNameCodeSequence[0].CodeMeaning: float(i.MeasuredValueSequence[0].NumericValue)
               for i in items(sr) if getattr(i, "ValueType", None) == "NUM"}
    assert numbers["Cardiothoracic ratio"] == pytest.approx(ratio, abs=1e-4) and "Length" in numbers
