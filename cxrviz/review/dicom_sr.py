"""DICOM out and in: an NIH PNG wrapped as a Secondary Capture, a signed report written as a DICOM
Structured Report (TID 1500, Comprehensive SR) with highdicom, and TID 1500 SRs read back into
reviewer boxes, measurements and findings.

Why a Secondary Capture: an SR references the images it describes by SOP Instance UID, and an NIH
PNG has none. Its UIDs are a stable contract outside tools can compute from the file name alone:

    SOP Instance UID    generate_uid(entropy_srcs=[IMAGE_NAME])
    Study Instance UID  generate_uid(entropy_srcs=[IMAGE_NAME, "study"])
    Series Instance UID generate_uid(entropy_srcs=[IMAGE_NAME, "series"])

(`pydicom.uid.generate_uid`, pydicom's own prefix). The SR's own UIDs follow from the report:
`generate_uid(entropy_srcs=[IMAGE_NAME, READER, VERSION, "sr"])` (and `[IMAGE_NAME, "sr-series"]`),
so exporting the same signed version twice gives the same file.

The SR's content (root "Imaging Measurement Report", 126000 DCM):
- observer: the signer (a person); the report's version is the SR's Instance Number;
- one Planar ROI group (TID 1410) per box ("drawn" and "corrected"; an NIH box marked "wrong" is
  no region of a finding): a closed 5-point POLYLINE in the SOURCE image's pixel coordinates
  (0,0 the top-left corner of the top-left pixel), finding type from `FINDING_CODES`;
- one Measurement group (TID 1501) per length: "Length" (410668003 SCT) in mm (UCUM `mm`) when the
  image has a pixel spacing, else in source pixels (UCUM `{pixels}`), inferred from a 2-point
  POLYLINE; one per cardiothoracic ratio: `CTR_CODE` (99CXRVIZ, no SNOMED CT concept exists) with
  unit `1` (UCUM, no units), inferred from two 2-point POLYLINEs, the heart's then the thorax's;
- one Measurement group per reported finding with that finding type and no measurement (what the
  report calls present, box or not);
- the report text, a TEXT item "Radiology Study observation (narrative)" (18782-3 LN).
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from cxrviz.data.boxes import NIH_FRAME, Box
from cxrviz.data.frames import Frame
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS, normalise_label
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.measurements import Measurement
from cxrviz.review.reports import ReportVersion

log = logging.getLogger(__name__)

MANUFACTURER = "cxrviz"
PRIVATE_SCHEME = "99CXRVIZ"  # cxrviz's private coding scheme, for concepts SNOMED CT and DICOM lack

# ---- the codes, in one place ---------------------------------------------------------------------

# Finding -> (code value, coding scheme, code meaning). SNOMED CT where a concept for the NIH
# label exists; Infiltration as DICOM's own "Infiltrate" (112121 DCM, CID 6104): SNOMED CT has no
# concept for the (deprecated) radiological term; Pleural_Thickening and Hernia (NIH's label covers
# any hernia seen on the film) as private 99CXRVIZ codes.
FINDING_CODES: dict[str, tuple[str, str, str]] = {
    "Atelectasis": ("46621007", "SCT", "Atelectasis"),
    "Cardiomegaly": ("8186001", "SCT", "Cardiomegaly"),
    "Effusion": ("60046008", "SCT", "Pleural effusion"),
    "Infiltration": ("112121", "DCM", "Infiltrate"),
    "Mass": ("4147007", "SCT", "Mass"),
    "Nodule": ("27925004", "SCT", "Nodule"),
    "Pneumonia": ("233604007", "SCT", "Pneumonia"),
    "Pneumothorax": ("36118008", "SCT", "Pneumothorax"),
    "Consolidation": ("95436008", "SCT", "Lung consolidation"),
    "Edema": ("19242006", "SCT", "Pulmonary edema"),
    "Emphysema": ("87433001", "SCT", "Pulmonary emphysema"),
    "Fibrosis": ("51615001", "SCT", "Fibrosis of lung"),
    "Pleural_Thickening": ("PLEURAL_THICKENING", PRIVATE_SCHEME, "Pleural thickening"),
    "Hernia": ("HERNIA", PRIVATE_SCHEME, "Hernia"),
}
# Codes other tools write for the same findings, read (never written) as those findings.
_READ_ALSO: dict[tuple[str, str], str] = {
    ("287272002", "SCT"): "Cardiomegaly",  # the concept DICOM's CID 12248 lists
    ("41699000", "SCT"): "Effusion",  # "Effusion"
    ("19242006", "SRT"): "Edema",
}
CTR_CODE = ("CTR", PRIVATE_SCHEME, "Cardiothoracic ratio")
LENGTH_CODE = ("410668003", "SCT", "Length")
PIXELS_UNIT = ("{pixels}", "UCUM", "pixels")
MM_UNIT = ("mm", "UCUM", "mm")
RATIO_UNIT = ("1", "UCUM", "no units")
REPORT_TEXT_CODE = ("18782-3", "LN", "Radiology Study observation (narrative)")
PROCEDURE_CODE = ("399208008", "SCT", "Plain chest X-ray")
_MEASUREMENT_REPORT = ("126000", "DCM")
_SR_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88.33": hd.sr.ComprehensiveSR,
    "1.2.840.10008.5.1.4.1.1.88.34": hd.sr.Comprehensive3DSR,
    "1.2.840.10008.5.1.4.1.1.88.22": hd.sr.EnhancedSR,
}
EDGE_TOLERANCE_PX = 0.01  # a point this far outside the image is float rounding, not outside


def concept(code: tuple[str, str, str]) -> hd.sr.CodedConcept:
    return hd.sr.CodedConcept(*code)


def finding_concept(finding: str) -> hd.sr.CodedConcept:
    return concept(FINDING_CODES[finding])


def finding_of_code(value: str, scheme: str, meaning: str = "") -> str | None:
    """The cxrviz finding a code stands for (its code, a known alias, else its meaning), or None."""
    for finding, (v, s, _) in FINDING_CODES.items():
        if (v, s) == (value, scheme) or (s == "SCT" and scheme == "SRT" and v == value):
            return finding
    if (value, scheme) in _READ_ALSO:
        return _READ_ALSO[(value, scheme)]
    words = meaning.strip().lower()
    for finding, (_, _, m) in FINDING_CODES.items():
        if words == m.lower():
            return finding
    try:
        label = normalise_label(meaning)
    except ValueError:
        return None
    return label if label in FINDINGS else None


class SrError(CxrvizError):
    """An SR (or a file given as one) that cxrviz cannot read or map; `problems` lists every reason."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  … and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{source} cannot be read as a cxrviz reading:\n{shown}{more}")


class SrRefusedError(CxrvizError):
    """A report or box set that cannot be written as an SR (an unsigned report, a box of another image)."""


# ---- the Secondary Capture ------------------------------------------------------------------------

def image_uids(image: str) -> dict[str, str]:
    """The contract's UIDs of an NIH image's Secondary Capture."""
    return {"sop": generate_uid(entropy_srcs=[image]), "study": generate_uid(entropy_srcs=[image, "study"]),
            "series": generate_uid(entropy_srcs=[image, "series"])}


def _row_value(row, key):
    if row is None:
        return None
    try:
        value = row[key]
    except (KeyError, IndexError):
        return None
    try:
        if value is None or (isinstance(value, float) and math.isnan(value)) or bool(value != value):
            return None
    except (TypeError, ValueError):
        return None
    return value


def _uint_pixels(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    array = np.asarray(pixels)
    if array.ndim != 2:
        raise SrRefusedError(f"A Secondary Capture needs a grayscale image (2-D pixels), not an array of shape {array.shape}.")
    if array.dtype == np.uint8:
        return array, 8
    if array.dtype == np.uint16:
        return array, 16
    if np.issubdtype(array.dtype, np.floating):  # `imaging.load_gray`'s [0, 1]
        return np.clip(array * 255.0 + 0.5, 0, 255).astype(np.uint8), 8
    raise SrRefusedError(f"Pixels of type {array.dtype} cannot be wrapped; give 8- or 16-bit grayscale.")


def file_spacing(metadata_row, columns: int, rows: int) -> tuple[float, float] | None:
    """(mm per column, mm per row) of a file `columns` × `rows` px of this NIH image: the metadata's
    spacing is the original's (`width` × `height` px), so it scales by original size / file size."""
    values = [_row_value(metadata_row, k) for k in ("width", "height", "spacing_x", "spacing_y")]
    if any(v is None or float(v) <= 0 for v in values):
        return None
    width, height, sx, sy = map(float, values)
    return sx * width / columns, sy * height / rows


def secondary_capture(image_name: str, pixels: np.ndarray, metadata_row=None) -> Dataset:
    """The NIH image as a DICOM Secondary Capture (highdicom `SCImage`) with the contract's UIDs,
    the pixels as given (the PNG's own, 8-bit grayscale), patient ID, age, sex and view from the
    metadata row (a `Metadata.table` row, or None) and the pixel spacing scaled to the file."""
    array, bits = _uint_pixels(pixels)
    uids = image_uids(image_name)
    rows, columns = array.shape
    sex = str(_row_value(metadata_row, "gender") or "").upper()
    patient = _row_value(metadata_row, "patient_id")
    spacing = file_spacing(metadata_row, columns, rows)
    sc = hd.sc.SCImage(
        pixel_array=array, photometric_interpretation="MONOCHROME2", bits_allocated=bits, coordinate_system="PATIENT",
        study_instance_uid=uids["study"], series_instance_uid=uids["series"], series_number=1,
        sop_instance_uid=uids["sop"], instance_number=1, manufacturer=MANUFACTURER,
        patient_id=str(int(patient)) if patient is not None else None,
        patient_sex=sex if sex in ("M", "F", "O") else None,
        pixel_spacing=(round(spacing[1], 6), round(spacing[0], 6)) if spacing else None,  # (row, column) spacing
        patient_orientation=("L", "F"),  # a frontal film as displayed: patient's left to the right, feet down
    )
    age = _row_value(metadata_row, "age")
    if age is not None and 0 <= float(age) < 1000:
        sc.PatientAge = f"{int(float(age)):03d}Y"
    view = str(_row_value(metadata_row, "view") or "").upper()
    if view in ("PA", "AP"):
        sc.ViewPosition = view
    sc.BodyPartExamined = "CHEST"
    sc.SeriesDescription = "NIH ChestX-ray14 image (cxrviz Secondary Capture)"
    sc.DerivationDescription = f"NIH ChestX-ray14 {image_name}"
    return sc


def heatmap_capture(source: Dataset, rgb: np.ndarray, finding: str, method: str, model_name: str) -> Dataset:
    """A heatmap overlay (RGB, the source image's size) as a DERIVED Secondary Capture in the
    source's own study: a new series, `SourceImageSequence` naming the source image, and the
    derivation said in words (finding, CAM method, model). UIDs follow from the source and what was
    drawn, so storing the same overlay twice is "already there"."""
    array = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    if array.ndim != 3 or array.shape[2] != 3:
        raise SrRefusedError("A heatmap overlay is an RGB image (rows × columns × 3).")
    source_uid = str(source.SOPInstanceUID)
    key = [source_uid, finding, method, model_name]
    sc = hd.sc.SCImage.from_ref_dataset(
        source, array, "RGB", 8, "PATIENT", series_instance_uid=generate_uid(entropy_srcs=[source_uid, "heatmap-series"]),
        series_number=901, sop_instance_uid=generate_uid(entropy_srcs=[*key, "heatmap"]), instance_number=1,
        manufacturer=MANUFACTURER, patient_orientation=("L", "F"))
    sc.ImageType = ["DERIVED", "SECONDARY"]
    sc.BurnedInAnnotation = "NO"
    sc.SeriesDescription = "cxrviz heatmap overlay (derived; not for diagnosis)"
    sc.DerivationDescription = f"{method} heatmap of {finding} by the model {model_name}, blended over the source image"
    reference = Dataset()
    reference.ReferencedSOPClassUID = source.SOPClassUID
    reference.ReferencedSOPInstanceUID = source_uid
    sc.SourceImageSequence = [reference]
    return sc


def secondary_capture_of_file(path: Path, metadata_row=None) -> Dataset:
    """`secondary_capture` of a PNG on disk (RGBA originals become grayscale as the app shows them)."""
    from cxrviz.data.imaging import load_gray, to_uint8

    return secondary_capture(Path(path).name, to_uint8(load_gray(Path(path))), metadata_row)


# ---- writing the SR -------------------------------------------------------------------------------

def person_name(name: str) -> str:
    """A cxrviz reader name as a DICOM PN: the whole name as one component (PN's separators dropped)."""
    clean = " ".join(name.replace("^", " ").replace("=", " ").replace("\\", " ").split())
    return clean[:63] + "^"  # a trailing caret: one component on purpose (PS3.5 6.2.1.2)


def _dicom_datetime(at: str) -> tuple[str, str, str]:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(timezone.utc)
    return moment.strftime("%Y%m%d"), moment.strftime("%H%M%S.%f"), moment.strftime("%Y%m%d%H%M%S.%f+0000")


def _source_ref(source: Dataset) -> tuple[str, str]:
    return str(source.SOPClassUID), str(source.SOPInstanceUID)


def _to_source(points, frame_width: int, frame_height: int, source: Dataset) -> np.ndarray:
    sx, sy = int(source.Columns) / frame_width, int(source.Rows) / frame_height
    return np.array([[x * sx, y * sy] for x, y in points], dtype=float)


def box_polyline(box: ReviewerBox, source: Dataset) -> np.ndarray:
    """The box's closed 5-point POLYLINE (x, y) in the source image's pixels."""
    b = Frame(int(source.Columns), int(source.Rows)).from_frame(box.box, box.frame_width, box.frame_height)
    return np.array([[b.x, b.y], [b.x + b.w, b.y], [b.x + b.w, b.y + b.h], [b.x, b.y + b.h], [b.x, b.y]], dtype=float)


def sr_uids(report: ReportVersion) -> dict[str, str]:
    return {"sop": generate_uid(entropy_srcs=[report.image, report.reviewer, str(report.version), "sr"]),
            "series": generate_uid(entropy_srcs=[report.image, "sr-series"])}


def _tracking(sr_uid: str, kind: str, index: int, label: str) -> hd.sr.TrackingIdentifier:
    return hd.sr.TrackingIdentifier(uid=generate_uid(entropy_srcs=[sr_uid, kind, str(index)]), identifier=label)


def _box_order(box: ReviewerBox):
    return (FINDINGS.index(box.finding) if box.finding in FINDINGS else 99, box.y, box.x, box.h, box.w)


def tid1500_sr(report: ReportVersion, boxes: Sequence[ReviewerBox], measurements: Sequence[Measurement], source: Dataset) -> Dataset:
    """The signed report as a Comprehensive SR (TID 1500) referencing `source` (the image's Secondary
    Capture or its own DICOM); see the module's docstring for the content. Boxes and measurements of
    other images are refused; an unsigned report is refused with `SrRefusedError`."""
    if not report.signed or not report.signed_by:
        raise SrRefusedError(f"The report on {report.image} (version {report.version}) is not signed; "
                             "only a signed report is exported as a DICOM SR. Sign it first.")
    other = sorted({x.image for x in [*boxes, *measurements] if x.image != report.image})
    if other:
        raise SrRefusedError(f"Boxes or measurements of {', '.join(other)} were given for the report on {report.image}.")
    unknown = sorted({b.finding for b in boxes if b.finding not in FINDING_CODES} | {f for f in report.findings if f not in FINDING_CODES})
    if unknown:
        raise SrRefusedError(f"{', '.join(unknown)} is not one of the 14 findings; nothing was exported.")
    uids = sr_uids(report)
    class_uid, instance_uid = _source_ref(source)
    region_source = hd.sr.SourceImageForRegion(referenced_sop_class_uid=class_uid, referenced_sop_instance_uid=instance_uid)
    group_source = [hd.sr.SourceImageForMeasurementGroup(referenced_sop_class_uid=class_uid, referenced_sop_instance_uid=instance_uid)]
    groups: list = []
    kept = sorted((b for b in boxes if b.status != "wrong"), key=_box_order)
    for i, box in enumerate(kept, 1):
        region = hd.sr.ImageRegion(graphic_type=hd.sr.GraphicTypeValues.POLYLINE, graphic_data=box_polyline(box, source),
                                   source_image=region_source)
        groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tracking(uids["sop"], "box", i, f"box {i}: {box.finding}"),
            referenced_region=region, finding_type=finding_concept(box.finding)))
    for i, m in enumerate(sorted(measurements, key=lambda m: (m.kind, m.points)), 1):
        points = _to_source(m.points, m.frame_width, m.frame_height, source)
        coordinates = [hd.sr.CoordinatesForMeasurement(graphic_type=hd.sr.GraphicTypeValues.POLYLINE, graphic_data=pair,
                                                       source_image=region_source) for pair in (points[:2], points[2:4]) if len(pair)]
        if m.kind == "ctr":
            name, unit, value = CTR_CODE, RATIO_UNIT, m.value
        elif m.spacing_mm:
            name, unit, value = LENGTH_CODE, MM_UNIT, m.value
        else:
            (x1, y1), (x2, y2) = points
            name, unit, value = LENGTH_CODE, PIXELS_UNIT, math.hypot(x2 - x1, y2 - y1)
        if not math.isfinite(value):
            raise SrRefusedError(f"The {m.kind} measurement on {m.image} has no value (a thorax of no width?); it cannot be exported.")
        measurement = hd.sr.Measurement(name=concept(name), value=round(float(value), 6), unit=concept(unit),
                                        referenced_coordinates=coordinates)
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tracking(uids["sop"], "measurement", i, f"{m.kind} {i}"), measurements=[measurement],
            source_images=group_source))
    for i, finding in enumerate(f for f in FINDINGS if f in set(report.findings)):
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tracking(uids["sop"], "finding", i, f"finding: {finding}"),
            finding_type=finding_concept(finding), source_images=group_source))
    signer = person_name(report.signed_by)
    observer = hd.sr.ObservationContext(observer_person_context=hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=signer)))
    content = hd.sr.MeasurementReport(observation_context=observer, procedure_reported=concept(PROCEDURE_CODE),
                                      imaging_measurements=groups or None)
    content[0].ContentSequence.append(hd.sr.TextContentItem(name=concept(REPORT_TEXT_CODE), value=report.text,
                                                            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
    sr = hd.sr.ComprehensiveSR(
        evidence=[source], content=content[0], series_instance_uid=uids["series"], series_number=2,
        sop_instance_uid=uids["sop"], instance_number=report.version, manufacturer=MANUFACTURER,
        is_complete=True, is_final=True, is_verified=True, verifying_observer_name=signer,
        verifying_organization=MANUFACTURER)
    date, time, stamp = _dicom_datetime(report.signed_at)
    sr.ContentDate, sr.ContentTime = date, time  # the signature's time, so the same version exports the same file
    for keyword in ("InstanceCreationDate", "SeriesDate"):
        if keyword in sr:
            setattr(sr, keyword, date)
    for keyword in ("InstanceCreationTime", "SeriesTime"):
        if keyword in sr:
            setattr(sr, keyword, time)
    sr.VerifyingObserverSequence[0].VerificationDateTime = stamp
    for item in sr.get("ContributingEquipmentSequence", []):
        item.ContributionDateTime = stamp
    sr.SeriesDescription = "cxrviz report"
    return sr


def to_bytes(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


# ---- reading SRs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceImage:
    """An image an SR may reference: its name, the size of the pixels the SR's coordinates are in
    (`columns` × `rows`), the frame cxrviz keeps records in (1024 for NIH images) and the pixel
    spacing of that frame (mm per column, mm per row), if known."""

    image: str
    columns: int
    rows: int
    frame_width: int = NIH_FRAME
    frame_height: int = NIH_FRAME
    spacing_mm: tuple[float, float] | None = None


class SourceIndex:
    """SOP Instance UID -> the image it is. `resolve(image)` gives a `SourceImage` for a name (its
    size on disk, say); `uids` the UIDs of names (the Secondary Capture contract, and any others)."""

    def __init__(self, uids: Mapping[str, str], resolve) -> None:
        self.uids = dict(uids)
        self.resolve = resolve

    @classmethod
    def of_names(cls, names: Iterable[str], resolve) -> SourceIndex:
        return cls({generate_uid(entropy_srcs=[n]): n for n in names}, resolve)

    @classmethod
    def of_sources(cls, sources: Iterable[SourceImage], extra_uids: Mapping[str, str] | None = None) -> SourceIndex:
        by_name = {s.image: s for s in sources}
        uids = {generate_uid(entropy_srcs=[n]): n for n in by_name}
        uids.update(extra_uids or {})
        return cls(uids, by_name.get)

    def lookup(self, uid: str) -> tuple[str | None, SourceImage | None]:
        name = self.uids.get(str(uid))
        return name, (self.resolve(name) if name is not None else None)


@dataclass(frozen=True)
class SrReading:
    """What one TID 1500 SR says: who observed, which images, the boxes (record frame), measurements
    and the findings present per image; the report's text, time and version when the SR has them."""

    source: str
    sop_instance_uid: str
    observer: str
    boxes: tuple[ReviewerBox, ...]
    measurements: tuple[Measurement, ...]
    findings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # image -> findings present
    text: str | None = None
    at: str | None = None  # ISO 8601 UTC: the content (or verification) date and time
    version: int = 1

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(sorted(self.findings))


def _load(source, label: str) -> Dataset:
    if isinstance(source, Dataset):
        return source
    try:
        if isinstance(source, bytes):
            return pydicom.dcmread(io.BytesIO(source))
        return pydicom.dcmread(str(source))
    except FileNotFoundError:
        raise SrError(label, ["it does not exist."]) from None
    except IsADirectoryError:
        raise SrError(label, ["it is a folder; give the SR files themselves."]) from None
    except PermissionError:
        raise SrError(label, ["it cannot be read (permission denied)."]) from None
    except InvalidDicomError:
        raise SrError(label, ["it is not a DICOM file (no DICM preamble)."]) from None
    except Exception as exc:  # pydicom raises many kinds on a truncated or corrupt file
        raise SrError(label, [f"it is a damaged or truncated DICOM file: {_why(exc)}."]) from None


def _why(exc: Exception) -> str:
    """A library's complaint, on one line and short, for the end of a sentence."""
    text = " ".join(str(exc).split()).rstrip(".:")
    return (text[:160] + "…") if len(text) > 160 else text or type(exc).__name__


def _pn_name(value) -> str:
    """A DICOM PN as a reader name: "Doe^Jane" -> "Jane Doe"; a one-component name as it is."""
    pn = pydicom.valuerep.PersonName(str(value))
    parts = [pn.name_prefix, pn.given_name, pn.middle_name, pn.family_name, pn.name_suffix]
    name = " ".join(p for p in parts if p)
    return " ".join(name.split()) or str(value).strip()


def _observer(report: hd.sr.MeasurementReport, ds: Dataset) -> str | None:
    for context in report.get_observer_contexts(observer_type=codes.DCM.Person):
        for item in context.observer_identifying_attributes:
            if item.name == codes.DCM.PersonObserverName and item.value:
                return _pn_name(item.value)
    for item in ds.get("VerifyingObserverSequence", []):
        if item.get("VerifyingObserverName"):
            return _pn_name(item.VerifyingObserverName)
    return None


def _iso(date: str | None, time: str | None) -> str | None:
    if not date:
        return None
    time = (time or "000000").split("+")[0].split("-")[0]
    whole, _, fraction = time.partition(".")
    whole = (whole + "000000")[:6]
    try:
        moment = datetime.strptime(date + whole, "%Y%m%d%H%M%S").replace(microsecond=int((fraction + "000000")[:6]), tzinfo=timezone.utc)
    except ValueError:
        return None
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def region_box(graphic_type: str, data: np.ndarray) -> Box | None:
    """The rectangle a region covers: a rectangular POLYLINE is itself; other polylines, MULTIPOINT,
    CIRCLE and ELLIPSE their bounding rectangle; a POINT (no area) None."""
    points = np.asarray(data, dtype=float).reshape(-1, 2)
    if graphic_type == "POINT" or len(points) == 0:
        return None
    if graphic_type == "CIRCLE" and len(points) == 2:
        (cx, cy), (px, py) = points
        r = math.hypot(px - cx, py - cy)
        return Box(cx - r, cy - r, 2 * r, 2 * r)
    if graphic_type == "ELLIPSE" and len(points) == 4:
        centre = points.mean(axis=0)
        a, b = (points[1] - points[0]) / 2, (points[3] - points[2]) / 2  # semi-axes as vectors
        half_w, half_h = math.hypot(a[0], b[0]), math.hypot(a[1], b[1])
        return Box(centre[0] - half_w, centre[1] - half_h, 2 * half_w, 2 * half_h)
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return Box(float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def _referenced_uid(item: Dataset) -> str | None:
    for child in item.get("ContentSequence", []):
        refs = child.get("ReferencedSOPSequence")
        if refs:
            return str(refs[0].ReferencedSOPInstanceUID)
    return None


def _group_images(group) -> list[str]:
    """The SOP Instance UIDs a measurement group names as its source images."""
    out = []
    for item in group[0].ContentSequence:
        if item.ValueType == "IMAGE" and item.get("ReferencedSOPSequence"):
            out.append(str(item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID))
    return out


def _code(concept_item) -> tuple[str, str, str]:
    return str(concept_item.value), str(concept_item.scheme_designator), str(concept_item.meaning)


def _evidence_uids(ds: Dataset) -> list[str]:
    out = []
    for key in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(key, []):
            for series in study.get("ReferencedSeriesSequence", []):
                for ref in series.get("ReferencedSOPSequence", []):
                    out.append(str(ref.ReferencedSOPInstanceUID))
    return out


def _text(root: Dataset) -> str | None:
    for item in root.get("ContentSequence", []):
        if item.ValueType == "TEXT" and item.ConceptNameCodeSequence[0].CodeValue == REPORT_TEXT_CODE[0]:
            return str(item.TextValue)
    return None


def read_sr(source, index: SourceIndex, name: str | None = None) -> SrReading:
    """Read a TID 1500 SR (a pydicom Dataset, a path or bytes) into cxrviz records, in each image's
    record frame. Refuses (`SrError`, every problem listed) a file that is not DICOM, not an SR, not
    TID 1500, names no person observer, references an image `index` does not know, a region cxrviz
    cannot make a box of, coordinates outside the image, or a finding type that is not one of the 14."""
    label = name or ("the SR" if isinstance(source, (Dataset, bytes)) else str(source))
    ds = _load(source, label)
    if "SOPClassUID" not in ds:
        raise SrError(label, ["it has no SOP Class UID, so it is no DICOM object cxrviz can read."])
    sop_class = str(ds.SOPClassUID)
    if sop_class not in _SR_CLASSES:
        what = getattr(pydicom.uid.UID(sop_class), "name", sop_class) or sop_class
        kind = "a DICOM SR of a kind cxrviz does not read" if str(ds.get("Modality", "")) == "SR" else "not a structured report"
        raise SrError(label, [f"it is {kind} ({what}); cxrviz reads Comprehensive, Comprehensive 3D and Enhanced SRs (TID 1500)."])
    try:
        sr = _SR_CLASSES[sop_class].from_dataset(ds, copy=False)
        root = sr.ContentSequence if "ContentSequence" in sr else None
        concept_name = sr.ConceptNameCodeSequence[0]
    except Exception as exc:
        raise SrError(label, [f"its SR content is incomplete or malformed (a truncated or damaged file?): {_why(exc)}."]) from None
    if (str(concept_name.CodeValue), str(concept_name.CodingSchemeDesignator)) != _MEASUREMENT_REPORT or root is None:
        raise SrError(label, [f"it is an SR titled {concept_name.CodeMeaning!r}, not a TID 1500 Imaging Measurement Report."])
    try:
        report = hd.sr.MeasurementReport.from_sequence(sr.content)
        planar = report.get_planar_roi_measurement_groups()
        image_groups = report.get_image_measurement_groups()
        volumetric = report.get_volumetric_roi_measurement_groups()
    except Exception as exc:
        raise SrError(label, [f"its TID 1500 content is incomplete or malformed: {_why(exc)}."]) from None
    problems: list[str] = []
    observer = _observer(report, ds)
    if not observer:
        problems.append("it names no person observer (only a device?), so there is no reader to record the boxes as.")
    observer = observer or "?"
    sources: dict[str, SourceImage] = {}

    def source_of(uid: str | None, where: str) -> SourceImage | None:
        if uid is None:
            problems.append(f"{where} references no image.")
            return None
        image, found = index.lookup(uid)
        if image is None:
            problems.append(f"{where} references the image {uid}, which is no NIH image cxrviz knows "
                            "(its SOP Instance UID is not generate_uid(entropy_srcs=[IMAGE_NAME]) of any image in the metadata).")
            return None
        if found is None:
            problems.append(f"{where} references {image}, which is not in the images folder, so its size is unknown.")
            return None
        sources[image] = found
        return found

    def inside(points: np.ndarray, src: SourceImage, where: str) -> bool:
        x, y = points[:, 0], points[:, 1]
        tol = EDGE_TOLERANCE_PX
        if (x < -tol).any() or (y < -tol).any() or (x > src.columns + tol).any() or (y > src.rows + tol).any():
            problems.append(f"{where} has coordinates outside the {src.columns}×{src.rows} image {src.image} "
                            f"(x {x.min():.1f} to {x.max():.1f}, y {y.min():.1f} to {y.max():.1f}).")
            return False
        return True

    def record_points(points: np.ndarray, src: SourceImage) -> tuple[tuple[float, float], ...]:
        sx, sy = src.frame_width / src.columns, src.frame_height / src.rows
        return tuple((float(px) * sx, float(py) * sy) for px, py in points)

    findings: dict[str, set[str]] = {}
    boxes: list[ReviewerBox] = []
    for number, group in enumerate(volumetric, 1):
        problems.append(f"volumetric ROI group {number} is a 3-D region; cxrviz keeps 2-D boxes only.")
    for number, group in enumerate(planar, 1):
        where = f"planar ROI group {number} ({group.tracking_identifier or 'no tracking identifier'})"
        finding = finding_of_code(*_code(group.finding_type)) if group.finding_type is not None else None
        if group.finding_type is None:
            problems.append(f"{where} has no finding type.")
        elif finding is None:
            problems.append(f"{where} has the finding type {group.finding_type.meaning!r} "
                            f"({group.finding_type.value}, {group.finding_type.scheme_designator}), not one of cxrviz's 14 findings.")
        roi = group.roi
        if roi is None or not isinstance(roi, hd.sr.ImageRegion):
            problems.append(f"{where} has no 2-D image region (a segmentation or 3-D region?); cxrviz cannot make a box of it.")
            continue
        src = source_of(_referenced_uid(roi), where)
        graphic_type = roi.graphic_type.value if hasattr(roi.graphic_type, "value") else str(roi.graphic_type)
        box = region_box(graphic_type, roi.value)
        if box is None:
            problems.append(f"{where} is a {graphic_type}, which has no area to make a box of.")
            continue
        if src is None or finding is None or not inside(np.asarray(roi.value, dtype=float).reshape(-1, 2), src, where):
            continue
        if graphic_type in ("CIRCLE", "ELLIPSE"):  # the bounding rectangle itself must lie in the image
            corners = np.array([[box.x, box.y], [box.x + box.w, box.y + box.h]])
            if not inside(corners, src, where + "'s bounding rectangle"):
                continue
        if box.w <= 0 or box.h <= 0:
            problems.append(f"{where} has no area (a {box.w:.1f}×{box.h:.1f} px rectangle).")
            continue
        b = Frame(src.columns, src.rows).to_frame(box, src.frame_width, src.frame_height)
        boxes.append(ReviewerBox(src.image, observer, finding, b.x, b.y, b.w, b.h, src.frame_width, src.frame_height))
        findings.setdefault(src.image, set()).add(finding)
    measurements: list[Measurement] = []
    evidence = _evidence_uids(ds)
    for number, group in enumerate(image_groups, 1):
        where = f"measurement group {number} ({group.tracking_identifier or 'no tracking identifier'})"
        uids = _group_images(group) or (evidence[:1] if len(set(evidence)) == 1 else [])
        items = group.get_measurements()
        if group.finding_type is not None and not items:
            finding = finding_of_code(*_code(group.finding_type))
            if finding is None:
                problems.append(f"{where} has the finding type {group.finding_type.meaning!r}, not one of cxrviz's 14 findings.")
                continue
            src = source_of(uids[0] if uids else None, where)
            if src is not None:
                findings.setdefault(src.image, set()).add(finding)
            continue
        for item in items:
            name_code = (str(item.name.value), str(item.name.scheme_designator))
            coordinates = [c for c in (item.referenced_coordinates or [])]
            if name_code == CTR_CODE[:2]:
                kind = "ctr"
            elif name_code in (LENGTH_CODE[:2], ("121227", "DCM"), ("G-D7FE", "SRT")):  # Length, Line segment length
                kind = "length"
            else:
                log.info("%s: %s is neither a length nor a CTR; not read", label, item.name.meaning)
                continue
            pairs = [np.asarray(c.value, dtype=float).reshape(-1, 2) for c in coordinates]
            wanted = 2 if kind == "ctr" else 1
            if len(pairs) != wanted or any(len(p) != 2 for p in pairs):
                problems.append(f"{where}: its {item.name.meaning} is not inferred from {wanted} two-point POLYLINE(s), "
                                "so cxrviz cannot place it on the image.")
                continue
            src = source_of(_referenced_uid(coordinates[0]) or (uids[0] if uids else None), where)
            points = np.concatenate(pairs)
            if src is None or not inside(points, src, where):
                continue
            spacing = None
            if kind == "length" and str(item.unit.value) == "mm":
                spacing = src.spacing_mm
                if spacing is None:  # no spacing known here: the one the SR's figure implies (isotropic)
                    (x1, y1), (x2, y2) = record_points(points, src)
                    pixels = math.hypot(x2 - x1, y2 - y1)
                    spacing = (float(item.value) / pixels,) * 2 if pixels > 0 else None
            measurements.append(Measurement(src.image, observer, kind, record_points(points, src), src.frame_width,
                                            src.frame_height, spacing, None))
    if problems:
        raise SrError(label, problems)
    images = {b.image for b in boxes} | {m.image for m in measurements} | set(findings)
    ordered = {image: tuple(f for f in FINDINGS if f in findings.get(image, set())) for image in sorted(images)}
    at = _iso(ds.get("ContentDate"), ds.get("ContentTime"))
    return SrReading(source=label, sop_instance_uid=str(ds.SOPInstanceUID), observer=observer, boxes=tuple(boxes),
                     measurements=tuple(measurements), findings=ordered, text=_text(sr),
                     at=at, version=int(ds.get("InstanceNumber") or 1))


def report_of(reading: SrReading, image: str) -> ReportVersion:
    """The signed report version an SR of cxrviz carries for `image` (to export it again)."""
    return ReportVersion(image=image, reviewer=reading.observer, version=reading.version, text=reading.text or "",
                         findings=reading.findings.get(image, ()), signed_by=reading.observer, signed_at=reading.at)
