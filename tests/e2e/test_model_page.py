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
