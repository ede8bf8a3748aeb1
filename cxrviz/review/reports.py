"""The radiologist's report on one image: versions of a text, drafted from what the reader saved,
edited, then signed. A signed version is read-only; a later change is a new version, and every
version is kept (append-only). A version that is not signed is "unverified" wherever it is shown.

Drafting (`draft_report`) turns the reader's saved review into plain radiology sentences, one per
confirmed finding, under `REPORT_SECTIONS` (`SECTION_OF` says which finding goes where). Where a
finding has boxes, each box's centre gives the side and the zone (`locate`):

- side: the image is displayed as radiographs are, patient facing the viewer, on PA and AP alike,
  so the image's LEFT half is the patient's RIGHT. A centre within `CENTRAL_BAND` of the midline
  (the middle 10 % of the width) is "central" rather than a side.
- zone: an approximation without lung segmentation. The lung field is taken as the band of the
  image height between `LUNG_TOP` (10 %) and `LUNG_BOTTOM` (90 %), split into equal thirds: upper,
  middle, lower zone. A centre above the band counts as upper, below it as lower.

Measurements (`Measurement.value`/`.unit`) are listed with their units: a cardiothoracic ratio under
the heart, a length under the section of the finding whose box holds its midpoint (else lungs and
pleura), with its own side and zone. The comparison line names the patient's prior study from the
metadata (its follow-up number and NIH labels), or says there is none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS, NO_FINDING
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.identity import display_name, name_key
from cxrviz.review.measurements import CTR_NORMAL_LIMIT, Measurement
from cxrviz.review.record import Review, utc_now

REPORT_SECTIONS = (
    "Lines and tubes",
    "Lungs and pleura",
    "Heart, mediastinum and hila",
    "Bones and soft tissues",
    "Impression",
)


@dataclass(frozen=True)
class ReportVersion:
    image: str
    reviewer: str
    version: int  # 1, 2, … per (image, reviewer)
    text: str
    findings: tuple[str, ...]  # the reader's confirmed findings this version reports
    signed_by: str | None = None
    signed_at: str | None = None  # ISO 8601, UTC
    created_at: str | None = None
    id: int | None = None

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


class ReportError(CxrvizError):
    """A report change the rules refuse: editing a signed version, signing twice, an empty text."""


MAX_REPORT_CHARS = 20_000
CENTRAL_BAND = 0.10  # of the image width, around the midline: neither side
LUNG_TOP, LUNG_BOTTOM = 0.10, 0.90  # of the image height: the lung field the zones divide in thirds
ZONES = ("upper", "middle", "lower")
DRAFTABLE = ("confirmed", "corrected", "uncertain")  # a skipped image has no reading to report
LINES, LUNGS, HEART, BONES, IMPRESSION = REPORT_SECTIONS

# Which section a confirmed finding is reported under. NIH ChestX-ray14 has no line, tube or bone
# label, so those two sections carry only their normal sentence. "Hernia" in NIH is almost always a
# hiatus hernia, a mediastinal finding.
SECTION_OF: dict[str, str] = {
    "Atelectasis": LUNGS, "Effusion": LUNGS, "Infiltration": LUNGS, "Mass": LUNGS, "Nodule": LUNGS,
    "Pneumonia": LUNGS, "Pneumothorax": LUNGS, "Consolidation": LUNGS, "Edema": LUNGS, "Emphysema": LUNGS,
    "Fibrosis": LUNGS, "Pleural_Thickening": LUNGS,
    "Cardiomegaly": HEART, "Hernia": HEART,
}
# The finding as a radiologist writes it (the noun phrase of its sentence).
WORDING: dict[str, str] = {
    "Atelectasis": "atelectasis", "Cardiomegaly": "enlarged cardiac silhouette (cardiomegaly)",
    "Effusion": "pleural effusion", "Infiltration": "infiltrate", "Mass": "mass", "Nodule": "nodule",
    "Pneumonia": "airspace opacity consistent with pneumonia", "Pneumothorax": "pneumothorax",
    "Consolidation": "consolidation", "Edema": "pulmonary edema", "Emphysema": "emphysema", "Fibrosis": "fibrosis",
    "Pleural_Thickening": "pleural thickening", "Hernia": "hiatus hernia",
}
LOCATED = frozenset(SECTION_OF) - {"Cardiomegaly", "Hernia", "Edema"}  # findings whose side and zone are worth a word
# Said when a section has no finding of the reading.
NORMAL: dict[str, str] = {
    LINES: "No lines or tubes recorded.",
    LUNGS: "The lungs are clear. No pleural effusion or pneumothorax.",
    HEART: "The cardiomediastinal silhouette is within normal limits.",
    BONES: "No bone or soft-tissue finding recorded.",
}
NORMAL_IMPRESSION = "No acute cardiopulmonary finding."
assert set(SECTION_OF) == set(FINDINGS) and set(WORDING) == set(FINDINGS)


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def locate(x: float, y: float, frame_width: int, frame_height: int) -> tuple[str, str]:
    """(side, zone) of a point of the original frame: side "right" / "left" of the PATIENT (image
    left is patient right) or "central"; zone "upper" / "middle" / "lower" (module docstring)."""
    fx, fy = x / frame_width, y / frame_height
    side = "central" if abs(fx - 0.5) < CENTRAL_BAND / 2 else ("right" if fx < 0.5 else "left")
    third = (min(max(fy, LUNG_TOP), LUNG_BOTTOM) - LUNG_TOP) / ((LUNG_BOTTOM - LUNG_TOP) / 3)
    return side, ZONES[min(int(third), 2)]


def where(side: str, zone: str) -> str:
    """'right upper zone', 'central lower zone'."""
    return f"{side} {zone} zone"


def box_location(box: ReviewerBox) -> str:
    """Where a box is, from its centre: 'right upper zone'."""
    return where(*locate(box.x + box.w / 2, box.y + box.h / 2, box.frame_width, box.frame_height))


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def finding_sentence(finding: str, boxes: Sequence[ReviewerBox]) -> str:
    """One sentence for a confirmed finding, located by the reader's boxes of it."""
    noun = WORDING[finding]
    places = _unique(box_location(b) for b in boxes)
    if finding not in LOCATED:
        return _sentence(noun)
    if places:
        return _sentence(f"{noun} in the {_join(places)}")
    return _sentence(f"{noun}, location not marked")


def impression_item(finding: str, boxes: Sequence[ReviewerBox]) -> str:
    places = _unique(box_location(b) for b in boxes)
    noun = WORDING[finding].split(" (")[0] if finding != "Cardiomegaly" else "cardiomegaly"
    return _sentence(f"{noun}, {_join(places)}" if places and finding in LOCATED else noun)


def measurement_sentence(m: Measurement) -> str:
    """'Cardiothoracic ratio 0.56 (PA view; above 0.50).' or 'Measured length 23.4 mm in the right upper zone.'"""
    if m.kind == "ctr":
        view = f"{m.view} view; " if m.view else ""
        limit = "above" if m.value > CTR_NORMAL_LIMIT else "within"
        note = f"{limit} the {CTR_NORMAL_LIMIT:.2f} limit"
        if m.view == "AP":
            note += ", which an AP view overstates"
        return f"Cardiothoracic ratio {m.value:.2f} ({view}{note})."
    (x1, y1), (x2, y2) = m.points
    place = where(*locate((x1 + x2) / 2, (y1 + y2) / 2, m.frame_width, m.frame_height))
    size = f"{m.value:.1f} mm" if m.unit == "mm" else f"{m.value:.0f} pixels (no pixel spacing known)"
    return f"Measured length {size} in the {place}."


def _section_of_length(m: Measurement, boxes: Sequence[ReviewerBox]) -> str:
    (x1, y1), (x2, y2) = m.points
    mx, my = (x1 + x2) / 2 / m.frame_width, (y1 + y2) / 2 / m.frame_height
    for b in boxes:
        if b.x / b.frame_width <= mx <= (b.x + b.w) / b.frame_width and b.y / b.frame_height <= my <= (b.y + b.h) / b.frame_height:
            return SECTION_OF[b.finding]
    return LUNGS


def comparison_line(prior) -> str:
    """From the patient's prior study (`followups.Study`) or None."""
    if prior is None:
        return "Comparison: none (no prior study of this patient in the metadata)."
    number = f"follow-up #{prior.follow_up}" if prior.follow_up is not None else "follow-up number not recorded"
    labels = ", ".join(label.replace("_", " ") for label in prior.labels) or NO_FINDING
    return f"Comparison: prior study {prior.image} ({number}); its NIH labels: {labels}."


def prior_study(metadata, image: str):
    """The same patient's study just before `image` (`followups.Study`), or None."""
    from cxrviz.data.followups import adjacent_studies

    return adjacent_studies(metadata, [image]).get(image, (None, None))[0]


def confirmed_findings(review: Review) -> tuple[str, ...]:
    """The findings a saved reading reports: its labels, "No Finding" aside; a skipped image has none."""
    if review.status not in DRAFTABLE:
        raise ReportError(f"{review.image} was saved as {review.status}: save a reading (confirmed, corrected or "
                          "uncertain) before drafting its report.")
    return tuple(f for f in FINDINGS if f in set(review.labels))


def draft_report(review: Review, boxes: Sequence[ReviewerBox] = (), measurements: Sequence[Measurement] = (),
                 prior=None, view: str | None = None) -> ReportVersion:
    """The draft (unsigned, version 1) of the reader's report from their saved `review`, their `boxes`
    of the image (original frame; "wrong" marks of NIH boxes are not findings and are left out),
    their `measurements` and the patient's `prior` study (`prior_study`)."""
    findings = confirmed_findings(review)
    mine = [b for b in boxes if b.image == review.image and b.status != "wrong" and b.finding in findings]
    lines: dict[str, list[str]] = {section: [] for section in REPORT_SECTIONS}
    for finding in findings:
        lines[SECTION_OF[finding]].append(finding_sentence(finding, [b for b in mine if b.finding == finding]))
    reader = name_key(review.reviewer)
    for m in measurements:
        if m.image != review.image or name_key(m.reviewer) != reader:  # the reader's own, of this image
            continue
        section = HEART if m.kind == "ctr" else _section_of_length(m, mine)
        lines[section].append(measurement_sentence(m))
    impression = [f"{i}. {impression_item(f, [b for b in mine if b.finding == f])}" for i, f in enumerate(findings, 1)]
    if review.status == "uncertain":
        impression.append("The reader marked this reading uncertain.")
    lines[IMPRESSION] = impression or [NORMAL_IMPRESSION]
    title = f"CHEST RADIOGRAPH{f' ({view})' if view else ''}: {review.image}"
    parts = [title, comparison_line(prior)]
    for section in REPORT_SECTIONS:
        body = lines[section] or [NORMAL[section]]
        if section == LUNGS and lines[section] and not any(SECTION_OF[f] == LUNGS for f in findings):
            body = [NORMAL[LUNGS]] + body  # a measurement alone: the lungs are still clear
        if section == HEART and lines[section] and not any(SECTION_OF[f] == HEART for f in findings):
            body = [NORMAL[HEART]] + body
        parts.append(f"{section.upper()}:\n" + "\n".join(body))
    return ReportVersion(image=review.image, reviewer=review.reviewer, version=1, text="\n\n".join(parts), findings=findings)


# ---- the rules of editing, signing and versions (pure: the store applies them) ---------------

def check_text(text: str) -> str:
    if not text or not text.strip():
        raise ReportError("The report is empty: write or draft it first.")
    if len(text) > MAX_REPORT_CHARS:
        raise ReportError(f"A report can be at most {MAX_REPORT_CHARS:,} characters ({len(text):,} given); nothing was saved.")
    return text


def _signed_already(version: ReportVersion) -> ReportError:
    return ReportError(f"Version {version.version} of the report on {version.image} was signed by {version.signed_by} "
                       f"at {version.signed_at} and cannot change; start a new version to amend it.")


def edit(version: ReportVersion, text: str) -> ReportVersion:
    """The same unsigned version with a new text; a signed version is read-only."""
    if version.signed:
        raise _signed_already(version)
    if len(text) > MAX_REPORT_CHARS:
        check_text(text)
    return replace(version, text=text)


def sign(version: ReportVersion, signer: str, at: str | None = None) -> ReportVersion:
    """The version signed by `signer` at `at` (UTC, now by default). Signing twice is refused."""
    if version.signed:
        raise _signed_already(version)
    check_text(version.text)
    return replace(version, signed_by=display_name(signer), signed_at=at or utc_now())


def new_version(latest: ReportVersion) -> ReportVersion:
    """The next version, unsigned, starting from the latest's text and findings; only a signed
    version is followed by a new one (an unsigned one is still being edited)."""
    if not latest.signed:
        raise ReportError(f"Version {latest.version} of the report on {latest.image} is not signed yet: edit it "
                          "rather than starting another.")
    return ReportVersion(image=latest.image, reviewer=latest.reviewer, version=latest.version + 1, text=latest.text,
                         findings=latest.findings)


UNVERIFIED = "UNVERIFIED DRAFT"


def when(at: str | None) -> str:
    """A stored UTC time as a reader reads it: 2026-12-03 14:05:09 UTC."""
    return f"{at[:10]} {at[11:19]} UTC" if at and len(at) >= 19 else (at or "?")


def status_line(version: ReportVersion) -> str:
    """'Signed by X at 2026-12-03 14:05:09 UTC (version n)' or the unverified mark."""
    if version.signed:
        return f"Signed by {version.signed_by} at {when(version.signed_at)} (version {version.version})"
    return f"{UNVERIFIED}: not signed (version {version.version})"


def as_text(version: ReportVersion) -> str:
    """The report as a plain-text file: its text and a signature line, or the unverified mark on top."""
    if version.signed:
        return f"{version.text.rstrip()}\n\n{status_line(version)}\n"
    return f"{UNVERIFIED} (not signed; do not act on it)\n\n{version.text.rstrip()}\n"


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")  # dots too: no "..", no hidden file, no second suffix


def file_name(version: ReportVersion, suffix: str = ".txt") -> str:
    """`IMAGE__READER__vN.txt` with only safe characters; a reader name changed by that keeps a
    short digest of the name, so two readers never share a file."""
    import hashlib

    image = version.image.rsplit(".", 1)[0] if version.image.lower().endswith((".png", ".dcm", ".jpg", ".jpeg")) else version.image
    image = _UNSAFE.sub("-", image).strip("-") or "image"
    reader = _UNSAFE.sub("-", version.reviewer).strip("-") or "reader"
    if reader != version.reviewer:
        reader += "-" + hashlib.sha256(name_key(version.reviewer).encode()).hexdigest()[:6]
    return f"{image}__{reader}__v{version.version}{suffix}"
