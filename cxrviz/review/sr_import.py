"""`import --sr`: DICOM SRs (TID 1500, cxrviz's or another tool's) into the store as readings.

Each SR's observer becomes a reader: every planar ROI on a known image becomes one of their boxes
for its finding type, and each finding the SR reports (a box's, or a finding group's) counts as
present in their review of that image: a reader without a review gets one with those findings
(status "confirmed" when they equal the NIH labels, else "corrected"); a reader with one keeps it,
with the SR's findings added (ticked) if any were missing. No finding is ever removed.

ALL files are read and checked first; one problem anywhere (not DICOM, not a TID 1500 SR, an image
cxrviz does not know, coordinates outside the image, a finding that is not one of the 14, a box the
box rules refuse) and nothing is written, with every problem listed per file. Then reviews and
boxes are written in one transaction (`store/sr.py`).

Measurements are read into `Measurement` records and counted; this branch has no measurement
store, so they are not written (see the report to the lead).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cxrviz.data.boxes import NIH_FRAME
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS, NO_FINDING
from cxrviz.review.boxes import BoxError, ReviewerBox, check_box
from cxrviz.review.dicom_sr import SourceImage, SourceIndex, SrError, SrReading, file_spacing, read_sr
from cxrviz.review.identity import ReviewerNameError, display_name, name_key
from cxrviz.review.measurements import Measurement, MeasurementError, check_measurement
from cxrviz.review.record import Review, utc_now

log = logging.getLogger(__name__)

MAX_SR_BYTES = 64 * 2**20


class SrImportRefusedError(CxrvizError):
    """SR files that cannot be imported; `problems` holds (file, why) for each, and nothing was written."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        files = sorted({f for f, _ in problems})
        shown = "\n".join(f"  {f}: {why}" for f, why in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"Nothing was imported: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
                         f"in {len(files)} of the SR files:\n{shown}{more}")


@dataclass(frozen=True)
class SrImportReport:
    files: tuple[str, ...]
    readings: tuple[SrReading, ...]
    reviews: tuple[tuple[Review, str], ...]  # review written (or that would be) and its outcome
    boxes_added: int
    boxes_already: int
    measurements: tuple[Measurement, ...]  # read from the SRs
    measurements_added: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        readers = sorted({r.observer for r in self.readings})
        text = (f"{verb} {len(self.files)} SR file{'s' if len(self.files) != 1 else ''} ({', '.join(readers)}): "
                f"{len(self.reviews)} reviews ({', '.join(f'{r.image} {o}' for r, o in self.reviews) or 'none changed'}), "
                f"{self.boxes_added} boxes added, {self.boxes_already} already in the store")
        if self.measurements:
            text += (f"; {self.measurements_added} measurements added, "
                     f"{len(self.measurements) - self.measurements_added} already in the store")
        return text


def nih_source_index(metadata, images) -> SourceIndex:
    """The images an SR may reference: every image in the metadata by the Secondary Capture UID
    contract, each sized from its file in `images` (a `data.image_index.ImageIndex`; None: no
    folder, so no image can be placed), in the NIH 1024-px record frame with the metadata's spacing."""

    def resolve(name: str) -> SourceImage | None:
        path = images.path_of(name) if images is not None else None
        if path is None:
            return None
        from cxrviz.data.imaging import open_checked

        try:
            with open_checked(path, name) as image:  # decodes once: a corrupt file is refused here
                columns, rows = image.size
        except CxrvizError:
            return None
        row = metadata.row_of(name)
        spacing = file_spacing(metadata.table.iloc[row], NIH_FRAME, NIH_FRAME) if row is not None else None
        return SourceImage(name, columns, rows, NIH_FRAME, NIH_FRAME, spacing)

    return SourceIndex.of_names(metadata.table["image"], resolve)


def read_srs(paths: Sequence[Path], index: SourceIndex) -> list[SrReading]:
    """Every file read and checked (box rules, reader names) before anything is written; any problem
    raises `SrImportRefusedError` listing them all."""
    problems: list[tuple[str, str]] = []
    readings: list[SrReading] = []
    seen: dict[str, str] = {}
    for path in paths:
        label = str(path)
        try:
            if Path(path).is_file() and Path(path).stat().st_size > MAX_SR_BYTES:
                problems.append((label, f"it is larger than {MAX_SR_BYTES // 2**20} MiB, more than an SR of boxes can be."))
                continue
            reading = read_sr(Path(path), index, name=label)
        except SrError as error:
            problems.extend((label, why) for why in error.problems)
            continue
        before = len(problems)
        try:
            display_name(reading.observer)
        except ReviewerNameError as exc:
            problems.append((label, f"its observer {reading.observer!r} is not a reader name cxrviz accepts: {exc}"))
        for box in reading.boxes:
            try:
                check_box(box)
            except BoxError as exc:
                problems.append((label, f"its {box.finding} box on {box.image}: {exc}"))
        for m in reading.measurements:  # the rules a measurement drawn here must pass (a slanted CTR, no length…)
            try:
                check_measurement(m)
            except MeasurementError as exc:
                problems.append((label, f"its {'CTR' if m.kind == 'ctr' else 'length'} on {m.image}: {exc}"))
        if reading.sop_instance_uid in seen:
            problems.append((label, f"it is the same SR (SOP Instance UID) as {seen[reading.sop_instance_uid]}."))
        seen.setdefault(reading.sop_instance_uid, label)
        if len(problems) == before:
            readings.append(reading)
    if problems:
        raise SrImportRefusedError(problems)
    return readings


def review_after(existing: Review | None, image: str, reader: str, findings: set[str], at: str,
                 nih_labels: set[str] | None) -> Review | None:
    """The review to write so that `findings` count as present for the reader (None: nothing to
    change). A new review is dated `at` (the SR's time); an existing one keeps its other fields."""
    if not findings:
        return None
    if existing is None:
        labels = tuple(f for f in FINDINGS if f in findings)
        status = "confirmed" if nih_labels is not None and set(labels) == nih_labels else "corrected"
        return Review(image, reader, labels, status, "", None, None, at, at)
    have = set(existing.labels) - {NO_FINDING}
    if findings <= have:
        return None
    labels = tuple(f for f in FINDINGS if f in have | findings)
    status = existing.status if existing.status == "uncertain" else (
        "confirmed" if nih_labels is not None and set(labels) == nih_labels else "corrected")
    return Review(image, existing.reviewer, labels, status, existing.note, existing.model, existing.probabilities,
                  existing.created_at, max(utc_now(), existing.updated_at))


def import_srs(store, paths: Sequence[Path], metadata, images, imported_by: str, dry_run: bool = False,
               index: SourceIndex | None = None) -> SrImportReport:
    """Read every SR, then write their readers' reviews and boxes in one transaction (or, with
    `dry_run`, say what would change). Raises `SrImportRefusedError` (nothing written) for any bad
    file or for boxes past the per-reader limit, `StoreError` when the database refuses (nothing
    written either)."""
    from cxrviz.review.store.boxes import BoxCountError
    from cxrviz.review.store.sr import import_readings

    if not paths:
        raise CxrvizError("Give at least one DICOM SR file to import.")
    index = index or nih_source_index(metadata, images)
    readings = read_srs(paths, index)
    now = utc_now()
    present: dict[tuple[str, str], set[str]] = {}
    when: dict[tuple[str, str], str] = {}
    readers: dict[str, str] = {}
    for reading in readings:
        reader = readers.setdefault(name_key(reading.observer), display_name(reading.observer))
        for image, found in reading.findings.items():
            pair = (image, reader)
            present.setdefault(pair, set()).update(found)
            when[pair] = max(when.get(pair, ""), min(reading.at or now, now))
    boxes, file_of = [], {}
    for reading in readings:
        for b in reading.boxes:
            reader = readers[name_key(b.reviewer)]
            file_of[len(boxes) + 1] = reading.source
            boxes.append((len(boxes) + 1, ReviewerBox(b.image, reader, b.finding, *check_box(b)[0].box, b.frame_width,
                                                      b.frame_height, created_at=when.get((b.image, reader)))))

    def reviews_for(existing: dict[tuple[str, str], Review]) -> list[Review]:
        out = []
        for (image, reader), found in sorted(present.items()):
            nih = metadata.findings_of(image) if metadata is not None else None
            review = review_after(existing.get((image, reader)), image, reader, found, when[(image, reader)], nih)
            if review is not None:
                out.append(review)
        return out

    measurements = tuple(dataclasses.replace(m, reviewer=readers[name_key(m.reviewer)], created_at=when.get((m.image, readers[name_key(m.reviewer)])))
                         for r in readings for m in r.measurements)
    try:
        written, added, measured = import_readings(store, sorted(present), reviews_for, boxes, imported_by, dry_run=dry_run,
                                                   measurements=measurements)
    except BoxCountError as error:  # counted inside the transaction, with the boxes already stored
        raise SrImportRefusedError([(file_of[number], f"its boxes: {why}") for number, why in error.rows]) from None
    log.info("SR import of %d files by %s: %d reviews, %d boxes added", len(readings), imported_by, len(written), sum(added))
    return SrImportReport(files=tuple(str(p) for p in paths), readings=tuple(readings), reviews=tuple(written),
                          boxes_added=sum(added), boxes_already=len(added) - sum(added), measurements=measurements,
                          measurements_added=sum(measured), dry_run=dry_run)
