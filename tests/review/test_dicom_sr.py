"""DICOM out and in on real NIH images: the Secondary Capture's UID contract, the TID 1500 SR read
back with highdicom and pydicom, SRs written by highdicom directly (not through cxrviz) read back,
and every kind of bad input refused with a sentence."""

from __future__ import annotations

import io
import shutil
import subprocess

import highdicom as hd
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from cxrviz.review import dicom_sr
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.dicom_sr import SourceImage, SourceIndex, SrError, SrRefusedError, read_sr, tid1500_sr
from cxrviz.review.measurements import Measurement
from cxrviz.review.reports import ReportVersion
from tests.conftest import BOXED_1024, RGBA_1024, SMALL_512

READER = "Dr Ada Byron"
SIGNED = "2026-12-01T09:30:15.250000Z"


def _row(metadata, image):
    return metadata.table.iloc[metadata.row_of(image)]


def _report(image, findings=("Cardiomegaly",), signed=True, version=1):
    text = f"CHEST RADIOGRAPH: {image}\n\nHEART, MEDIASTINUM AND HILA:\nThe heart is enlarged.\n\nIMPRESSION:\n1. Cardiomegaly."
    return ReportVersion(image, READER, version, text, tuple(findings), READER if signed else None, SIGNED if signed else None)


def _sc(nih_images, metadata, image):
    return dicom_sr.secondary_capture_of_file(nih_images / image, _row(metadata, image))


def _source(sc, metadata, image):
    return SourceImage(image, int(sc.Columns), int(sc.Rows), 1024, 1024, dicom_sr.file_spacing(_row(metadata, image), 1024, 1024))


def _polylines(ds):
    """(finding code, referenced SOP Instance UID, points) of every planar ROI, walked with pydicom alone."""
    out = []

    def walk(items, finding=None):
        for item in items:
            name = item.ConceptNameCodeSequence[0].CodeValue if "ConceptNameCodeSequence" in item else None
            if item.ValueType == "CONTAINER" and name == "125007":  # a measurement group
                codes_in = [c.ConceptCodeSequence[0].CodeValue for c in item.ContentSequence
                            if c.ValueType == "CODE" and c.ConceptNameCodeSequence[0].CodeValue == "121071"]
                walk(item.ContentSequence, codes_in[0] if codes_in else None)
            elif item.ValueType == "SCOORD" and name == "111030":  # Image Region
                ref = item.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
                out.append((finding, ref, np.array(item.GraphicData, dtype=float).reshape(-1, 2)))
            elif "ContentSequence" in item:
                walk(item.ContentSequence, finding)
    walk(ds.ContentSequence)
    return out


# ---- the Secondary Capture ------------------------------------------------------------------------

def test_the_uid_contract_is_generate_uid_of_the_file_name():
    uids = dicom_sr.image_uids("00000211_006.png")
    assert uids["sop"] == generate_uid(entropy_srcs=["00000211_006.png"])
    assert uids["study"] == generate_uid(entropy_srcs=["00000211_006.png", "study"])
    assert uids["series"] == generate_uid(entropy_srcs=["00000211_006.png", "series"])
    # pinned: an outside tool computing the contract today gets this value (the README shows it)
    assert uids["sop"] == "1.2.826.0.1.3680043.8.498.84301341931973177390254534733653456762"


@pytest.mark.parametrize("image", [BOXED_1024, SMALL_512, RGBA_1024])
def test_secondary_capture_of_a_real_png(nih_images, metadata, image, tmp_path):
    sc = _sc(nih_images, metadata, image)
    path = tmp_path / "sc.dcm"
    sc.save_as(path, enforce_file_format=True)
    back = pydicom.dcmread(path)
    assert back.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture Image Storage
    assert back.SOPInstanceUID == generate_uid(entropy_srcs=[image])
    assert back.StudyInstanceUID == generate_uid(entropy_srcs=[image, "study"])
    assert back.SeriesInstanceUID == generate_uid(entropy_srcs=[image, "series"])
    png = np.asarray(Image.open(nih_images / image).convert("RGBA").convert("L")) if image == RGBA_1024 else np.asarray(Image.open(nih_images / image))
    assert back.pixel_array.shape == png.shape and (back.Rows, back.Columns) == png.shape
    if image != RGBA_1024:  # a grayscale PNG's own pixels, unchanged
        assert np.array_equal(back.pixel_array, png)
    row = _row(metadata, image)
    assert back.PatientID == str(int(row["patient_id"]))
    assert back.PatientSex == str(row["gender"])
    assert back.PatientAge == f"{int(row['age']):03d}Y"
    assert back.ViewPosition == str(row["view"])
    # the metadata's spacing is the original's; the file is smaller
    assert float(back.PixelSpacing[1]) == pytest.approx(row["spacing_x"] * row["width"] / png.shape[1], rel=1e-5)


# ---- writing the SR and reading it back -----------------------------------------------------------

@pytest.mark.parametrize("image", [BOXED_1024, SMALL_512])
def test_sr_read_back_with_highdicom_and_pydicom(nih_images, metadata, image, tmp_path):
    sc = _sc(nih_images, metadata, image)
    scale = int(sc.Columns) / 1024
    boxes = [ReviewerBox(image, READER, "Cardiomegaly", 301.5, 402.25, 420.0, 300.5, 1024, 1024),
             ReviewerBox(image, READER, "Effusion", 700.0, 650.0, 200.0, 150.0, 1024, 1024),
             ReviewerBox(image, READER, "Mass", 10.0, 10.0, 30.0, 30.0, 1024, 1024, "wrong", f"{image}:Mass:0")]
    spacing = dicom_sr.file_spacing(_row(metadata, image), 1024, 1024)
    lengths = [Measurement(image, READER, "length", ((100.0, 120.0), (300.0, 240.0)), 1024, 1024, spacing),
               Measurement(image, READER, "ctr", ((380.0, 600.0), (720.0, 600.0), (200.0, 640.0), (880.0, 640.0)), 1024, 1024)]
    sr = tid1500_sr(_report(image, ("Cardiomegaly", "Effusion")), boxes, lengths, sc)
    path = tmp_path / "report.dcm"
    sr.save_as(path, enforce_file_format=True)

    raw = pydicom.dcmread(path)
    assert raw.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    assert raw.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    polylines = _polylines(raw)
    assert len(polylines) == 2  # the "wrong" mark of an NIH box is no region of a finding
    for box in boxes[:2]:
        code = dicom_sr.FINDING_CODES[box.finding][0]
        (found,) = [p for c, _, p in polylines if c == code]
        expected = np.array([[box.x, box.y], [box.x + box.w, box.y], [box.x + box.w, box.y + box.h],
                             [box.x, box.y + box.h], [box.x, box.y]]) * scale
        assert found.shape == (5, 2) and np.array_equal(found[0], found[-1])  # closed
        assert np.abs(found - expected).max() <= 1.0
    assert {ref for _, ref, _ in polylines} == {sc.SOPInstanceUID}

    report = hd.sr.MeasurementReport.from_sequence(hd.sr.srread(path).content)
    groups = report.get_planar_roi_measurement_groups()
    assert {g.finding_type.value for g in groups} == {"8186001", "60046008"}
    cardio = next(g for g in groups if g.finding_type.value == "8186001")
    assert cardio.finding_type.scheme_designator == "SCT" and cardio.roi.graphic_type.value == "POLYLINE"
    assert np.abs(cardio.roi.value - np.array([[301.5, 402.25], [721.5, 402.25], [721.5, 702.75], [301.5, 702.75], [301.5, 402.25]]) * scale).max() <= 1.0
    person = report.get_observer_contexts(observer_type=codes.DCM.Person)[0]
    assert [str(i.value) for i in person.observer_identifying_attributes if i.name == codes.DCM.PersonObserverName] == [f"{READER}^"]
    measured = [m for g in report.get_image_measurement_groups() for m in g.get_measurements()]
    length = next(m for m in measured if m.name.value == "410668003")
    assert length.unit.value == "mm" and length.value == pytest.approx(lengths[0].value, rel=1e-6)
    ctr = next(m for m in measured if m.name.value == "CTR")
    assert ctr.name.scheme_designator == "99CXRVIZ" and ctr.unit.value == "1"
    assert ctr.value == pytest.approx((720 - 380) / (880 - 200), rel=1e-6)
    text = [i for i in raw.ContentSequence if i.ValueType == "TEXT"]
    assert text[0].TextValue == _report(image).text
    assert raw.PreliminaryFlag == "FINAL" and raw.VerificationFlag == "VERIFIED"
    assert raw.PatientID == str(int(_row(metadata, image)["patient_id"]))  # from the evidence (the SC)
    assert raw.StudyInstanceUID == sc.StudyInstanceUID

    reading = read_sr(path, SourceIndex.of_sources([_source(sc, metadata, image)]))
    assert reading.observer == READER
    assert sorted((b.finding, round(b.x, 3), round(b.y, 3), round(b.w, 3), round(b.h, 3)) for b in reading.boxes) == \
        [("Cardiomegaly", 301.5, 402.25, 420.0, 300.5), ("Effusion", 700.0, 650.0, 200.0, 150.0)]
    assert reading.findings == {image: ("Cardiomegaly", "Effusion")}
    by_kind = {m.kind: m for m in reading.measurements}
    assert by_kind["length"].value == pytest.approx(lengths[0].value, rel=1e-6) and by_kind["length"].unit == "mm"
    assert by_kind["ctr"].value == pytest.approx(lengths[1].value, rel=1e-6)


def test_the_same_signed_version_exports_the_same_bytes(nih_images, metadata):
    sc = _sc(nih_images, metadata, SMALL_512)
    box = [ReviewerBox(SMALL_512, READER, "Cardiomegaly", 300, 400, 400, 300, 1024, 1024)]
    first = dicom_sr.to_bytes(tid1500_sr(_report(SMALL_512), box, [], sc))
    assert first == dicom_sr.to_bytes(tid1500_sr(_report(SMALL_512), list(reversed(box)), [], sc))
    assert first != dicom_sr.to_bytes(tid1500_sr(_report(SMALL_512, version=2), box, [], sc))


def test_an_unsigned_report_is_refused_with_a_sentence(nih_images, metadata):
    sc = _sc(nih_images, metadata, SMALL_512)
    with pytest.raises(SrRefusedError, match="is not signed; only a signed report is exported as a DICOM SR"):
        tid1500_sr(_report(SMALL_512, signed=False), [], [], sc)


def test_length_without_spacing_is_in_pixels(nih_images, metadata):
    sc = dicom_sr.secondary_capture_of_file(nih_images / SMALL_512, None)  # no metadata: no spacing
    m = Measurement(SMALL_512, READER, "length", ((0.0, 0.0), (300.0, 400.0)), 1024, 1024, None)
    report = hd.sr.MeasurementReport.from_sequence(hd.sr.ComprehensiveSR.from_dataset(tid1500_sr(_report(SMALL_512), [], [m], sc)).content)
    (length,) = [x for g in report.get_image_measurement_groups() for x in g.get_measurements()]
    assert (length.unit.value, length.unit.scheme_designator) == ("{pixels}", "UCUM")
    assert length.value == pytest.approx(250.0)  # 500 px of the 1024 frame is 250 px of the 512-px file


# ---- SRs written by highdicom directly, as another tool would -------------------------------------

def _independent_sr(sc, regions, observer="Byron^Ada", lengths=(), finding_only=()):
    """A TID 1500 SR built with highdicom alone: `regions` are (graphic type, points, (code, scheme, meaning))."""
    source = hd.sr.SourceImageForRegion(sc.SOPClassUID, sc.SOPInstanceUID)
    groups = []
    for i, (graphic_type, points, code) in enumerate(regions):
        groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=f"ROI {i}"),
            referenced_region=hd.sr.ImageRegion(graphic_type, np.array(points, dtype=float), source),
            finding_type=hd.sr.CodedConcept(*code)))
    for i, (points, value) in enumerate(lengths):
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=f"Length {i}"),
            measurements=[hd.sr.Measurement(name=codes.SCT.Length, value=value, unit=codes.UCUM.Millimeter,
                                            referenced_coordinates=[hd.sr.CoordinatesForMeasurement("POLYLINE", np.array(points, dtype=float), source)])]))
    for code in finding_only:
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier="finding"),
            finding_type=hd.sr.CodedConcept(*code), source_images=[hd.sr.SourceImageForMeasurementGroup(sc.SOPClassUID, sc.SOPInstanceUID)]))
    context = hd.sr.ObservationContext(observer_person_context=hd.sr.ObserverContext(
        observer_type=codes.DCM.Person, observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=observer)))
    content = hd.sr.MeasurementReport(observation_context=context, procedure_reported=hd.sr.CodedConcept("36643-5", "LN", "XR Chest 2V"),
                                      imaging_measurements=groups)
    return hd.sr.Comprehensive3DSR(evidence=[sc], content=content[0], series_instance_uid=generate_uid(), series_number=10,
                                   sop_instance_uid=generate_uid(), instance_number=1, manufacturer="someone else")


def test_an_sr_built_with_highdicom_directly_is_read(nih_images, metadata, tmp_path):
    sc = _sc(nih_images, metadata, SMALL_512)  # 512-px file: the SR's coordinates are in its 512 px
    rect = [[50, 60], [150, 60], [150, 100], [50, 100], [50, 60]]
    sr = _independent_sr(sc, [
        ("POLYLINE", rect, ("36118008", "SCT", "Pneumothorax")),
        ("CIRCLE", [[300, 300], [320, 300]], ("27925004", "SCT", "Nodule")),
        ("ELLIPSE", [[200, 400], [260, 400], [230, 390], [230, 410]], ("4147007", "SCT", "Mass")),
        ("POLYLINE", [[400, 100], [450, 120], [420, 180], [400, 100]], ("287272002", "SCT", "Cardiomegaly")),  # another tool's code
    ], lengths=[([[10, 10], [40, 50]], 25.0)], finding_only=[("60046008", "SCT", "Pleural effusion")])
    path = tmp_path / "other.dcm"
    sr.save_as(path, enforce_file_format=True)
    reading = read_sr(path, SourceIndex.of_sources([_source(sc, metadata, SMALL_512)]))
    assert reading.observer == "Ada Byron"  # the PN's given and family names
    got = {b.finding: (b.x, b.y, b.w, b.h) for b in reading.boxes}
    assert all(b.frame_width == 1024 and b.image == SMALL_512 and b.reviewer == "Ada Byron" for b in reading.boxes)
    assert got["Pneumothorax"] == pytest.approx((100, 120, 200, 80))  # doubled into the 1024 frame
    assert got["Nodule"] == pytest.approx((560, 560, 80, 80))  # the circle's bounding square
    assert got["Mass"] == pytest.approx((400, 780, 120, 40))  # the ellipse's bounding rectangle
    assert got["Cardiomegaly"] == pytest.approx((800, 200, 100, 160))  # a polygon's bounding rectangle
    assert reading.findings == {SMALL_512: ("Cardiomegaly", "Effusion", "Mass", "Nodule", "Pneumothorax")}
    (length,) = reading.measurements
    assert length.points == ((20.0, 20.0), (80.0, 100.0)) and length.frame_width == 1024 and length.unit == "mm"


def _index(sc, metadata, image):
    return SourceIndex.of_sources([_source(sc, metadata, image)])


@pytest.mark.parametrize("case, expected", [
    ("png", "is not a DICOM file"),
    ("truncated", "truncated"),  # pydicom or highdicom notices, depending on where the cut falls
    ("image", "not a structured report (Secondary Capture Image Storage)"),
    ("unknown image", "which is no NIH image cxrviz knows"),
    ("outside", "has coordinates outside the 512×512 image 00000282_000.png"),
    ("unknown finding", "'Fracture' (72704001, SCT), not one of cxrviz's 14 findings"),
    ("point", "is a POINT, which has no area"),
    ("device", "names no person observer"),
])
def test_bad_input_is_refused_with_a_sentence(nih_images, metadata, tmp_path, case, expected):
    sc = _sc(nih_images, metadata, SMALL_512)
    rect = [[50, 60], [150, 60], [150, 100], [50, 100], [50, 60]]
    path = tmp_path / "bad.dcm"
    if case == "png":
        path.write_bytes((nih_images / SMALL_512).read_bytes())
    elif case == "truncated":
        data = dicom_sr.to_bytes(_independent_sr(sc, [("POLYLINE", rect, ("36118008", "SCT", "Pneumothorax"))]))
        path.write_bytes(data[: len(data) // 2])
    elif case == "image":
        sc.save_as(path, enforce_file_format=True)
    else:
        source = sc
        if case == "unknown image":
            source = pydicom.Dataset()
            source.update(sc)
            source.SOPInstanceUID = generate_uid()
        regions = {"outside": [("POLYLINE", [[450, 60], [530, 60], [530, 100], [450, 100], [450, 60]], ("36118008", "SCT", "Pneumothorax"))],
                   "unknown finding": [("POLYLINE", rect, ("72704001", "SCT", "Fracture"))],
                   "point": [("POINT", [[50, 60]], ("27925004", "SCT", "Nodule"))]}.get(case, [("POLYLINE", rect, ("36118008", "SCT", "Pneumothorax"))])
        sr = _independent_sr(source, regions)
        if case == "device":  # drop the person observer, as an algorithm's SR would have none
            root = sr.ContentSequence
            sr.ContentSequence = pydicom.Sequence([i for i in root if i.ValueType != "PNAME" and not (
                i.ValueType == "CODE" and i.ConceptNameCodeSequence[0].CodeValue == "121005")])
        sr.save_as(path, enforce_file_format=True)
    with pytest.raises(SrError) as caught:
        read_sr(path, _index(sc, metadata, SMALL_512))
    message = str(caught.value)
    assert expected in message and "Traceback" not in message
    assert message.startswith(f"{path} cannot be read as a cxrviz reading:")


def test_region_box_of_each_graphic_type():
    assert dicom_sr.region_box("CIRCLE", np.array([[10.0, 10.0], [13.0, 14.0]])) == pytest.approx((5, 5, 10, 10))
    # a rotated ellipse: major axis along the diagonal
    box = dicom_sr.region_box("ELLIPSE", np.array([[0.0, 0.0], [10.0, 10.0], [3.0, 7.0], [7.0, 3.0]]))
    t = np.linspace(0, 2 * np.pi, 10_001)
    a, b = np.array([5.0, 5.0]), np.array([-2.0, 2.0])
    curve = np.array([5.0, 5.0]) + np.outer(np.cos(t), a) + np.outer(np.sin(t), b)
    assert box == pytest.approx((*curve.min(axis=0), *(curve.max(axis=0) - curve.min(axis=0))), abs=1e-3)
    assert dicom_sr.region_box("POINT", np.array([[1.0, 2.0]])) is None


def test_every_finding_has_a_code_and_codes_read_back():
    assert set(dicom_sr.FINDING_CODES) == set(dicom_sr.FINDINGS)
    for finding, (value, scheme, meaning) in dicom_sr.FINDING_CODES.items():
        assert dicom_sr.finding_of_code(value, scheme, meaning) == finding
    assert dicom_sr.FINDING_CODES["Cardiomegaly"][:2] == ("8186001", "SCT")
    assert dicom_sr.FINDING_CODES["Pneumothorax"][:2] == ("36118008", "SCT")
    assert dicom_sr.FINDING_CODES["Effusion"][:2] == ("60046008", "SCT")
    assert dicom_sr.finding_of_code("999", "L", "Pleural thickening") == "Pleural_Thickening"
    assert dicom_sr.finding_of_code("72704001", "SCT", "Fracture") is None


def test_sr_from_bytes_and_dataset_read_the_same(nih_images, metadata):
    sc = _sc(nih_images, metadata, SMALL_512)
    sr = tid1500_sr(_report(SMALL_512), [ReviewerBox(SMALL_512, READER, "Cardiomegaly", 300, 400, 400, 300, 1024, 1024)], [], sc)
    data = dicom_sr.to_bytes(sr)
    index = _index(sc, metadata, SMALL_512)
    assert read_sr(data, index).boxes == read_sr(pydicom.dcmread(io.BytesIO(data)), index).boxes


@pytest.mark.skipif(shutil.which("dsrdump") is None, reason="DCMTK's dsrdump is not installed here")
def test_dcmtk_reads_the_sr_without_a_complaint(nih_images, metadata, tmp_path):
    """An outside reader (DCMTK's dsrdump, which checks the SR tree's structure) accepts the file."""
    sc = _sc(nih_images, metadata, BOXED_1024)
    spacing = dicom_sr.file_spacing(_row(metadata, BOXED_1024), 1024, 1024)
    sr = tid1500_sr(_report(BOXED_1024), [ReviewerBox(BOXED_1024, READER, "Cardiomegaly", 300, 400, 420, 300, 1024, 1024)],
                    [Measurement(BOXED_1024, READER, "length", ((100.0, 100.0), (200.0, 180.0)), 1024, 1024, spacing)], sc)
    path = tmp_path / "sr.dcm"
    sr.save_as(path, enforce_file_format=True)
    done = subprocess.run(["dsrdump", "-v", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not [line for line in done.stderr.splitlines() if line[:2] in ("W:", "E:", "F:")], done.stderr
    assert '<contains CODE:(,,"Finding")=(8186001,SCT,"Cardiomegaly")>' in done.stdout
    assert '<contains SCOORD:(,,"Image Region")=(POLYLINE,300/400,...)>' in done.stdout
