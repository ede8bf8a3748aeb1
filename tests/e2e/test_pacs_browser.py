"""The PACS in a real browser against the real Orthanc: Browse the PACS, open a study, save a
review, draft and sign the report, store its SR in the PACS from the Review page, find it in
Orthanc with a QIDO-RS query (in the image's own study), and `export --reports --format sr --stow`
makes the same SR ("already there")."""

from __future__ import annotations

import re
import subprocess
import sys

import pydicom
import pytest
import requests
from playwright.sync_api import expect

from cxrviz.review.dicom_sr import sr_uids
from cxrviz.review.store import Store
from cxrviz.review.store import reports as stored_reports
from tests.conftest import NIH_IMAGES, REPO
from tests.e2e.conftest import screenshot
from tests.pacs.app_server import pacs_app
from tests.pacs.conftest import orthanc, pacs_content  # noqa: F401, F811 (fixtures: a real Orthanc for this module)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app(orthanc, pacs_content, tmp_path_factory):  # noqa: F811
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

    saved = Store(str(work / "reviews.sqlite")).reviews(made.sop_uid)
    assert [(r.reviewer, "Effusion" in r.labels) for r in saved] == [("Dr Ada", True)]

    page.get_by_role("button", name="Draft from my reading").click()  # the queue of one: still this image
    expect(page.get_by_role("textbox", name="Report text")).to_have_value(re.compile(r"pleural effusion|Effusion", re.I))
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Signed by Dr Ada at .* UTC \(version 1\)$"))).to_be_visible()
    page.get_by_role("button", name="Store the signed report (version 1) in the PACS").click()
    report = stored_reports.latest(Store(str(work / "reviews.sqlite")), made.sop_uid, "Dr Ada")
    sr_uid = sr_uids(report)["sop"]
    expect(page.get_by_text(re.compile(rf"^{re.escape(sr_uid)}:\W*stored$"))).to_be_visible()  # a word joiner after the colon
    screenshot(page, "pacs-report-stored")
    page.close()
    try:
        found = requests.get(f"{orthanc.dicomweb}/instances", params={"Modality": "SR", "StudyInstanceUID": made.study_uid},
                             auth=orthanc.auth, timeout=10).json()
        assert [f["00080018"]["Value"][0] for f in found] == [sr_uid]  # in the PACS image's own study
        env = {"CXRVIZ_DICOMWEB_USER": orthanc.auth[0], "CXRVIZ_DICOMWEB_PASSWORD": orthanc.auth[1],
               "CXRVIZ_DB": str(work / "reviews.sqlite"), "PATH": "/usr/bin:/bin"}
        done = subprocess.run([sys.executable, "-m", "cxrviz", "export", "--reports", str(tmp_path / "reports"), "--format", "sr",
                               "--stow", orthanc.dicomweb, "--measurements", str(tmp_path / "m.csv")], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"{sr_uid}: already there" in done.stdout  # the CLI makes the same SR, byte for byte the same UIDs
        assert (tmp_path / "m.csv").is_file()  # and the other exports asked for in the same command are still written
        (written,) = (tmp_path / "reports").iterdir()
        sr = pydicom.dcmread(written)
        assert sr.SOPInstanceUID == sr_uid and sr.StudyInstanceUID == made.study_uid
    finally:
        orthanc.delete(sr_uid)
