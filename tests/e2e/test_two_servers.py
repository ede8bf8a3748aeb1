"""Several app servers: two Streamlit processes on different ports share one PostgreSQL store.

Each server keeps its own sessions (a browser stays on one server: the load balancer's sticky
sessions); nothing is shared through process memory. Two readers, one per server, save the same
images at the same moments through the Review page; nothing is lost, and in a blind campaign each
sees the other's reading only once they have saved their own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.store import Store, team
from tests.conftest import NIH_IMAGES, REPO
from tests.e2e.conftest import _free_port, screenshot

pytestmark = pytest.mark.e2e
READERS = ("Dr One", "Dr Two")


@pytest.fixture()
def two_servers(postgres_url, tmp_path):
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # a clean schema
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    servers, urls = [], []
    for k in range(2):
        port = _free_port()
        env = {**os.environ, "CXRVIZ_IMAGES": str(NIH_IMAGES), "CXRVIZ_CACHE": str(tmp_path / f"cache{k}"), "CXRVIZ_DB": postgres_url,
               "CXRVIZ_ALLOW_ANONYMOUS": "1", "CXRVIZ_DEVICE": "cpu"}
        log = open(tmp_path / f"server{k}.log", "w")
        servers.append(subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.time() + 120
    for k, url in enumerate(urls):
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    for s in servers:
                        s.kill()
                    pytest.fail(f"server {k} did not start: {(tmp_path / f'server{k}.log').read_text()[-2000:]}")
                time.sleep(0.5)
    yield urls
    for server in servers:
        server.terminate()
    for server in servers:
        server.wait(timeout=30)


def _wait_idle(page) -> None:
    page.wait_for_timeout(500)
    expect(page.get_by_role("img", name="Running...")).to_have_count(0)


def _save_button(page, image: str):
    return page.locator(f".st-key-save_{image.replace('.', '-')}").get_by_role("button")


def _saved(page, image: str) -> None:
    """A save moves the page to the next image (its URL); a click that reached the page while it
    was still running is clicked again."""
    moved_on = re.compile(rf"^(?!.*image={re.escape(image)}).*$")
    for attempt in range(3):
        try:
            expect(page).to_have_url(moved_on, timeout=30_000)
            return
        except AssertionError:
            if attempt == 2:
                raise
            _save_button(page, image).click()


def _open(page, url: str, image: str, reader: str) -> None:
    page.goto(f"{url}/review?image={image}&reviewer={reader.replace(' ', '+')}")
    expect(page.locator(f".st-key-save_{image.replace('.', '-')}")).to_be_visible()
    _wait_idle(page)


def test_two_servers_one_postgres_concurrent_blind_readers(two_servers, browser, postgres_url):  # noqa: F811
    store = Store(postgres_url)
    images = sorted(p.name for p in NIH_IMAGES.glob("*.png"))[:3]
    team.sign_in(store, "Admin")
    team.create_campaign(store, "Admin", CampaignSpec("two servers", tuple(images), READERS, 2, blind=True))
    contexts = [browser.new_context(viewport={"width": 1500, "height": 1100}) for _ in READERS]
    pages = [c.new_page() for c in contexts]
    for page in pages:
        page.set_default_timeout(120_000)
    try:
        first = images[0]
        # Dr One saves on server 0; Dr Two, on server 1, has not saved yet: blind.
        _open(pages[0], two_servers[0], first, READERS[0])
        expect(pages[0].get_by_text("Team store without sign-in")).to_be_visible()
        _save_button(pages[0], first).click()
        _saved(pages[0], first)
        _open(pages[1], two_servers[1], first, READERS[1])
        expect(pages[1].get_by_text("Blind campaign: other readers' labels appear once you have read this image yourself", exact=False)).to_be_visible()
        screenshot(pages[1], "two_servers_blind")

        # Both save the same images at the same moments, each through their own server.
        for image in images[1:] + [first]:
            for page, url, reader in zip(pages, two_servers, READERS):
                if not (image == first and reader == READERS[0]):
                    _open(page, url, image, reader)
            saving = pages if image != first else pages[1:]
            for page in saving:
                _save_button(page, image).click()  # no wait in between: the two saves run concurrently on two servers
            for page in saving:
                _saved(page, image)
                _wait_idle(page)

        # Each now sees the other's reading, saved through the other server.
        for page, url, reader in zip(pages, two_servers, READERS):
            _open(page, url, first, reader)
            expect(page.get_by_text("Other reviewers of this image")).to_be_visible()
            expect(page.get_by_text("Blind campaign")).to_have_count(0)
            expect(page.get_by_text("Nobody else has reviewed this image yet.")).to_have_count(0)
        screenshot(pages[1], "two_servers_after_saving")
    finally:
        for context in contexts:
            context.close()

    saved = {(r.image, r.reviewer) for r in store.reviews()}
    assert saved == {(image, reader) for image in images for reader in READERS}  # nothing lost
    assert len([a for a in store.audit() if a["action"] == "create"]) == 6
    rows, total = team.campaign_progress(store, 1)
    assert total["readings submitted"] == 6 and {r["left"] for r in rows} == {0}
    store.dispose()
