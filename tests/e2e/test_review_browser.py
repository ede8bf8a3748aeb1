"""The Review page in a real browser at the sizes readers use (1600×1000 and 1280×800): the X-ray,
every label with its full name, the note and Save on screen without scrolling (an audit queue
too); ← / → pressed before the page can act are applied, not dropped; a draft survives a reload and
a server restart."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from cxrviz.findings import ALL_LABELS
from cxrviz.review.store import Store
from tests.conftest import NIH_IMAGES, REPO
from tests.e2e.conftest import SCREENSHOTS, _free_port

pytestmark = pytest.mark.e2e
SIZES = ((1600, 1000), (1280, 800))
NAMES = sorted(p.name for p in NIH_IMAGES.glob("*.png"))


def _wait_idle(page) -> None:
    page.wait_for_timeout(600)
    expect(page.get_by_role("img", name="Running...")).to_have_count(0)


def _shot(page, name: str) -> None:
    """What is on screen without scrolling (not the full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _current(page) -> str:
    return re.search(r"\d{8}_\d{3}\.png", page.url).group(0)


def _off_screen(page, width: int, height: int) -> list[str]:
    """What a reader needs and cannot see without scrolling, or sees cut ("Pneumotho…")."""
    return page.evaluate("""([width, height]) => {
        const out = [];
        const inside = (name, el) => {
            if (!el) { out.push(name + ": missing"); return; }
            const r = el.getBoundingClientRect();
            if (r.top < 0 || r.left < 0 || r.bottom > height + 0.5 || r.right > width + 0.5 || r.width === 0)
                out.push(`${name}: ${Math.round(r.left)},${Math.round(r.top)}-${Math.round(r.right)},${Math.round(r.bottom)}`);
        };
        inside("X-ray", document.querySelector('[data-testid="stImage"] img'));
        inside("note", document.querySelector('.st-key-review_form textarea'));
        inside("Save and next", [...document.querySelectorAll('.st-key-review_form button')].find(b => b.innerText.includes('Save and next')));
        for (const b of document.querySelectorAll('.st-key-review_form [class*="st-key-lab_"] button')) {
            if (!b.offsetWidth && !b.offsetHeight) continue;  // a tooltip's hidden copy; each label is checked shown below
            inside(b.innerText.split("\\n")[0], b);
            for (const el of b.querySelectorAll('*'))
                if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible')
                    out.push(`cut: ${b.innerText.split("\\n")[0]}`);
        }
        return [...new Set(out)];
    }""", [width, height])


def _labels_shown(page) -> set[str]:
    texts = page.locator('.st-key-review_form [class*="st-key-lab_"] button').all_inner_texts()
    return {t.split("\n")[0].replace("⚠", "").strip() for t in texts}


def test_the_xray_labels_note_and_save_fit_without_scrolling_at_both_sizes(browser, app_url):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{app_url}/review?reviewer=Dr%20Layout")
    expect(page.get_by_role("button", name="Save and next")).to_be_visible()
    _wait_idle(page)
    assert _labels_shown(page) == {label.replace("_", " ") for label in ALL_LABELS}
    # the X-ray is served as the lossless PNG it was rendered to, not re-encoded as JPEG on the way
    served = page.request.get(page.evaluate("() => document.querySelector('[data-testid=\"stImage\"] img').src"))
    assert served.headers["content-type"] == "image/png" and served.body()[:8] == b"\x89PNG\r\n\x1a\n"
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(800)  # the layout settles
        _shot(page, f"review_{width}x{height}")
        assert _off_screen(page, width, height) == [], f"at {width}×{height}"
    context.close()


def test_label_audit_to_review_keeps_the_name_and_the_suspect_box_leaves_save_on_screen(browser, app_url):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{app_url}/review?reviewer=Dr%20Audit")
    expect(page.get_by_role("button", name="Save and next")).to_be_visible()
    _wait_idle(page)
    page.get_by_role("link", name="Label audit").click()
    review = page.get_by_role("button", name=re.compile(r"Review the [\d,]+ local images where NIH and the experts disagree"))
    review.click()
    expect(page.get_by_role("button", name="Save and next")).to_be_visible()  # no name asked again
    expect(page.get_by_text("Enter your name in the sidebar")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Your name (required)")).to_have_value("Dr Audit")
    expect(page.locator('.st-key-review_form [data-testid="stExpander"]').filter(has_text="Suspect")).to_be_visible()
    _wait_idle(page)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(800)
        _shot(page, f"review_audit_{width}x{height}")
        assert _off_screen(page, width, height) == [], f"audit queue at {width}×{height}"
    context.close()


def test_arrow_keys_pressed_as_soon_as_save_appears_all_act(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{app_url}/review?reviewer=Dr%20Early")  # a fresh session: the queue starts at its first image
    expect(page.get_by_role("button", name="Save and next")).to_be_visible()
    assert _current(page) == NAMES[0]
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # the X-ray may not be drawn yet
    expect(page).to_have_url(re.compile(re.escape(NAMES[3])), timeout=120_000)
    expect(page.locator(f".st-key-save_{NAMES[3].replace('.', '-')}")).to_be_visible()
    _wait_idle(page)
    assert _current(page) == NAMES[3]
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(re.escape(NAMES[1])), timeout=120_000)
    _wait_idle(page)
    _shot(page, "review_keys_replayed")
    context.close()


def _button(page, key: str):
    return page.locator(f".st-key-{key.replace('.', '-')} button")


def test_quick_saves_with_a_slow_commit_are_never_acknowledged_early_and_keys_reach_the_new_form(browser, app_url, app_home):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{app_url}/review?reviewer=Dr%20Quick&image={NAMES[20]}")
    expect(_button(page, f"save_{NAMES[20]}")).to_be_visible()
    _wait_idle(page)
    first = _current(page)
    toasts = page.locator('[data-testid="stToast"]')
    blocker = sqlite3.connect(app_home / "reviews.sqlite", timeout=30, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the store is slow: the save's commit waits for this writer
    try:
        page.keyboard.press("Control+Enter")
        page.wait_for_timeout(100)
        page.keyboard.press("Control+Enter")  # an impatient second press while the first is not committed
        for _ in range(6):  # 1.5 s, well inside the save's 5 s wait for a busy database
            page.wait_for_timeout(250)
            assert toasts.count() == 0, toasts.all_inner_texts()  # nothing is acknowledged before the commit
            assert _current(page) == first
    finally:
        blocker.rollback()
        blocker.close()
    expect(toasts.filter(has_text=re.compile(rf"Saved {re.escape(first)}|{re.escape(first)} was already saved"))).to_be_visible()
    _wait_idle(page)
    second = _current(page)
    assert second == NAMES[21]  # one move: the second press reached the saved form and said so, or saved nothing else
    store = Store(str(app_home / "reviews.sqlite"))
    # (the app's store is shared by the session's browser tests: others may have read these images)
    assert [r.reviewer for r in store.reviews(first) if r.reviewer == "Dr Quick"] == ["Dr Quick"]
    assert [r for r in store.reviews(second) if r.reviewer == "Dr Quick"] == []

    # Keys pressed as soon as the next X-ray is on screen act on its form, not on the one just saved.
    old = page.evaluate("() => document.querySelector('[data-testid=\"stImage\"] img').src")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("(old) => { const i = document.querySelector('[data-testid=\"stImage\"] img');"
                           " return i && i.src !== old && i.complete; }", arg=old, polling="raf")
    page.keyboard.press("T")  # Hernia
    page.keyboard.press("U")  # uncertain
    third = NAMES[22]
    expect(_button(page, f"lab_{third}_Hernia")).to_have_attribute("data-testid", "stBaseButton-primary")
    expect(_button(page, f"status_{third}_uncertain")).to_have_attribute("data-testid", "stBaseButton-primary")
    _wait_idle(page)
    assert _current(page) == third
    saved = store.reviews(second)
    assert len(saved) == 1 and "Hernia" not in saved[0].labels and saved[0].status != "uncertain"
    _shot(page, "review_keys_after_quick_save")
    context.close()



AHEAD = ".st-key-review_next_picture img"  # the next X-ray, sent hidden with this one (`review_keys.next_picture`)


def _ahead_ready(page, name: str) -> str:
    """Wait until the browser holds the next X-ray (`name`), decoded; its src."""
    page.wait_for_function("""([sel, name]) => { const i = document.querySelector(sel);
        const c = i && i.closest('[data-testid="stImage"]').querySelector('[data-testid="stImageCaption"]');
        return i && c && c.innerText.trim() === name && i.complete && i.naturalWidth > 0; }""", arg=[AHEAD, name], polling="raf")
    return page.locator(AHEAD).get_attribute("src")


def test_the_next_xray_is_on_screen_at_the_key_press_and_a_failed_save_takes_it_back(browser, app_url, app_home):
    """Ctrl+Enter puts the next X-ray on screen at once, before the save is committed: keys pressed then
    land on the next image's form, never on the one being saved; a save that does not go through (the
    store locked past its wait) takes the picture away again, applies none of those keys, and says so."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    first, second = NAMES[30], NAMES[31]
    # The next picture goes with a page run after it is rendered: from the image before, it is ready
    # (two ahead are prefetched); a fresh page's first image saves without it, as before.
    page.goto(f"{app_url}/review?reviewer=Dr%20Ahead&image={NAMES[29]}")
    expect(_button(page, f"save_{NAMES[29]}")).to_be_visible()
    for _ in range(4):
        _wait_idle(page)
        page.wait_for_timeout(3000)  # the prefetch of the two images ahead, on a 2-core CPU
        page.keyboard.press("ArrowRight")
        expect(_button(page, f"save_{first}")).to_be_visible()
        _wait_idle(page)
        if page.locator(AHEAD).count():
            break
        page.keyboard.press("ArrowLeft")
    src = _ahead_ready(page, second)
    overlay, note = page.locator("#cxrviz-next-picture"), page.locator("#cxrviz-key-queue")
    toasts = page.locator('[data-testid="stToast"]')
    store = Store(str(app_home / "reviews.sqlite"))

    blocker = sqlite3.connect(app_home / "reviews.sqlite", timeout=30, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # held past the save's 5 s wait: the save fails
    try:
        page.keyboard.press("Control+Enter")
        assert overlay.get_attribute("src") == src  # on screen at the key press, the picture sent ahead
        page.keyboard.press("T")  # Hernia: for the next image's form, held meanwhile
        expect(note).to_contain_text("waiting for the next form")
        _shot(page, "review_next_xray_at_the_key_press")
        expect(overlay).to_have_count(0, timeout=30_000)  # the save failed: the picture is taken away
        assert toasts.filter(has_text="Saved").count() == 0
    finally:
        blocker.rollback()
        blocker.close()
    expect(note).to_contain_text(f"not applied: the save of {first} did not go through")
    expect(page.get_by_text(re.compile("locked|busy", re.IGNORECASE)).first).to_be_visible()
    _wait_idle(page)
    assert _current(page) == first
    expect(_button(page, f"lab_{first}_Hernia")).not_to_have_attribute("data-testid", "stBaseButton-primary")
    assert [r for r in store.reviews(first) if r.reviewer == "Dr Ahead"] == []
    _shot(page, "review_next_xray_save_failed")

    # The store free again: the same keys, pressed as soon as the next X-ray is shown, reach its form.
    src = _ahead_ready(page, second)
    page.keyboard.press("Control+Enter")
    assert overlay.get_attribute("src") == src
    page.keyboard.press("T")
    page.keyboard.press("U")  # uncertain
    expect(page).to_have_url(re.compile(re.escape(second)))
    expect(toasts.filter(has_text=f"Saved {first}")).to_be_visible()  # after the commit (the toast lasts seconds)
    expect(_button(page, f"lab_{second}_Hernia")).to_have_attribute("data-testid", "stBaseButton-primary")
    expect(_button(page, f"status_{second}_uncertain")).to_have_attribute("data-testid", "stBaseButton-primary")
    expect(overlay).to_have_count(0)  # the page's own image is drawn: the same pixels
    expect(note).not_to_contain_text("not applied")  # the failed save's note went with the next press
    assert page.evaluate("() => document.querySelector('[data-testid=\"stImage\"] img').src") == src
    saved = [r for r in store.reviews(first) if r.reviewer == "Dr Ahead"]
    assert len(saved) == 1 and "Hernia" not in saved[0].labels and saved[0].status != "uncertain"
    _shot(page, "review_next_xray_keys_on_its_form")

    # A label and Ctrl+Enter in one quick motion: the save waits for the label's run, and includes it.
    _wait_idle(page)
    page.keyboard.press("W")  # Fibrosis
    page.keyboard.press("Control+Enter")
    expect(page).to_have_url(re.compile(re.escape(NAMES[32])))
    expect(toasts.filter(has_text=f"Saved {second}")).to_be_visible()
    _wait_idle(page)
    saved = [r for r in store.reviews(second) if r.reviewer == "Dr Ahead"]
    assert len(saved) == 1 and {"Hernia", "Fibrosis"} <= set(saved[0].labels) and saved[0].status == "uncertain"
    assert "did not go through" not in note.inner_text()
    context.close()

def _serve(port: int, home) -> subprocess.Popen:
    env = {**os.environ, "CXRVIZ_IMAGES": str(NIH_IMAGES), "CXRVIZ_CACHE": str(home / "cache"),
           "CXRVIZ_DB": str(home / "reviews.sqlite"), "CXRVIZ_DEVICE": "cpu"}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=open(home / "server.log", "a"), stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    pytest.fail(f"the app did not start: {(home / 'server.log').read_text()[-2000:]}")


def test_a_draft_survives_a_reload_and_a_server_restart(browser, tmp_path):
    port = _free_port()
    server = _serve(port, tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        image = NAMES[5]
        page.goto(f"http://127.0.0.1:{port}/review?reviewer=Dr%20Draft&image={image}")
        hernia = page.locator(f".st-key-lab_{image.replace('.', '-')}_Hernia button")
        expect(hernia).to_be_visible()
        _wait_idle(page)
        hernia.click()
        expect(page.get_by_text("unsaved")).to_be_visible()
        note = page.locator(".st-key-review_form textarea")
        note.fill("compare with the prior")
        note.press("Tab")  # applied on leaving the box
        _wait_idle(page)
        page.reload()
        expect(page.get_by_text(re.compile(r"^Draft restored from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))).to_be_visible()
        expect(hernia).to_have_attribute("data-testid", "stBaseButton-primary")
        expect(note).to_have_value("compare with the prior")
        _wait_idle(page)
        page.locator(f".st-key-status_{image.replace('.', '-')}_uncertain button").click()
        _wait_idle(page)
        server.terminate()
        server.wait(timeout=30)
        expect(hernia).to_be_disabled()  # the page knows it lost its server (widgets greyed, "Connection error")
        logged = (tmp_path / "server.log").stat().st_size
        server = _serve(port, tmp_path)  # the page reconnects by itself, to a server that never saw it
        deadline = time.time() + 180
        while "metadata rows" not in (tmp_path / "server.log").read_text()[logged:]:  # the new server ran the page
            assert time.time() < deadline, "the page never reconnected"
            time.sleep(0.5)
        expect(hernia).to_be_enabled(timeout=180_000)
        _wait_idle(page)
        page.wait_for_timeout(1500)
        _wait_idle(page)
        expect(page.get_by_text("Connection error")).to_have_count(0)
        expect(page.get_by_text(re.compile(r"^Draft restored from "))).to_be_visible()
        expect(hernia).to_have_attribute("data-testid", "stBaseButton-primary")
        expect(page.locator(f".st-key-status_{image.replace('.', '-')}_uncertain button")).to_have_attribute(
            "data-testid", "stBaseButton-primary")
        expect(note).to_have_value("compare with the prior")
        _shot(page, "review_draft_after_restart")
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=30)
