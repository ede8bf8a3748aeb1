"""The draft report from a reader's saved reading: sections, side and zone from the boxes placed,
measurements with units, the comparison line from the patient's prior study; then the pure rules
of signing and versions."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.measurements import Measurement
from cxrviz.review.record import Review
from cxrviz.review.reports import (
    REPORT_SECTIONS,
    UNVERIFIED,
    ReportError,
    ReportVersion,
    as_text,
    draft_report,
    file_name,
    locate,
    new_version,
    prior_study,
    sign,
)

IMAGE = "00001511_000.png"  # patient 1511, AP, follow-up 2; its prior (follow-up 1) is 00001511_002.png


@pytest.fixture(scope="module")
def frame(nih_images):
    with Image.open(nih_images / IMAGE) as im:
        return im.size  # the original frame boxes are stored in


def _review(labels, status="corrected", image=IMAGE):
    return Review(image, "Dr Ann", tuple(labels), status, "", None, None, "2026-12-03T10:00:00Z", "2026-12-03T10:00:00Z")


def _box(frame, finding, cx, cy, status="drawn"):
    """A 60-px box centred at (cx, cy), fractions of the image."""
    w, h = frame
    return ReviewerBox(IMAGE, "Dr Ann", finding, cx * w - 30, cy * h - 30, 60, 60, w, h, status=status)


def _section(text: str, name: str) -> list[str]:
    block = text.split(f"{name.upper()}:\n", 1)[1]
    return block.split("\n\n", 1)[0].splitlines()


@pytest.mark.parametrize(("cx", "cy", "expected"), [
    (0.25, 0.20, "right upper zone"),  # image left = patient right
    (0.75, 0.20, "left upper zone"),
    (0.30, 0.50, "right middle zone"),
    (0.70, 0.80, "left lower zone"),
    (0.25, 0.05, "right upper zone"),  # above the lung band: upper
    (0.75, 0.97, "left lower zone"),  # below it: lower
    (0.52, 0.50, "central middle zone"),
])
def test_a_boxed_nodule_is_placed_by_its_centre(frame, cx, cy, expected):
    report = draft_report(_review(["Nodule"]), [_box(frame, "Nodule", cx, cy)])
    assert _section(report.text, "Lungs and pleura") == [f"Nodule in the {expected}."]
    assert _section(report.text, "Impression") == [f"1. Nodule, {expected}."]


def test_zone_thirds_are_of_the_lung_band_between_10_and_90_percent(frame):
    w, h = frame
    assert locate(0.2 * w, 0.10 * h + 0.2666 * h, w, h)[1] == "upper"  # just above 10% + 80%/3
    assert locate(0.2 * w, 0.10 * h + 0.2668 * h, w, h)[1] == "middle"
    assert locate(0.2 * w, 0.10 * h + 0.5332 * h, w, h)[1] == "middle"
    assert locate(0.2 * w, 0.10 * h + 0.5334 * h, w, h)[1] == "lower"


def test_each_finding_goes_to_its_section_with_its_boxes_and_normal_sentences_elsewhere(frame):
    boxes = [_box(frame, "Effusion", 0.8, 0.8), _box(frame, "Effusion", 0.2, 0.85), _box(frame, "Mass", 0.3, 0.3),
             _box(frame, "Mass", 0.7, 0.3, status="wrong"),  # marks an NIH box wrong: not a finding's place
             _box(frame, "Nodule", 0.3, 0.3)]  # not ticked in the reading: left out
    report = draft_report(_review(["Cardiomegaly", "Effusion", "Mass"]), boxes)
    assert report.findings == ("Cardiomegaly", "Effusion", "Mass")
    assert [line.split(":")[0] for line in report.text.split("\n\n")[2:]] == [s.upper() for s in REPORT_SECTIONS]
    assert _section(report.text, "Lungs and pleura") == ["Pleural effusion in the left lower zone and right lower zone.",
                                                         "Mass in the right upper zone."]
    assert _section(report.text, "Heart, mediastinum and hila") == ["Enlarged cardiac silhouette (cardiomegaly)."]
    assert _section(report.text, "Lines and tubes") == ["No lines or tubes recorded."]
    assert _section(report.text, "Bones and soft tissues") == ["No bone or soft-tissue finding recorded."]
    assert _section(report.text, "Impression") == ["1. Cardiomegaly.", "2. Pleural effusion, left lower zone and right lower zone.",
                                                   "3. Mass, right upper zone."]


def test_an_unboxed_finding_says_its_place_is_not_marked_and_no_finding_reads_normal():
    report = draft_report(_review(["Pneumothorax"]))
    assert _section(report.text, "Lungs and pleura") == ["Pneumothorax, location not marked."]
    normal = draft_report(_review(["No Finding"], status="confirmed"))
    assert normal.findings == ()
    assert _section(normal.text, "Lungs and pleura") == ["The lungs are clear. No pleural effusion or pneumothorax."]
    assert _section(normal.text, "Heart, mediastinum and hila") == ["The cardiomediastinal silhouette is within normal limits."]
    assert _section(normal.text, "Impression") == ["No acute cardiopulmonary finding."]
    uncertain = draft_report(_review(["Mass"], status="uncertain"))
    assert _section(uncertain.text, "Impression")[-1] == "The reader marked this reading uncertain."
    with pytest.raises(ReportError, match="saved as skipped"):
        draft_report(_review([], status="skipped"))


def test_measurements_are_listed_with_their_units(frame):
    w, h = frame
    ctr = Measurement(IMAGE, "Dr Ann", "ctr", ((0.3 * w, 0.6 * h), (0.75 * w, 0.6 * h), (0.1 * w, 0.6 * h), (0.9 * w, 0.6 * h)),
                      w, h, None, "AP")
    length = Measurement(IMAGE, "Dr Ann", "length", ((0.25 * w, 0.2 * h), (0.25 * w + 100, 0.2 * h)), w, h, (0.143, 0.143), "AP")
    no_spacing = Measurement(IMAGE, "Dr Ann", "length", ((0.7 * w, 0.8 * h), (0.7 * w, 0.8 * h + 50)), w, h, None, "AP")
    someone_else = Measurement(IMAGE, "Dr Bob", "length", ((10, 10), (20, 20)), w, h, None, "AP")
    report = draft_report(_review(["Nodule"]), [_box(frame, "Nodule", 0.25, 0.2)], [ctr, length, no_spacing, someone_else],
                          view="AP")
    assert _section(report.text, "Lungs and pleura") == [
        "Nodule in the right upper zone.", "Measured length 14.3 mm in the right upper zone.",
        "Measured length 50 pixels (no pixel spacing known) in the left lower zone."]
    assert _section(report.text, "Heart, mediastinum and hila") == [
        "The cardiomediastinal silhouette is within normal limits.",
        "Cardiothoracic ratio 0.56 (AP view; above the 0.50 limit, which an AP view overstates)."]
    assert report.text.startswith(f"CHEST RADIOGRAPH (AP): {IMAGE}\n")


def test_the_comparison_line_names_the_patients_prior_study_from_the_metadata(metadata, nih_images):
    assert (nih_images / IMAGE).is_file()
    row = metadata.table.iloc[metadata.row_of(IMAGE)]
    assert (row["patient_id"], row["follow_up"]) == (1511, 2)
    prior = prior_study(metadata, IMAGE)
    assert (prior.image, prior.follow_up) == ("00001511_002.png", 1)
    report = draft_report(_review(["Atelectasis"]), prior=prior, view="AP")
    assert report.text.split("\n\n")[1] == ("Comparison: prior study 00001511_002.png (follow-up #1); its NIH labels: "
                                            "Effusion, Infiltration.")
    first = "00000282_000.png"  # patient 282's first study: nothing to compare with
    assert prior_study(metadata, first) is None
    assert "Comparison: none" in draft_report(_review(["Mass"], image=first), prior=None).text


def test_sign_makes_a_version_read_only_and_a_new_version_copies_it():
    draft = draft_report(_review(["Mass"]))
    with pytest.raises(ReportError, match="not signed yet"):
        new_version(draft)
    signed = sign(draft, "  Dr   Ann ", at="2026-12-03T11:00:00.000000Z")
    assert (signed.signed_by, signed.signed_at, signed.version) == ("Dr Ann", "2026-12-03T11:00:00.000000Z", 1)
    with pytest.raises(ReportError, match="signed by Dr Ann at 2026-12-03T11:00:00.000000Z and cannot change"):
        sign(signed, "Dr Bob")
    second = new_version(signed)
    assert (second.version, second.text, second.findings, second.signed) == (2, signed.text, signed.findings, False)
    with pytest.raises(ReportError, match="empty"):
        sign(ReportVersion(IMAGE, "Dr Ann", 2, "  ", ()), "Dr Ann")


def test_the_text_file_carries_the_signature_or_the_unverified_mark_and_a_safe_name():
    draft = draft_report(_review(["Mass"]))
    assert as_text(draft).startswith(UNVERIFIED)
    signed = sign(draft, "Dr Ann", at="2026-12-03T11:00:00.000000Z")
    assert as_text(signed).endswith("\n\nSigned by Dr Ann at 2026-12-03 11:00:00 UTC (version 1)\n")
    assert UNVERIFIED not in as_text(signed)
    assert re.fullmatch(r"00001511_000__Dr-Ann-[0-9a-f]{6}__v1\.txt", file_name(signed))
    odd = sign(draft_report(Review(IMAGE, "../etc/passwd Ann", ("Mass",), "corrected", "", None, None, "t", "t")), "x")
    name = file_name(odd)
    assert "/" not in name and name.startswith("00001511_000__etc-passwd-Ann-") and name.endswith("__v1.txt")
    assert file_name(sign(draft_report(Review(IMAGE, "ann", ("Mass",), "corrected", "", None, None, "t", "t")), "x")) == \
        "00001511_000__ann__v1.txt"
