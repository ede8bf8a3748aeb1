"""One path per page, the way a person uses it, in a real browser."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import BOXED_1024, NIH_IMAGES, SMALL_512
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e  # a real app server and headless Chromium: `pytest -m 'not e2e'` skips these


def _metric(page, label: str):
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).locator('[data-testid="stMetricValue"]')


def _wait_idle(page) -> None:
    """Until the app has finished its run (the "Running…" indicator is gone)."""
    page.wait_for_timeout(500)
    expect(page.get_by_role("img", name="Running...")).to_have_count(0)


def test_image_page_shows_probabilities_overlay_and_box(page, app_url):
    """Also the first visit of a fresh server, straight to a page URL: it must still run inside app.py."""
    page.goto(f"{app_url}/image?image={BOXED_1024}")
    expect(page.get_by_text("Not for clinical use")).to_be_visible()  # app.py's sidebar, not a bare page
    expect(page.get_by_text(f"Image {BOXED_1024}")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    expect(page.get_by_text("Probability (red: NIH-positive)")).to_be_visible()
    image = page.locator('[data-testid="stImage"] img').first
    expect(image).to_be_visible()
    expect(page.get_by_text("IoBB")).to_be_visible()  # the CAM box against the ground-truth box
    _wait_idle(page)
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) == 1024
    screenshot(page, "image")


def test_browse_filter_changes_count_and_shows_thumbnails(page, app_url):
    page.goto(app_url)
    expect(_metric(page, "Images")).to_have_text("452")
    thumb = page.locator('[data-testid="stImage"] img').first
    expect(thumb).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", thumb.element_handle()) > 0
    page.get_by_text("Has a ground-truth box").click()
    expect(_metric(page, "Images")).to_have_text("8")
    _wait_idle(page)
    expect(page.locator('[data-testid="stImage"] img')).to_have_count(8)
    screenshot(page, "browse")


def test_upload_page_predicts_an_uploaded_png(page, app_url):
    page.goto(f"{app_url}/upload")
    page.get_by_test_id("stMainBlockContainer").locator('input[type="file"]').set_input_files(str(NIH_IMAGES / SMALL_512))
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    expect(page.get_by_text("PNG · size: 512×512")).to_be_visible()
    _wait_idle(page)
    screenshot(page, "upload")
    page.get_by_test_id("stMainBlockContainer").locator('input[type="file"]').set_input_files(files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image"}])
    expect(page.get_by_text("notes.png is not an image file")).to_be_visible()
    screenshot(page, "upload-error")


def _focus_a_button(page) -> None:
    """Tab out of the name field until focus rests on a button: keyboard only, like a reader."""
    for _ in range(40):
        if page.evaluate("document.activeElement && document.activeElement.tagName") == "BUTTON":
            return
        page.keyboard.press("Tab")
    raise AssertionError("Tab never reached a button")


def test_review_three_images_with_the_keyboard_only_and_find_them_in_the_export(page, app_url):
    page.goto(f"{app_url}/review")
    name = page.get_by_role("textbox", name="Your name (required)")
    name.focus()
    page.keyboard.type("Dr Keys")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Save and next")).to_be_visible()
    _wait_idle(page)
    _focus_a_button(page)
    done = []
    for step in range(3):
        current = re.search(r"\d{8}_\d{3}\.png", page.url).group(0)
        # keys act on the form that is on screen: wait for this image's form (its Save button)
        expect(page.locator(f".st-key-save_{current.replace('.', '-')}")).to_be_visible()
        for key in ("N", "T", "U"):  # No Finding alone, then Hernia (unticks it), status uncertain
            page.keyboard.press(key)
            _wait_idle(page)
        if step == 0:
            screenshot(page, "review_keyboard")
        page.keyboard.press("Control+Enter")
        expect(page.get_by_text(f"Saved {current}")).to_be_visible()
        _wait_idle(page)
        done.append(current)
        assert re.search(r"\d{8}_\d{3}\.png", page.url).group(0) != current  # moved on
    page.keyboard.press("H")
    expect(page.get_by_role("dialog")).to_contain_text("tick / untick Hernia")
    screenshot(page, "review_keys_help")
    page.keyboard.press("Escape")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Corrections CSV").click()
    rows = {r["Image Index"]: r for r in csv.DictReader(io.StringIO(open(download_info.value.path(), encoding="utf-8").read()))}
    for image in done:
        assert rows[image]["Reviewer"] == "Dr Keys"
        assert rows[image]["Corrected Labels"] == "Hernia" and rows[image]["Status"] == "uncertain"
        assert 0 < float(rows[image]["seconds_on_image"]) < 300  # timed by the server, from the image shown to its save
    # the three readings' throughput on the Agreement page: a reader sees their own figures
    page.goto(f"{app_url}/agreement?reviewer=Dr%20Keys")
    expect(page.get_by_role("heading", name="Throughput")).to_be_visible()
    rate = page.locator(".js-plotly-plot").filter(has_text="Images per hour of active reading")
    expect(rate).to_contain_text("Dr Keys")
    expect(page.locator(".js-plotly-plot").filter(has_text="Seconds on each image")).to_be_visible()
    _wait_idle(page)
    page.set_viewport_size({"width": 1500, "height": 1900})  # the page scrolls inside the app: show the plots whole
    page.wait_for_timeout(800)
    screenshot(page, "agreement_throughput")


def test_agreement_page_opens(page, app_url):
    page.goto(f"{app_url}/agreement")
    expect(page.get_by_text("Reviewer agreement")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ reviews by \d+ reviewers"))).to_be_visible()
    # the session's browser tests share one store: by now an image may have two readers (then the statistics show)
    expect(page.get_by_text(re.compile(r"^No image has been reviewed by two or more reviewers yet\.$|"
                                       r"^\d+ images have two or more reviewers")).first).to_be_visible()
    screenshot(page, "agreement")
