"""Teach, end to end in Chromium: a teacher makes a 3-case quiz, a learner takes it with the
keyboard alone, the score and the answers CSV say what was pressed."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
CASES = ["00013519_000.png", "00022572_000.png", "00009745_000.png"]  # NIH: Pneumothorax…, Atelectasis…, Cardiomegaly


def _idle(page) -> None:
    page.wait_for_timeout(500)
    expect(page.get_by_role("img", name="Running...")).to_have_count(0)


def test_make_a_three_case_quiz_take_it_with_the_keyboard_score_and_export(page, app_url):
    page.goto(f"{app_url}/teach")
    page.get_by_text("Image names", exact=True).click()
    page.get_by_label("Image names (one per line, or separated by commas)").fill("\n".join(CASES))
    page.get_by_label("Quiz name").fill("E2E quiz")
    page.get_by_label("Quiz name").press("Enter")
    page.get_by_text("in order", exact=True).click()
    _idle(page)
    page.get_by_role("button", name="Create quiz").click()
    link = page.locator('[data-testid="stCode"]').first
    expect(link).to_contain_text("/teach?quiz=")
    path = link.inner_text().strip()

    page.goto(f"{app_url}{path}")
    name = page.get_by_role("textbox", name="Your name (required)")
    name.fill("Learner E2E")
    name.press("Enter")
    expect(page.get_by_text("Case 1 of 3")).to_be_visible()
    # keyboard only: 8 ticks Pneumothorax, Ctrl+Enter submits, → moves on
    for image, keys in zip(CASES, (["8"], [], ["2"])):
        # keys act on the form on screen: wait for this case's Submit button before pressing any
        expect(page.locator(f".st-key-quiz_submit_{image.replace('.', '-')}")).to_be_visible()
        page.locator("h1").first.click()  # focus out of the name field
        for key in keys:
            page.keyboard.press(key)
            _idle(page)
        page.keyboard.press("Control+Enter")
        _idle(page)
        expect(page.get_by_text("The answer")).to_be_visible()
        page.keyboard.press("ArrowRight")
        _idle(page)
    expect(page.get_by_text("All cases answered")).to_be_visible()
    screenshot(page, "teach_reveal")

    page.get_by_text("Scores", exact=True).click()
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_be_visible()
    screenshot(page, "teach_scores")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Answers CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download_info.value.path(), encoding="utf-8").read())))
    assert [r["image"] for r in rows] == CASES
    assert {r["learner"] for r in rows} == {"Learner 1"}  # anonymous by default
    assert [(r["Pneumothorax"], r["Cardiomegaly"]) for r in rows] == [("1", "0"), ("0", "0"), ("0", "1")]
