"""The PACS in a real browser against the real Orthanc: Browse the PACS, open a study, save a
review, then store an SR of that review (made with highdicom here: h-sr's writer is another
branch) with `export --stow`, and find it in Orthanc with a QIDO-RS query."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
import requests
from playwright.sync_api import expect

from cxrviz.review.store import Store
from tests.conftest import NIH_IMAGES, REPO
from tests.e2e.conftest import browser, screenshot  # noqa: F401 — the session's Chromium
from tests.pacs.app_server import pacs_app
from tests.pacs.sr_files import reading_sr

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app(orthanc, pacs_content, tmp_path_factory):
    work = tmp_path_factory.mktemp("pacs-app")
    with pacs_app(work, orthanc.dicomweb, orthanc.auth, NIH_IMAGES) as url:
        yield url, work


def test_browse_open_review_and_store_the_sr(app, browser, orthanc, pacs_content, tmp_path):  # noqa: F811
    url, work = app
    made = pacs_content["made"][0]  # the MONOCHROME1 one
    key = made.sop_uid.replace(".", "-")
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.set_default_timeout(120_000)
    page.goto(f"{url}/browse?source=pacs&reviewer=Dr%20Ada")
    expect(page.get_by_role("heading", name="Browse the PACS")).to_be_visible()
    tiles = page.locator('[class*="st-key-tile_pacs_"] img')
    expect(tiles).to_have_count(len(pacs_content["made"]))
    expect(page.get_by_text("Page 1: images 1–")).to_be_visible()
    screenshot(page, "pacs-browse")

    page.locator(f".st-key-open_pacs_{key} button").click()
    expect(page.get_by_text("PACS · DX")).to_be_visible()
    expect(page.locator('[data-testid="stImage"] img').first).to_be_visible()
    expect(page.get_by_text("MONOCHROME1")).to_be_visible()
    assert made.sop_uid in page.url
    screenshot(page, "pacs-image")

    page.get_by_role("button", name="Review this image").click()
    expect(page.get_by_role("button", name="Save and next")).to_be_visible()
    page.locator('.st-key-review_form [class*="st-key-lab_"][class*="_Effusion"] button').first.click()
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Save and next").click()
    expect(page.get_by_text("Saved")).to_be_visible()
    screenshot(page, "pacs-review-saved")
    page.close()

    saved = Store(str(work / "reviews.sqlite")).reviews(made.sop_uid)
    assert [(r.reviewer, "Effusion" in r.labels) for r in saved] == [("Dr Ada", True)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sr = reading_sr(made.dataset, "Ada^Dr", list(saved[0].labels))
    sr.save_as(tmp_path / "review.dcm", enforce_file_format=True)
    env = {"CXRVIZ_DICOMWEB_USER": orthanc.auth[0], "CXRVIZ_DICOMWEB_PASSWORD": orthanc.auth[1],
           "CXRVIZ_DB": str(work / "reviews.sqlite"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "cxrviz", "export", "--stow", orthanc.dicomweb, "--stow-file", str(tmp_path / "review.dcm")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    try:
        assert done.returncode == 0, done.stderr
        assert f"{sr.SOPInstanceUID}: stored" in done.stdout
        found = requests.get(f"{orthanc.dicomweb}/instances", params={"Modality": "SR", "StudyInstanceUID": made.study_uid},
                             auth=orthanc.auth, timeout=10).json()
        assert [f["00080018"]["Value"][0] for f in found] == [sr.SOPInstanceUID]
    finally:
        orthanc.delete(sr.SOPInstanceUID)
