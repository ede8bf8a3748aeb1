"""Team review signed in through a real OpenID Connect provider on 127.0.0.1 (npm's oidc-provider,
development configuration): two readers read a blind campaign of three images, an adjudicator
settles their disagreement, and the adjudicated labels are in the export."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.store import Store, team
from tests.conftest import BOXED_1024, NIH_IMAGES, REPO, RGBA_1024, SMALL_512
from tests.e2e.conftest import _free_port, screenshot

pytestmark = pytest.mark.e2e
IMAGES = (BOXED_1024, RGBA_1024, SMALL_512)
READERS = ("reader1@example.org", "reader2@example.org")


def _wait_for(url: str, what: str, process: subprocess.Popen, log) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    process.kill()
    pytest.fail(f"{what} did not start: {log.read_text()[-2000:]}")


@pytest.fixture()
def signed_in_app(tmp_path):
    """(app URL, store): the app with `[auth]` pointing at a local oidc-provider."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.fail("Node and npm are required for the sign-in end-to-end test")
    provider_dir = REPO / "tests" / "e2e" / "oidc"  # `make test` installs its npm package (oidc-provider)
    if not (provider_dir / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=provider_dir, check=True, timeout=300)
    provider_port, app_port = _free_port(), _free_port()
    app = f"http://127.0.0.1:{app_port}"
    provider_log = tmp_path / "provider.log"
    provider = subprocess.Popen(["node", "provider.mjs", str(provider_port), f"{app}/oauth2callback"], cwd=provider_dir,
                                stdout=open(provider_log, "w"), stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{provider_port}"
    _wait_for(f"{issuer}/.well-known/openid-configuration", "the OpenID provider", provider, provider_log)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[auth]\nredirect_uri = "{app}/oauth2callback"\ncookie_secret = "{"c" * 40}"\nclient_id = "cxrviz"\n'
                       f'client_secret = "cxrviz-secret"\nserver_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
                       # Streamlit asks for prompt=select_account by default; oidc-provider knows login, consent, none
                       '[auth.client_kwargs]\nprompt = "login"\n')
    db = tmp_path / "reviews.sqlite"
    store = Store(str(db))
    team.sign_in(store, "admin@example.org")
    team.set_role(store, "admin@example.org", "judy@example.org", "adjudicator")
    team.create_campaign(store, "admin@example.org", CampaignSpec("oidc pilot", IMAGES, READERS, 2, blind=True))
    env = {**os.environ, "CXRVIZ_IMAGES": str(NIH_IMAGES), "CXRVIZ_CACHE": str(tmp_path / "cache"), "CXRVIZ_DB": str(db),
           "CXRVIZ_DEVICE": "cpu"}
    app_log = tmp_path / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(app_port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false", "--secrets.files", str(secrets)],
        cwd=REPO, env=env, stdout=open(app_log, "w"), stderr=subprocess.STDOUT)
    _wait_for(f"{app}/_stcore/health", "the app", server, app_log)
    yield app, store
    for process in (server, provider):
        process.terminate()
        process.wait(timeout=30)
    store.dispose()


def _wait_idle(page) -> None:
    page.wait_for_timeout(500)
    expect(page.get_by_role("img", name="Running...")).to_have_count(0)


def _sign_in(browser, app: str, login: str, path: str):
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{app}/{path}")
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=login]").fill(login)  # the provider's development login form
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    page.get_by_role("button", name="Continue").click()  # its consent screen
    expect(page.get_by_text(f"Signed in as {login}@example.org")).to_be_visible()
    _wait_idle(page)
    page.goto(f"{app}/{path}")  # the provider sends the browser back to the app's home page
    _wait_idle(page)
    return context, page


def _save(page, app: str, image: str, extra: str | None) -> None:
    page.goto(f"{app}/review?image={image}")
    key = image.replace(".", "-")
    expect(page.locator(f".st-key-save_{key}")).to_be_visible()
    _wait_idle(page)
    if extra:
        ticked = page.locator(f".st-key-lab_{key}_{extra} [data-testid=stBaseButton-primary]")
        for attempt in range(3):  # as for saving: a click that reached a running page is clicked again
            page.locator(f".st-key-lab_{key}_{extra}").get_by_role("button").click()
            try:
                expect(ticked).to_be_visible(timeout=20_000)
                break
            except AssertionError:
                if attempt == 2:
                    raise
        _wait_idle(page)
    moved_on = re.compile(rf"^(?!.*image={re.escape(image)}).*$")  # a save moves the page to the next image
    for attempt in range(3):  # a click that reached the page while it was still running is clicked again
        page.locator(f".st-key-save_{key}").get_by_role("button").click()
        try:
            expect(page).to_have_url(moved_on, timeout=30_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    _wait_idle(page)


def test_sign_in_blind_campaign_adjudication_export(signed_in_app, browser):
    app, store = signed_in_app
    for login, extra in zip(("reader1", "reader2"), (None, "Mass")):
        context, page = _sign_in(browser, app, login, "review")
        expect(page.get_by_role("textbox", name="Your name (required)")).to_have_count(0)  # the name cannot be typed
        if login == "reader2":
            page.goto(f"{app}/review?image={IMAGES[0]}")
            expect(page.get_by_text("Blind campaign: other readers' labels appear once you have read this image yourself", exact=False)).to_be_visible()
            screenshot(page, "team_oidc_blind_reader")
        for image in IMAGES:
            _save(page, app, image, extra if image == IMAGES[0] else None)
        context.close()
    assert {(r.image, r.reviewer) for r in store.reviews()} == {(i, f"{r}") for i in IMAGES for r in READERS}
    assert {r.reviewer: r.labels for r in store.reviews(IMAGES[0])} == {READERS[0]: ("No Finding",), READERS[1]: ("Mass",)}

    context, page = _sign_in(browser, app, "judy", "adjudication")
    expect(page.get_by_text(IMAGES[0]).first).to_be_visible()
    page.get_by_role("button", name="Remove Mass").click()  # the form starts from every finding a reader saw
    _wait_idle(page)
    page.get_by_label("Reason (required)").fill("no mass on this film")
    _wait_idle(page)
    page.get_by_role("button", name="Record final labels").click()
    expect(page.get_by_text("No disagreement is waiting for adjudication in this campaign.")).to_be_visible()
    screenshot(page, "team_oidc_adjudicated")
    with page.expect_download() as download:
        page.get_by_role("button", name="Adjudicated labels CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    context.close()
    first = next(r for r in rows if r["Image Index"] == IMAGES[0])
    assert first["How Reached"] == "adjudicated" and first["Adjudicator"] == "judy@example.org" and first["Reason"] == "no mass on this film"
    assert first["Final Labels"] == "No Finding"
    assert first["Readings"] == "reader1@example.org: No Finding; reader2@example.org: Mass"
    assert {r["How Reached"] for r in rows if r["Image Index"] != IMAGES[0]} == {"unanimous"}
