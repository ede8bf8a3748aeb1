"""Teach, end to end in Chromium: a teacher makes a 3-case quiz, a learner takes it with the
keyboard alone, the score and the answers CSV say what was pressed; at 1600×1000 and 1280×800 the
X-ray and the main action (Submit, Reveal) fit in the window and the finding names are whole; a
learner's link leads to nothing but the quiz."""

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
    for image, keys in zip(CASES, ([("8", "Pneumothorax")], [], [("2", "Cardiomegaly")])):
        # keys act on the form on screen: wait for this case's Submit button before pressing any
        expect(page.locator(f".st-key-quiz_submit_{image.replace('.', '-')}")).to_be_visible()
        page.locator('[data-testid="stText"]').first.click()  # focus out of the name field
        for key, finding in keys:
            page.keyboard.press(key)
            # the tick shows (the rerun that records it is over) before the next key
            tick = page.locator(f".st-key-quiz_tick_{image.replace('.', '-')}_{finding} button")
            expect(tick).to_have_attribute("data-testid", "stBaseButton-primary")
            _idle(page)
        page.keyboard.press("Control+Enter")
        _idle(page)
        expect(page.get_by_text("The answer")).to_be_visible()
        page.keyboard.press("ArrowRight")
        _idle(page)
    expect(page.get_by_text("All cases answered")).to_be_visible()
    screenshot(page, "teach_reveal")
    expect(page.get_by_text("Scores", exact=True)).to_have_count(0)  # the class's scores are the teacher's

    page.goto(f"{app_url}{path.replace('?quiz=', '?teach=')}&view=scores")  # the teacher's link, from the builder
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_be_visible()
    screenshot(page, "teach_scores")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Answers CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download_info.value.path(), encoding="utf-8").read())))
    assert [r["image"] for r in rows] == CASES
    assert {r["learner"] for r in rows} == {"Learner 1"}  # anonymous by default
    assert [(r["Pneumothorax"], r["Cardiomegaly"]) for r in rows] == [("1", "0"), ("0", "0"), ("0", "1")]


VIEWPORTS = [(1600, 1000), (1280, 800)]


def _saved_quiz(app_home) -> str:
    from cxrviz.findings import FINDINGS
    from cxrviz.review.quiz import QuizSpec
    from cxrviz.review.store import Store
    from cxrviz.review.store import quizzes as qs

    store = Store(str(app_home / "reviews.sqlite"))
    try:
        return qs.save_quiz(store, QuizSpec("Layout quiz", tuple(CASES), tuple(FINDINGS), reveal_model=False, reveal_heatmap=False))
    finally:
        store.dispose()


def _in_window(page, locator, what: str) -> dict:
    """The element's box, asserted inside the window as it is (no scrolling)."""
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    box = locator.bounding_box()
    assert box is not None, what
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, f"{what} at y {box['y']:.0f}+{box['height']:.0f} > {height}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{what} at x {box['x']:.0f}+{box['width']:.0f} > {width}"
    return box


def _clipped_buttons(page) -> list[str]:
    """Buttons of the page whose label is cut short (an ellipsis, or text wider than its box)."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] button')]
        .filter(b => b.offsetParent !== null)
        .filter(b => [b, ...b.querySelectorAll('p, span, div')].some(e => e.scrollWidth > e.clientWidth + 1))
        .map(b => b.innerText)""")


def _view_shot(page, name: str) -> None:
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))  # the window only: what is seen without scrolling


@pytest.mark.parametrize("size", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_the_xray_and_the_main_action_fit_the_window(page, app_url, app_home, size):
    width, height = size
    quiz_id = _saved_quiz(app_home)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{app_url}/teach?quiz={quiz_id}&learner=Layout%20E2E")
    submit = page.locator(f".st-key-quiz_submit_{CASES[0].replace('.', '-')} button")
    expect(submit).to_be_visible()
    _idle(page)
    image = page.locator(".st-key-teach_xray img").first
    expect(image).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('.st-key-teach_xray img'); return i && i.complete && i.naturalWidth > 0 }")
    _in_window(page, image, "learner X-ray")
    _in_window(page, submit, "Submit")
    assert _clipped_buttons(page) == []  # every finding's full name on its button, no "Pre…"
    assert page.locator('[class*="st-key-quiz_tick_"] button').count() == 14
    _view_shot(page, f"teach_learner_{width}x{height}")

    page.goto(f"{app_url}/teach?teach={quiz_id}&view=present&case=2")
    reveal = page.get_by_role("button", name="Reveal (V)")
    expect(reveal).to_be_visible()
    expect(page.get_by_text("Case 2 / 3")).to_be_visible()  # the case from the URL, as after a reload
    _idle(page)
    page.wait_for_function("() => { const i = document.querySelector('.st-key-teach_xray img'); return i && i.complete && i.naturalWidth > 0 }")
    image = page.locator(".st-key-teach_xray img").first
    before = _in_window(page, image, "presenter X-ray")
    assert before["height"] >= height * 0.6  # fills the window's height, not a thumbnail
    _in_window(page, reveal, "Reveal")
    assert _clipped_buttons(page) == []
    page.locator("body").press("v")
    expect(page.get_by_text("NIH:", exact=False).first).to_be_visible()
    _idle(page)
    after = _in_window(page, page.locator(".st-key-teach_xray img").first, "presenter X-ray, revealed")
    assert abs(after["y"] - before["y"]) < 2 and abs(after["height"] - before["height"]) < 2  # V does not move it
    _view_shot(page, f"teach_presenter_revealed_{width}x{height}")
    page.locator("body").press("v")
    _idle(page)
    _view_shot(page, f"teach_presenter_{width}x{height}")


def test_a_learners_link_leads_only_to_the_quiz(page, app_url, app_home):
    quiz_id = _saved_quiz(app_home)
    for extra in ("", "&mode=present", "&mode=scores", "&view=present", "&view=scores&case=2"):
        page.goto(f"{app_url}/teach?quiz={quiz_id}&learner=Nosy%20Learner{extra}")
        expect(page.locator(f".st-key-quiz_submit_{CASES[0].replace('.', '-')} button")).to_be_visible()
        _idle(page)
        for label in ("Presenter view", "Scores", "Reveal (V)"):
            expect(page.get_by_text(label, exact=True)).to_have_count(0)
        expect(page.get_by_text("NIH:", exact=False)).to_have_count(0)
        expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(0)
