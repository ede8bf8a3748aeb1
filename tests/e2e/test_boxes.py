"""Drawing a box with real mouse events in headless Chromium, under zoom, and finding it in the
exported CSV at the expected place in the 1024 frame."""

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


def test_draw_a_box_under_zoom_save_and_find_it_in_the_csv(page, app_url, app_home):
    # the app server's own store: tick Cardiomegaly first (a box needs its finding ticked)
    Store(str(app_home / "reviews.sqlite")).save_review(BOXED_1024, REVIEWER, ["Cardiomegaly"], "confirmed")

    page.goto(f"{app_url}/image?image={BOXED_1024}&reviewer=e2e%20boxes")
    expect(page.get_by_text("Finding of the next box")).to_be_visible()
    sliders = page.locator('[data-testid="stSlider"]').filter(has_text="Zoom")
    zoom = sliders.last.get_by_role("slider")
    zoom.focus()
    for _ in range(4):  # 1.0 -> 2.0 in steps of 0.25
        zoom.press("ArrowRight")
    expect(sliders.last).to_contain_text("2.00")
    page.wait_for_timeout(1500)
    canvas = page.locator(".st-key-image_boxes_canvas_00009745_000-png_2-0_0-5_0-5_0 canvas.upper-canvas")  # fabric's drawing layer, at zoom 2
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()  # below the viewer: the mouse works in viewport coordinates
    page.wait_for_timeout(500)
    box = canvas.bounding_box()
    assert round(box["width"]) == 640, box
    # zoom 2 at the centre: the canvas shows original x, y in [256, 768) at 640 px, 0.8 original px per display px
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
    save.click()
    expect(page.get_by_text("Saved a Cardiomegaly box.")).to_be_visible()
    page.wait_for_timeout(1000)  # the fresh canvas reports once more: let that run end, or the download's file id is stale
    expect(page.get_by_role("img", name="Running...")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("button", name="Boxes CSV (BBox_List_2017 shape)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    [mine] = [r for r in rows if r["Reviewer"] == REVIEWER and r["Status"] == "drawn"]
    assert mine["Image Index"] == BOXED_1024 and mine["Finding Label"] == "Cardiomegaly"
    expected = (256 + 100 * 0.8, 256 + 120 * 0.8, 200 * 0.8, 200 * 0.8)
    got = tuple(float(mine[c]) for c in "xywh")
    assert all(abs(g - e) <= 2 for g, e in zip(got, expected)), (got, expected)
    page.locator(".st-key-image_boxes_canvas_00009745_000-png_2-0_0-5_0-5_1 canvas.upper-canvas").scroll_into_view_if_needed()
    screenshot(page, "boxes")  # the saved box in red on the zoomed view, the NIH box in green
