"""The FHIR R4 DiagnosticReport of a report, validated by `fhir.resources.R4B` (the R4-compatible
release in fhir.resources 8), on a real NIH image's metadata."""

from __future__ import annotations

import base64
import json

import pytest
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from cxrviz.review import fhir
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.dicom_sr import image_uids
from cxrviz.review.measurements import Measurement
from cxrviz.review.reports import ReportVersion
from tests.conftest import BOXED_1024

READER = "Dr Ada Byron"
TEXT = ("CHEST RADIOGRAPH (PA): 00009745_000.png\n\nCOMPARISON: None.\n\nLUNGS AND PLEURA:\nSmall right effusion.\n\n"
        "HEART, MEDIASTINUM AND HILA:\nThe heart is enlarged.\n\nBONES AND SOFT TISSUES:\nNo acute osseous abnormality.\n\n"
        "IMPRESSION:\n1. Cardiomegaly.\n2. Small right pleural effusion.")


def _report(signed=True, findings=("Cardiomegaly", "Effusion")):
    return ReportVersion(BOXED_1024, READER, 3, TEXT, findings, READER if signed else None,
                         "2026-12-01T09:30:15.250000Z" if signed else None, created_at="2026-12-01T09:00:00.000000Z")


@pytest.fixture()
def row(metadata):
    return metadata.table.iloc[metadata.row_of(BOXED_1024)]


def test_diagnostic_report_validates_with_an_observation_per_finding_and_measurement(row):
    boxes = [ReviewerBox(BOXED_1024, READER, "Cardiomegaly", 300, 400, 420, 300, 1024, 1024),
             ReviewerBox(BOXED_1024, READER, "Nodule", 600, 200, 40, 40, 1024, 1024),  # a box's finding counts too
             ReviewerBox(BOXED_1024, READER, "Mass", 1, 1, 5, 5, 1024, 1024, "wrong", f"{BOXED_1024}:Mass:0"),
             ReviewerBox("00000282_000.png", READER, "Edema", 1, 1, 5, 5, 1024, 1024)]  # another image: left out
    measurements = [Measurement(BOXED_1024, READER, "length", ((100, 100), (400, 500)), 1024, 1024, (0.3835, 0.3835)),
                    Measurement(BOXED_1024, READER, "ctr", ((380, 600), (720, 600), (200, 640), (880, 640)), 1024, 1024, None, "PA")]
    resource = fhir.diagnostic_report(_report(), row, boxes, measurements)
    report = DiagnosticReport.model_validate_json(json.dumps(resource))  # as JSON, the way a server receives it
    assert report.status == "final"
    assert (report.code.coding[0].system, report.code.coding[0].code) == ("http://loinc.org", "18748-4")
    assert report.conclusion == "1. Cardiomegaly.\n2. Small right pleural effusion."
    assert base64.b64decode(resource["presentedForm"][0]["data"]).decode("utf-8") == TEXT
    assert report.presentedForm[0].data == TEXT.encode("utf-8")  # fhir.resources decodes base64Binary
    assert report.issued.isoformat().startswith("2026-12-01T09:30:15.25")
    assert report.resultsInterpreter[0].display == READER
    assert report.imagingStudy[0].identifier.value == "urn:oid:" + image_uids(BOXED_1024)["study"]
    contained = {c.id: c for c in report.contained}
    assert isinstance(contained["patient"], Patient) and contained["patient"].gender == "female"
    assert contained["patient"].identifier[0].value == str(int(row["patient_id"]))
    findings = [c for c in report.contained if isinstance(c, Observation) and c.id.startswith("finding-")]
    values = {(o.valueCodeableConcept.coding[0].system, o.valueCodeableConcept.coding[0].code) for o in findings}
    assert values == {("http://snomed.info/sct", "8186001"), ("http://snomed.info/sct", "60046008"), ("http://snomed.info/sct", "27925004")}
    cardio = next(o for o in findings if o.valueCodeableConcept.coding[0].code == "8186001")
    assert len(cardio.component) == 1 and "x 300.0, y 400.0" in cardio.component[0].valueString
    measured = {o.code.text: o.valueQuantity for o in report.contained if isinstance(o, Observation) and o.id.startswith("measurement-")}
    assert measured["Length"].code == "mm" and float(measured["Length"].value) == pytest.approx(500 * 0.3835, abs=0.01)
    assert measured["Cardiothoracic ratio"].code == "1" and float(measured["Cardiothoracic ratio"].value) == pytest.approx(0.5, abs=1e-4)
    assert [r.reference for r in report.result] == ["#finding-1", "#finding-2", "#finding-3", "#measurement-1", "#measurement-2"]
    assert all(o.subject.reference == "#patient" for o in report.contained if isinstance(o, Observation))


def test_unsigned_is_preliminary_and_still_valid(row):
    resource = fhir.diagnostic_report(_report(signed=False), row)
    report = DiagnosticReport.model_validate(resource)
    assert report.status == "preliminary" and report.resultsInterpreter is None
    assert {o.status for o in report.contained if isinstance(o, Observation)} == {"preliminary"}


def test_without_metadata_and_findings_it_is_still_a_valid_report():
    report = ReportVersion(BOXED_1024, READER, 1, "IMPRESSION:\nNo acute cardiopulmonary abnormality.", (), READER,
                           "2026-12-01T09:30:15Z")
    resource = fhir.diagnostic_report(report, None)
    parsed = DiagnosticReport.model_validate(resource)
    assert parsed.subject is None and parsed.result is None and parsed.conclusion == "No acute cardiopulmonary abnormality."


def test_a_report_without_an_impression_has_no_conclusion():
    assert fhir.impression_of("LUNGS AND PLEURA:\nClear.") is None
    assert fhir.impression_of("IMPRESSION: Normal.\n\nLINES AND TUBES:\nNone.") == "Normal."


def test_private_codes_use_the_documented_system(row):
    resource = fhir.diagnostic_report(_report(findings=("Pleural_Thickening",)), row)
    DiagnosticReport.model_validate(resource)
    (obs,) = [c for c in resource["contained"] if c["resourceType"] == "Observation"]
    assert obs["valueCodeableConcept"]["coding"][0] == {"system": "urn:cxrviz:codes", "code": "PLEURAL_THICKENING",
                                                        "display": "Pleural thickening"}


def test_a_pacs_image_names_its_own_study_and_patient():
    from pydicom import Dataset

    from cxrviz.review.reports import ReportVersion

    header = Dataset()
    header.StudyInstanceUID, header.PatientID, header.PatientSex, header.ViewPosition = "1.2.3.4.5", "PAT-9", "F", "AP"
    sop = "1.2.826.0.1.3680043.8.498.1234567890"
    report = ReportVersion(sop, "Dr Ann", 1, "Effusion.\n\nIMPRESSION:\n1. Effusion.", ("Effusion",), "Dr Ann",
                           "2026-12-03T11:00:00.000000Z")
    resource = fhir.diagnostic_report(report, None, source=header)
    DiagnosticReport.model_validate(resource)
    assert resource["imagingStudy"][0]["identifier"]["value"] == "urn:oid:1.2.3.4.5"
    patient = next(c for c in resource["contained"] if c["resourceType"] == "Patient")
    assert patient["identifier"][0]["value"] == "PAT-9" and patient["gender"] == "female"
    assert resource["subject"] == {"reference": "#patient", "display": "patient PAT-9"} and "(AP view)" in resource["code"]["text"]
