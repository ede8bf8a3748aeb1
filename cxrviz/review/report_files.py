"""A signed report as a file, in each export format: plain text, FHIR R4 JSON, DICOM SR (TID 1500).
One table of writers (`WRITERS`) serves the CLI (`export --reports DIR --format F`) and the Review
page's downloads, so both give the same bytes for the same signed version.

A writer gets the report and its `ReportSources`: the metadata (patient, view, spacing), the boxes
and measurements the export may hold (already through the blind gate), and where the images are
(the SR references the image's Secondary Capture, built from the PNG itself). The boxes and
measurements are the reader's current ones on that image (see the README's limitations).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cxrviz.data.dicomweb import is_sop_uid
from cxrviz.errors import CxrvizError
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.identity import name_key
from cxrviz.review.measurements import Measurement
from cxrviz.review.reports import ReportVersion, as_text


@dataclass(frozen=True)
class ReportSources:
    metadata: object | None = None  # `data.metadata.Metadata`
    boxes: Sequence[ReviewerBox] = ()
    measurements: Sequence[Measurement] = ()
    image_path: Callable[[str], Path | None] = field(default=lambda name: None)
    # the image's own DICOM header where it has one (a PACS image): the SR references it directly
    source_of: Callable[[str], object | None] = field(default=lambda name: None)

    def row(self, image: str):
        if self.metadata is None:
            return None
        index = self.metadata.row_of(image)
        return None if index is None else self.metadata.table.iloc[index]

    def boxes_of(self, report: ReportVersion) -> list[ReviewerBox]:
        key = name_key(report.reviewer)
        return [b for b in self.boxes if b.image == report.image and name_key(b.reviewer) == key]

    def measurements_of(self, report: ReportVersion) -> list[Measurement]:
        key = name_key(report.reviewer)
        return [m for m in self.measurements if m.image == report.image and name_key(m.reviewer) == key]


def text_bytes(report: ReportVersion, sources: ReportSources) -> bytes:
    return as_text(report).encode("utf-8")


def fhir_bytes(report: ReportVersion, sources: ReportSources) -> bytes:
    from cxrviz.review.fhir import diagnostic_report

    resource = diagnostic_report(report, sources.row(report.image), sources.boxes_of(report), sources.measurements_of(report),
                                 sources.source_of(report.image))
    return (json.dumps(resource, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def sr_datasets(report: ReportVersion, sources: ReportSources) -> list:
    """The DICOM objects of a signed report: [its SR] for an image with its own DICOM header (a PACS
    image), else [the image's Secondary Capture, the SR referencing it] (the SR alone references
    an image nobody else holds)."""
    from cxrviz.review.dicom_sr import secondary_capture_of_file, tid1500_sr

    source = sources.source_of(report.image)
    if source is not None:
        return [tid1500_sr(report, sources.boxes_of(report), sources.measurements_of(report), source)]
    path = sources.image_path(report.image)
    if path is None and is_sop_uid(report.image):
        raise CxrvizError(f"The DICOM SR of {report.image} references that PACS image, whose attributes are read from the "
                          "PACS: set CXRVIZ_DICOMWEB (or give --stow URL).")
    if path is None or not Path(path).is_file():
        raise CxrvizError(f"The DICOM SR of {report.image} references the image itself, which is not in the images "
                          "folder: set CXRVIZ_IMAGES (or --images) to the folder that holds it.")
    source = secondary_capture_of_file(Path(path), sources.row(report.image))
    return [source, tid1500_sr(report, sources.boxes_of(report), sources.measurements_of(report), source)]


def sr_bytes(report: ReportVersion, sources: ReportSources) -> bytes:
    from cxrviz.review.dicom_sr import to_bytes

    return to_bytes(sr_datasets(report, sources)[-1])


# format -> (file suffix, MIME type, writer)
WRITERS: dict[str, tuple[str, str, Callable[[ReportVersion, ReportSources], bytes]]] = {
    "text": (".txt", "text/plain", text_bytes),
    "fhir": (".json", "application/fhir+json", fhir_bytes),
    "sr": (".dcm", "application/dicom", sr_bytes),
}
