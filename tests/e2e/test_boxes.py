"""Drawing a box with real mouse events in headless Chromium, on the viewer itself (Draw boxes,
key B) under zoom, saving it with a double click, and finding it once in the exported CSV at the
expected place in the 1024 frame."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from cxrviz.review.store import Store
from tests.conftest import BOXED_1024
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

REVIEWER = "e2e boxes"
CANVAS = ".st-key-image_boxes_canvas_00009745_000-png_2-0_0-5_0-5_500_{generation} canvas.upper-canvas"  # fabric's drawing layer


def test_draw_a_box_on_the_viewer_under_zoom_save_and_find_it_in_the_csv(page, app_url, app_home):
    # the app server's own store: tick Cardiomegaly first (a box needs its finding ticked)
    Store(str(app_home / "reviews.sqlite")).save_review(BOXED_1024, REVIEWER, ["Cardiomegaly"], "confirmed")

    page.goto(f"{app_url}/image?image={BOXED_1024}&reviewer=e2e%20boxes")
    expect(page.get_by_role("button", name="Draw", exact=False)).to_be_visible()
    expect(page.locator('[data-testid="stImage"]')).to_have_count(1)  # one picture of the X-ray on the page
    page.get_by_role("button", name="Adjust view").click()
    sliders = page.locator('[data-testid="stSlider"]').filter(has_text="Zoom")
    zoom = sliders.last.get_by_role("slider")
    zoom.focus()
    for _ in range(4):  # 1.0 -> 2.0 in steps of 0.25
        zoom.press("ArrowRight")
    expect(sliders.last).to_contain_text("2.00")
    page.keyboard.press("Escape")  # close the popover
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Draw", exact=False).click()
    expect(page.get_by_text("Finding of the next box")).to_be_visible()
    canvas = page.locator(CANVAS.format(generation=0))
    expect(canvas).to_be_visible()
    expect(page.locator('[data-testid="stImage"]')).to_have_count(0)  # the canvas IS the viewer's picture, not a second copy
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = canvas.bounding_box()
    assert round(box["width"]) == 500, box
    # zoom 2 at the centre: the canvas shows original x, y in [256, 768) at 500 px, 1.024 original px per display px
    page.mouse.move(box["x"] + 100, box["y"] + 120)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 220, steps=8)
    page.mouse.move(box["x"] + 300, box["y"] + 320, steps=8)
    page.mouse.up()
    save = page.get_by_role("button", name="Save 1 drawn box")
    try:
        expect(save).to_be_visible(timeout=30_000)
    except AssertionError:
        screenshot(page, "boxes-failed")
        raise
    save.dblclick()  # an impatient double click keeps one box
    expect(page.get_by_text("Saved a Cardiomegaly box.")).to_be_visible()
    page.wait_for_timeout(1000)  # the fresh canvas reports once more: let that run end, or the download's file id is stale
    expect(page.get_by_role("img", name="Running...")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("button", name="Boxes CSV (BBox_List_2017 shape)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    [mine] = [r for r in rows if r["Reviewer"] == REVIEWER and r["Status"] == "drawn"]
    assert mine["Image Index"] == BOXED_1024 and mine["Finding Label"] == "Cardiomegaly"
    s = 512 / 500
    expected = (256 + 100 * s, 256 + 120 * s, 200 * s, 200 * s)
    got = tuple(float(mine[c]) for c in "xywh")
    assert all(abs(g - e) <= 2 for g, e in zip(got, expected)), (got, expected)
    fresh = page.locator(CANVAS.format(generation=1))
    expect(fresh).to_be_visible()
    for width, height in ((1600, 1000), (1280, 800)):  # what a reader sees while drawing: the saved box in red, the NIH box in green
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(1000)
        fresh.scroll_into_view_if_needed()
        page.locator("[data-testid=stMain]").evaluate("m => m.scrollTo(0, 0)")
        screenshot(page, f"boxes-{width}x{height}")
