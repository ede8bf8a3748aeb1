"""The Model page in a real browser: the bundled model's report, its baseline and a reliability diagram."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_model_page_shows_auroc_baseline_and_calibration(page, app_url):
    page.goto(f"{app_url}/model")
    expect(page.get_by_text("Not for clinical use")).to_be_visible()
    expect(page.get_by_text("Metadata-only baseline").first).to_be_visible()
    expect(page.get_by_text("AUROC with 95% bootstrap interval")).to_be_visible()
    expect(page.get_by_text("Reliability: Atelectasis")).to_be_visible()
    assert page.locator(".js-plotly-plot").count() == 2
    page.wait_for_timeout(1000)
    screenshot(page, "model")


def test_model_page_follows_the_model_in_use_and_its_tables_fit_1280(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{app_url}/model")
        expect(page.get_by_text("the model in use on the other pages")).to_be_visible()
        expect(page.get_by_text("cxrviz-efficientnet-lite0 (in use)")).to_be_visible()
        expect(page.get_by_test_id("stMainBlockContainer").get_by_text("/tmp/")).to_have_count(0)
        page.get_by_text("cxrviz-ensemble", exact=True).click()  # one click to the other report
        expect(page.get_by_text("The model in use on the other pages is cxrviz-efficientnet-lite0")).to_be_visible()
        expect(page.get_by_text("m256.pt", exact=False).first).to_be_visible()
        expect(page.get_by_test_id("stMainBlockContainer").get_by_text("/tmp/")).to_have_count(0)
        tables = page.get_by_test_id("stDataFrame")
        expect(tables).to_have_count(2)
        main = page.get_by_test_id("stMainBlockContainer").bounding_box()
        for i in range(2):
            tables.nth(i).scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            box = tables.nth(i).bounding_box()
            assert box["x"] + box["width"] <= main["x"] + main["width"] + 1, (box, main)
            overflow = tables.nth(i).locator(".dvn-scroller").evaluate("e => e.scrollWidth - e.clientWidth")
            assert overflow <= 1, f"table {i} scrolls sideways by {overflow} px"
        screenshot(page, "model-1280x800")
    finally:
        context.close()
