"""Issue 24 in a real browser: the X-ray and the page's main controls on screen without scrolling
at 1280×800 (and 1600×1000), values readable, thumbnails that open on a click, ← → through the
Browse results, and an address with no page that says so."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import BOXED_1024, NIH_IMAGES, SMALL_512
from tests.e2e.conftest import SCREENSHOTS, screenshot

pytestmark = pytest.mark.e2e
SIZES = [(1280, 800), (1600, 1000)]


def _wait_idle(page, timeout: int = 120_000) -> None:
    page.wait_for_timeout(500)
    expect(page.get_by_role("img", name="Running...")).to_have_count(0, timeout=timeout)


def _on_screen(page, locator) -> dict:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (box, height)
    return box


@pytest.mark.parametrize("width, height", SIZES)
def test_xray_and_controls_fit_the_window(browser, app_url, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(180_000)
    try:
        for name, open_page in (
            ("image", lambda: page.goto(f"{app_url}/image?image={BOXED_1024}")),
            ("upload", lambda: (page.goto(f"{app_url}/upload"), page.get_by_test_id("stMainBlockContainer")
                                .locator('input[type="file"]').set_input_files(str(NIH_IMAGES / SMALL_512)))),
        ):
            open_page()
            page.wait_for_timeout(2000)
            _wait_idle(page, 400_000)  # a fresh server loads the metadata and the model first
            xray = page.get_by_test_id("stMainBlockContainer").locator('[data-testid="stImage"] img').first
            expect(xray).to_be_visible()
            expect(page.locator(".js-plotly-plot").first).to_be_visible()
            _wait_idle(page)
            page.wait_for_timeout(1000)
            _on_screen(page, xray)  # the whole X-ray, top to bottom
            _on_screen(page, page.get_by_role("combobox", name=re.compile("Finding to explain")))
            bars = page.locator(".js-plotly-plot").first.locator(".barlayer")
            _on_screen(page, bars)
            if name == "upload":
                _on_screen(page, page.get_by_test_id("stMainBlockContainer").get_by_test_id("stFileUploaderDropzone"))
            else:
                _on_screen(page, page.get_by_role("button", name=re.compile("^Next")))
            sizes = page.locator(".js-plotly-plot").first.locator(".annotation-text").evaluate_all(
                "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
            assert len(sizes) == 14 and min(sizes) >= 12, sizes  # the 14 values, readable
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}x{height}.png"))  # what the window shows, unscrolled
    finally:
        context.close()


def test_a_thumbnail_opens_on_click_and_the_arrow_keys_walk_the_results(page, app_url):
    page.goto(app_url)
    page.get_by_text("Has a ground-truth box").click()
    _wait_idle(page)
    expect(page.locator('[data-testid="stImage"] img')).to_have_count(8)
    first = page.locator('[data-testid="stImage"] img').nth(0)
    first_name = page.locator('[data-testid="stImageCaption"]').nth(0).inner_text().split(" ")[0]
    first.scroll_into_view_if_needed()
    box = first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the picture itself, as a user would
    expect(page.get_by_text(f"Image {first_name}")).to_be_visible()
    expect(page.get_by_text("1 of 8 Browse results")).to_be_visible()
    assert page.url.endswith(f"/image?image={first_name}")
    _wait_idle(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")  # keys go to the page, not a field
    page.keyboard.press("ArrowRight")
    expect(page.get_by_text("2 of 8 Browse results")).to_be_visible()
    second_name = re.search(r"image=(\d{8}_\d{3}\.png)", page.url).group(1)
    assert second_name != first_name
    expect(page.get_by_role("heading", name=f"Image {second_name}")).to_be_visible()  # the address is a link to it
    _wait_idle(page)
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_text(f"Image {first_name}")).to_be_visible()


def test_an_address_with_no_page_says_so(page, app_url):
    page.goto(f"{app_url}/nosuchpage")
    expect(page.get_by_text("There is no page “nosuchpage” in cxrviz")).to_be_visible()
    expect(page.get_by_text("Browse NIH ChestX-ray14")).to_be_visible()
    screenshot(page, "nosuchpage")
