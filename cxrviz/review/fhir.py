"""A report as FHIR R4: one `DiagnosticReport` (JSON-ready dict) with a contained `Observation` per
finding and per measurement, for an EHR or a registry that speaks FHIR rather than DICOM.

Choices (the README's Reports section lists them):
- `code` is LOINC 18748-4 "Diagnostic imaging study": NIH images are single frontal films, so
  "XR Chest 2 Views" (36643-5) would claim a lateral that does not exist; the view goes in `code.text`.
- `status` is "final" for a signed version, "preliminary" for an unsigned one; `issued` the time it
  was signed; `resultsInterpreter` the signer; `conclusion` the IMPRESSION section of the text;
  `presentedForm` the whole text (text/plain, UTF-8, base64).
- A finding Observation has `code` "Finding" (121071, DICOM) and the finding's code as its value
  (the same codes as the DICOM SR, `dicom_sr.FINDING_CODES`), with one component per box of it
  ("Image Region", 111030 DICOM; x, y, w, h in the record frame: 1024 px for NIH images). A measurement Observation
  has "Length" (410668003 SNOMED CT) in mm (or UCUM `{pixels}` without a spacing) or cxrviz's
  "Cardiothoracic ratio" (99CXRVIZ) with UCUM `1`.
- The patient is a contained `Patient` (NIH patient ID, sex); the image's study is named by the
  Secondary Capture's Study Instance UID (`dicom_sr.image_uids`).
The structure is checked in the tests with `fhir.resources.R4B`, the R4-compatible release in
fhir.resources 8 (its top-level package is R5).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Sequence

from cxrviz.findings import FINDINGS
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.dicom_sr import (
    CTR_CODE,
    FINDING_CODES,
    LENGTH_CODE,
    MM_UNIT,
    PIXELS_UNIT,
    PRIVATE_SCHEME,
    RATIO_UNIT,
    _row_value,
    image_uids,
)
from cxrviz.review.measurements import Measurement
from cxrviz.review.reports import REPORT_SECTIONS, ReportVersion

SYSTEMS = {
    "SCT": "http://snomed.info/sct",
    "LN": "http://loinc.org",
    "DCM": "http://dicom.nema.org/resources/ontology/DCM",
    "UCUM": "http://unitsofmeasure.org",
    PRIVATE_SCHEME: "urn:cxrviz:codes",  # cxrviz's private codes (99CXRVIZ in DICOM)
}
REPORT_CODE = {"system": SYSTEMS["LN"], "code": "18748-4", "display": "Diagnostic imaging study"}
RADIOLOGY = {"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD", "display": "Radiology"}
IMAGING = {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "imaging", "display": "Imaging"}
FINDING = {"system": SYSTEMS["DCM"], "code": "121071", "display": "Finding"}
IMAGE_REGION = {"system": SYSTEMS["DCM"], "code": "111030", "display": "Image Region"}
REPORT_ID_SYSTEM = "urn:cxrviz:report"  # identifier value: IMAGE/READER/vVERSION
PATIENT_ID_SYSTEM = "urn:cxrviz:nih-patient-id"
_GENDER = {"M": "male", "F": "female", "O": "other"}


def coding(code: tuple[str, str, str]) -> dict:
    value, scheme, meaning = code
    return {"system": SYSTEMS[scheme], "code": value, "display": meaning}


def finding_concept(finding: str) -> dict:
    return {"coding": [coding(FINDING_CODES[finding])], "text": finding.replace("_", " ")}


def impression_of(text: str) -> str | None:
    """The IMPRESSION section's body (up to the next section heading), or None when the text has none."""
    headings = "|".join(re.escape(s.upper()) for s in REPORT_SECTIONS)
    match = re.search(r"(?im)^\s*IMPRESSION\s*:[ \t]*(.*?)(?=^\s*(?:" + headings + r")\s*:|\Z)", text, re.S)
    if not match:
        return None
    body = match.group(1).strip()
    return body or None


def _quantity(m: Measurement) -> dict:
    if m.kind == "ctr":
        unit = RATIO_UNIT
        return {"value": round(m.value, 4), "unit": "ratio", "system": SYSTEMS["UCUM"], "code": unit[0]}
    unit = MM_UNIT if m.spacing_mm else PIXELS_UNIT
    return {"value": round(m.value, 2), "unit": unit[2], "system": SYSTEMS["UCUM"], "code": unit[0]}


def report_id(report: ReportVersion) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cxrviz:report:{report.image}:{report.reviewer}:{report.version}"))


def diagnostic_report(report: ReportVersion, metadata_row=None, boxes: Sequence[ReviewerBox] = (),
                      measurements: Sequence[Measurement] = (), source=None) -> dict:
    """The report version as a FHIR R4 DiagnosticReport (a dict for `json.dumps`); boxes and
    measurements of other images are left out, "wrong" marks of NIH boxes are no finding.
    `source`: the image's own DICOM header where it has one (a PACS image): the study is then its
    Study Instance UID and the patient its Patient ID and sex, not the NIH contract's and metadata's."""
    status = "final" if report.signed else "preliminary"
    mine = [b for b in boxes if b.image == report.image and b.status != "wrong" and b.finding in FINDING_CODES]
    present = set(report.findings) | {b.finding for b in mine}
    findings = [f for f in FINDINGS if f in present]
    patient_id = _row_value(metadata_row, "patient_id")
    view = str(_row_value(metadata_row, "view") or "").upper()
    contained: list[dict] = []
    subject = None
    if source is not None:  # a PACS image: its own patient
        view = str(source.get("ViewPosition", "") or "").upper()
        pacs_patient = str(source.get("PatientID", "") or "").strip()
        if pacs_patient:
            patient = {"resourceType": "Patient", "id": "patient", "identifier": [{"value": pacs_patient}]}
            gender = _GENDER.get(str(source.get("PatientSex", "") or "").upper())
            if gender:
                patient["gender"] = gender
            contained.append(patient)
            subject = {"reference": "#patient", "display": f"patient {pacs_patient}"}
    elif patient_id is not None:
        patient = {"resourceType": "Patient", "id": "patient",
                   "identifier": [{"system": PATIENT_ID_SYSTEM, "value": str(int(patient_id))}]}
        gender = _GENDER.get(str(_row_value(metadata_row, "gender") or "").upper())
        if gender:
            patient["gender"] = gender
        contained.append(patient)
        subject = {"reference": "#patient", "display": f"NIH patient {int(patient_id)}"}
    common = {"status": status, "category": [{"coding": [IMAGING]}]}
    if subject:
        common["subject"] = subject
    results = []
    for i, finding in enumerate(findings, 1):
        obs = {"resourceType": "Observation", "id": f"finding-{i}", **common, "code": {"coding": [FINDING], "text": "Finding"},
               "valueCodeableConcept": finding_concept(finding)}
        regions = sorted((b for b in mine if b.finding == finding), key=lambda b: (b.y, b.x))
        if regions:
            obs["component"] = [{"code": {"coding": [IMAGE_REGION]}, "valueString": _region_text(b)} for b in regions]
        contained.append(obs)
        results.append({"reference": f"#finding-{i}", "display": finding.replace("_", " ")})
    for i, m in enumerate(sorted((m for m in measurements if m.image == report.image), key=lambda m: (m.kind, m.points)), 1):
        name = CTR_CODE if m.kind == "ctr" else LENGTH_CODE
        obs = {"resourceType": "Observation", "id": f"measurement-{i}", **common,
               "code": {"coding": [coding(name)], "text": "Cardiothoracic ratio" if m.kind == "ctr" else "Length"},
               "valueQuantity": _quantity(m)}
        if m.view:
            obs["note"] = [{"text": f"Measured on a {m.view} view."}]
        contained.append(obs)
        results.append({"reference": f"#measurement-{i}", "display": obs["code"]["text"]})
    text = report.text
    resource: dict = {
        "resourceType": "DiagnosticReport",
        "id": report_id(report),
        "identifier": [{"system": REPORT_ID_SYSTEM, "value": f"{report.image}/{report.reviewer}/v{report.version}"}],
        "status": status,
        "category": [{"coding": [RADIOLOGY]}],
        "code": {"coding": [REPORT_CODE], "text": f"Chest radiograph{f' ({view} view)' if view in ('PA', 'AP') else ''}"},
    }
    if contained:
        resource["contained"] = contained
    if subject:
        resource["subject"] = subject
    when = report.signed_at or report.created_at
    if when:
        resource["issued"] = when
    if report.signed_by:
        resource["resultsInterpreter"] = [{"display": report.signed_by}]
    study = str(source.StudyInstanceUID) if source is not None else image_uids(report.image)["study"]
    resource["imagingStudy"] = [{"identifier": {"system": "urn:dicom:uid", "value": "urn:oid:" + study},
                                 "display": report.image}]
    if results:
        resource["result"] = results
    impression = impression_of(text)
    if impression:
        resource["conclusion"] = impression
    if findings:
        resource["conclusionCode"] = [finding_concept(f) for f in findings]
    form = {"contentType": "text/plain; charset=utf-8", "language": "en",
            "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
            "title": f"Report on {report.image}, version {report.version}"}
    if when:
        form["creation"] = when
    resource["presentedForm"] = [form]
    return resource


def _region_text(box: ReviewerBox) -> str:
    return (f"x {box.x:.1f}, y {box.y:.1f}, width {box.w:.1f}, height {box.h:.1f} px "
            f"of the {box.frame_width}×{box.frame_height} image")
