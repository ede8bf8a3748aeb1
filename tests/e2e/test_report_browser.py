"""The Report panel in a real browser: text typed and signed at once (no pause to leave the box)
is the text signed, the text download is that signed text with its signature line, and the DICOM SR
download is a TID 1500 SR of it, verified, referencing the image's Secondary Capture."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.store import Store
from cxrviz.review.store import reports as stored
from cxrviz.review.store.boxes import add_box
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
IMAGE = "00001511_000.png"  # 1024 × 1024, AP, with a prior study in the metadata


def test_typed_then_signed_at_once_is_what_is_signed_and_downloaded(app_url, app_home, page, tmp_path):
    store = Store(str(app_home / "reviews.sqlite"))
    store.save_review(IMAGE, "Dr Report", ["Atelectasis", "Nodule"], "corrected")
    add_box(store, ReviewerBox(IMAGE, "Dr Report", "Nodule", 204, 150, 100, 100, 1024, 1024))  # centre (25 %, 20 %)
    page.goto(f"{app_url}/review?reviewer=Dr%20Report&image={IMAGE}")
    page.get_by_role("button", name="Draft from my reading").click()
    area = page.get_by_role("textbox", name="Report text")
    expect(area).to_have_value(re.compile(r"Nodule in the right upper zone\."))
    expect(page.get_by_text("UNVERIFIED DRAFT: not signed (version 1)")).to_be_visible()
    area.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n\nAddendum: <b>typed</b> **then signed**.")
    page.get_by_role("button", name="Sign", exact=True).click()  # straight from the box
    expect(page.get_by_text(re.compile(r"^Signed by Dr Report at .* UTC \(version 1\)$"))).to_be_visible()
    expect(page.get_by_role("textbox", name="Report text")).to_have_count(0)  # read-only now
    expect(page.get_by_text("UNVERIFIED DRAFT")).to_have_count(0)
    screenshot(page, "report_signed_e2e")

    signed = stored.latest(store, IMAGE, "Dr Report")
    assert signed.signed_by == "Dr Report" and signed.text.endswith("Addendum: <b>typed</b> **then signed**.")
    with page.expect_download() as info:
        page.get_by_role("button", name="Text (.txt)").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert info.value.suggested_filename.startswith("00001511_000__Dr-Report-") and saved.name.endswith("__v1.txt")
    body = saved.read_text()
    assert body.startswith(signed.text) and re.search(r"\n\nSigned by Dr Report at .* UTC \(version 1\)\n$", body)

    with page.expect_download() as info:
        page.get_by_role("button", name="DICOM SR (.dcm)").click()
    sr_file = tmp_path / info.value.suggested_filename
    info.value.save_as(sr_file)
    import pydicom

    from cxrviz.review.dicom_sr import image_uids

    sr = pydicom.dcmread(sr_file)
    assert sr_file.name.endswith("__v1.dcm") and sr.Modality == "SR" and sr.VerificationFlag == "VERIFIED"
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert evidence.ReferencedSOPInstanceUID == image_uids(IMAGE)["sop"]
    assert "Addendum: <b>typed</b>" in str(sr.ContentSequence[-1].TextValue)
