"""The Label audit page in a real browser: expert statistics, the suspect queue, and the button
that takes the queue to Review."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cxrviz.review.store import Store
from cxrviz.review.store.oof import replace_label_issues
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_label_audit_page_sends_its_queue_to_review(page, app_url, app_home):
    store = Store(str(app_home / "reviews.sqlite"))  # the app server's own store
    row = {"label": 0, "direction": "probably missing", "image_score": 0.1, "probability": 0.9, "flagged": True}
    replace_label_issues(store, "e2e-recipe", "patient-5fold-seed0", [
        {**row, "image": "00013122_000.png", "finding": "Pneumothorax", "score": 0.01},  # local and expert-adjudicated
        {**row, "image": "00009745_000.png", "finding": "Cardiomegaly", "score": 0.02},
    ])
    store.dispose()
    page.goto(f"{app_url}/label_audit")
    expect(page.get_by_role("heading", name="Label audit")).to_be_visible()
    expect(page.get_by_text("NIH labels against Google's 2019 expert adjudication")).to_be_visible()
    expect(page.get_by_text("2 suspect labels on 2 images")).to_be_visible()
    screenshot(page, "label_audit")
    page.get_by_role("button", name="Review these 2 images in this order").click()
    expect(page).to_have_url(re.compile(r"/review\?.*image=00013122_000\.png"))
    name = page.get_by_role("textbox", name="Your name (required)")
    name.fill("Dr Audit")
    name.press("Enter")
    expect(page.get_by_text("likely wrong labels (cleanlab)")).to_be_visible()
    expect(page.get_by_text("00013122_000.png").first).to_be_visible()
    expect(page.locator('[data-testid="stImage"] img').first).to_be_visible()  # the X-ray of the queue's first image
    screenshot(page, "label_audit_to_review")
