"""Reviewer boxes out and in: a CSV in `BBox_List_2017.csv`'s shape and COCO detection JSON.

The CSV's first six columns are those of the NIH table (`Image Index`, `Finding Label`, x, y, w, h
in NIH's original 1024 × 1024 frame, so `cxrviz.data.boxes.load_boxes` and `localize --boxes` read
it as they read the NIH file); after them: reviewer, status, the NIH box a correction points at,
time, and the size of the image file the box was drawn on (a 512-px copy says 512 while x, y, w, h
stay in the 1024 frame; the header says so: `Image Width (file px; x y w h in the original 1024
frame)`). Import reads files with that header and with the plain `Image Width` of earlier exports.
Coordinates are written with two decimals; an export -> import into an empty store -> export round
trip is byte-identical. Cells a spreadsheet would run as a formula are neutralised as in
`cxrviz.review.export`.

Import (`import_boxes`) follows the corrections import: every row is checked first and a file with
any bad row writes nothing, each problem named by row (the header is row 1), line and column;
then all boxes are written in one transaction (`cxrviz.review.store.boxes.import_boxes`), so a
kill half-way leaves none. A file is at most `MAX_BOX_FILE_BYTES` and `MAX_BOX_ROWS` rows.

COCO: `images` (file name and original size), `categories` (the 14 findings, ids 1-14 in the
dataset's order), `annotations` with `bbox` [x, y, w, h] in the image's own pixel frame. `wrong`
marks on NIH boxes are not objects and stay out of COCO (they are in the CSV).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from cxrviz.data.boxes import NIH_FRAME
from cxrviz.data.metadata import Metadata
from cxrviz.errors import MetadataError
from cxrviz.findings import FINDINGS, normalise_label
from cxrviz.review.boxes import BOX_STATUSES, MIN_SIDE, BoxError, ReviewerBox, check_box, parse_nih_ref
from cxrviz.review.export import neutralise, restore
from cxrviz.review.identity import ReviewerNameError, display_name
from cxrviz.review.imports import ImportRefusedError, Problem, check_shared_cells, csv_error_why, parse_time, read_text, show
from cxrviz.review.store import Store
from cxrviz.review.store import boxes as box_store

FRAME_NOTE = "(file px; x y w h in the original 1024 frame)"
BOX_COLUMNS = ["Image Index", "Finding Label", "x", "y", "w", "h", "Reviewer", "Status", "Corrects", "Time",
               f"Image Width {FRAME_NOTE}", f"Image Height {FRAME_NOTE}"]
REQUIRED_COLUMNS = ("Image Index", "Finding Label", "x", "y", "w", "h", "Reviewer")
OPTIONAL_COLUMNS = ("Status", "Corrects", "Time", "Image Width", "Image Height")
MAX_BOX_ROWS = 250_000  # boxes in one import (checked, then written in one transaction: about a minute)
MAX_BOX_FILE_BYTES = 64 * 2**20
MAX_IMAGE_SIDE = 16_384  # pixels: an image file larger than this is not an X-ray this app shows
EDGE_TOLERANCE = 0.011  # the 1024 frame's edge may be passed by the rounding of x and w to two decimals


def _num(value: float) -> str:
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def _order(box: ReviewerBox) -> tuple:
    return (box.image, box.reviewer.casefold(), box.updated_at or "", FINDINGS.index(box.finding), box.status,
            box.corrects or "", _num(box.x), _num(box.y), _num(box.w), _num(box.h))


def boxes_csv(boxes: list[ReviewerBox]) -> bytes:
    """UTF-8 CSV bytes, one row per box, sorted by image, reviewer and time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BOX_COLUMNS)
    for box in sorted(boxes, key=_order):
        nih = box.in_nih_frame()
        writer.writerow([neutralise(c) for c in (
            box.image, box.finding, _num(nih.x), _num(nih.y), _num(nih.w), _num(nih.h), box.reviewer, box.status,
            box.corrects or "", box.updated_at or "", box.frame_width, box.frame_height)])
    return buffer.getvalue().encode("utf-8")


def boxes_coco(boxes: list[ReviewerBox]) -> bytes:
    """COCO detection JSON (UTF-8 bytes) of the drawn and corrected boxes."""
    kept = sorted((b for b in boxes if b.status != "wrong"), key=_order)
    images: dict[str, dict] = {}
    annotations = []
    for box in kept:
        if box.image not in images:
            images[box.image] = {"id": len(images) + 1, "file_name": box.image, "width": box.frame_width, "height": box.frame_height}
        annotations.append({
            "id": len(annotations) + 1, "image_id": images[box.image]["id"], "category_id": FINDINGS.index(box.finding) + 1,
            "bbox": [round(box.x, 2), round(box.y, 2), round(box.w, 2), round(box.h, 2)],
            "area": round(box.w * box.h, 2), "iscrowd": 0,
            "attributes": {"reviewer": box.reviewer, "status": box.status, "corrects": box.corrects, "time": box.updated_at},
        })
    document = {
        "info": {"description": "cxrviz reviewer boxes on NIH ChestX-ray14", "version": "1"},
        "images": list(images.values()),
        "categories": [{"id": i + 1, "name": f, "supercategory": "finding"} for i, f in enumerate(FINDINGS)],
        "annotations": annotations,
    }
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


class BoxImportRefusedError(ImportRefusedError, MetadataError):
    """A box file that cannot be imported; `problems` lists every reason, and nothing was written."""


# ---- import -----------------------------------------------------------------------------


_reviewer_name = functools.lru_cache(maxsize=4096)(display_name)  # a file names few reviewers many times


def _column_name(cell: str) -> str:
    """A header cell as the import knows it: `Image Width (file px; …)` is `Image Width`."""
    name = cell.strip()
    for plain in ("Image Width", "Image Height"):
        if name.startswith(plain + " (") and name.endswith(")"):
            return plain
    return name


def _records(text: str) -> Iterator[tuple[int, int, list[str] | None, str | None]]:
    """(row, line where the row starts, cells, None) per record, or a last (row, line, None, why)
    when the file stops being CSV."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row, line = 0, 1
    try:
        for cells in reader:
            row += 1
            yield row, line, cells, None
            line = reader.line_num + 1
    except csv.Error as exc:
        yield row + 1, line, None, f"cannot be read as CSV from here on: {csv_error_why(exc)}"


def _header(records: Iterator, label: str) -> list[str]:
    for number, line, cells, why in records:
        if why is not None:
            raise BoxImportRefusedError(label, [Problem(number, None, why, line)])
        if cells and any(c.strip() for c in cells):
            header = [_column_name(c) for c in cells]
            break
    else:
        raise BoxImportRefusedError(label, [Problem(None, None, "is empty; a box CSV starts with the header "
                                                                 f"{', '.join(REQUIRED_COLUMNS)}, … .")])
    if len(header) == 1:
        for mark, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if header[0].count(mark) >= 2:
                raise BoxImportRefusedError(label, [Problem(1, None, f"the header is separated by {name}, not commas: "
                                                                     "save the file as CSV (comma delimited) and import that", 1)])
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        seen = ", ".join(show(c, 30) for c in header[:8]) + (", …" if len(header) > 8 else "")
        raise BoxImportRefusedError(label, [Problem(None, None, f"is not a cxrviz box CSV: the columns {', '.join(map(repr, missing))} "
                                                                f"are missing (its header: {seen}).")])
    extra = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if extra:
        raise BoxImportRefusedError(label, [Problem(1, None, f"the header has columns a box CSV does not have: "
                                                             f"{', '.join(show(c, 30) for c in extra[:5])} (the columns are "
                                                             f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})", 1)])
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise BoxImportRefusedError(label, [Problem(1, None, f"the header names {', '.join(map(repr, twice))} twice", 1)])
    return header


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{show(text)} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{show(text)} is not a finite number")
    return value


def _side(text: str) -> int:
    if not text.strip():
        return NIH_FRAME  # files from before the column existed
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{show(text)} is not a whole number of pixels") from None
    if not 0 < value <= MAX_IMAGE_SIDE:
        raise ValueError(f"{value} is not an image size (1 to {MAX_IMAGE_SIDE} pixels)")
    return value


def _check_row(number: int, line: int, cell: dict[str, str], metadata: Metadata | None, now: datetime,
               problems: list[Problem]) -> ReviewerBox | None:
    before = len(problems)

    def bad(column: str | None, why: str) -> None:
        problems.append(Problem(number, column, why, line))

    image = check_shared_cells(cell, metadata, bad)
    if image is None:
        return None
    try:
        finding = normalise_label(cell["Finding Label"])
        if finding not in FINDINGS:
            raise ValueError
    except ValueError:
        bad("Finding Label", f"{show(cell['Finding Label'])} is not one of the 14 findings a box can be drawn for")
    try:
        reviewer = _reviewer_name(cell["Reviewer"])
    except ReviewerNameError as exc:
        bad("Reviewer", str(exc))
    coords = {}
    for column in "xywh":
        try:
            coords[column] = _number(cell[column])
        except ValueError as exc:
            bad(column, str(exc))
    for column in ("x", "y"):
        if coords.get(column, 0) < 0:
            bad(column, f"{cell[column]} is negative: the box starts outside the image")
    for column in ("w", "h"):
        if column in coords and coords[column] <= 0:
            bad(column, f"{cell[column]}: the box has no area (a width and height must be above 0)")
    for start, size, edge in (("x", "w", "right"), ("y", "h", "bottom")):
        if start in coords and size in coords and coords[size] > 0 and coords[start] + coords[size] > NIH_FRAME + EDGE_TOLERANCE:
            bad(size, f"{start} + {size} = {coords[start] + coords[size]:g} passes the {edge} edge of the image "
                      f"(x, y, w, h are in the original {NIH_FRAME}-px frame)")
    sides = {}
    for column in ("Image Width", "Image Height"):
        try:
            sides[column] = _side(cell.get(column, ""))
        except ValueError as exc:
            bad(column, str(exc))
    status = cell.get("Status", "").strip().lower() or "drawn"
    if status not in BOX_STATUSES:
        bad("Status", f"{show(cell['Status'])} is not a box status ({', '.join(BOX_STATUSES)})")
    corrects = cell.get("Corrects", "").strip() or None
    if status in ("corrected", "wrong") and corrects is None:
        bad("Corrects", f"is empty; a {status} box names the NIH box it is about (image:finding:index)")
    elif status == "drawn" and corrects is not None:
        bad("Corrects", "names an NIH box, but a drawn box corrects none; use the status corrected")
    elif corrects is not None:
        try:
            ref_image, _, _ = parse_nih_ref(corrects)
            if ref_image != image:
                bad("Corrects", f"{show(corrects)} is a box of another image than {show(image)}")
        except BoxError:
            bad("Corrects", f"{show(corrects)} does not name an NIH box (image:finding:index)")
    when = None
    if cell.get("Time", "").strip():
        try:
            when = parse_time(cell["Time"], now)
        except ValueError as exc:
            bad("Time", str(exc))
    if len(problems) > before:
        return None
    width, height = sides["Image Width"], sides["Image Height"]
    sx, sy = width / NIH_FRAME, height / NIH_FRAME
    box = ReviewerBox(image, reviewer, finding, coords["x"] * sx, coords["y"] * sy, coords["w"] * sx, coords["h"] * sy,
                      width, height, status, corrects, created_at=when)
    if box.x + box.w <= width and box.y + box.h <= height and min(box.w, box.h) >= MIN_SIDE:
        return box  # every rule of `check_box` is met (checked above); it would return the box as it is
    try:
        box, _ = check_box(box)  # a rounding overshoot of the edge is clipped, as a drawn box is
    except BoxError as exc:
        bad("w" if box.w < MIN_SIDE else "h", str(exc))
        return None
    return box


def _count_rows(text: str) -> int:
    """Data rows (records after the header that are not blank), or the line count where the file is
    not CSV throughout (the check that follows names the row)."""
    try:
        return sum(1 for cells in csv.reader(io.StringIO(text, newline="")) if cells and cells != [""]) - 1
    except csv.Error:
        return text.count("\n")


def read_boxes(text: str, label: str, metadata: Metadata | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> list[tuple[int, ReviewerBox]]:
    """Every data row of a box CSV as (row number, box in its own frame); any bad row raises
    `BoxImportRefusedError` listing all of them (duplicate rows included)."""
    records = _records(text)
    header = _header(records, label)
    total = _count_rows(text)
    if total > MAX_BOX_ROWS:  # refused before a minute goes into checking rows that cannot be imported
        raise BoxImportRefusedError(label, [Problem(None, None, f"has {total:,} rows; one import takes at most {MAX_BOX_ROWS:,} "
                                                                "boxes: split the file and import the parts one after another.")])
    now = datetime.now(timezone.utc)
    problems: list[Problem] = []
    rows: list[tuple[int, ReviewerBox]] = []
    seen: dict[tuple, int] = {}
    for number, line, cells, why in records:
        if why is not None:
            problems.append(Problem(number, None, why, line))
            break
        if not cells or cells == [""]:
            continue
        if len(rows) + len(problems) >= MAX_BOX_ROWS:
            raise BoxImportRefusedError(label, [Problem(number, None, f"is past the limit of {MAX_BOX_ROWS:,} boxes in one import; "
                                                                      "split the file and import the parts one after another", line)])
        if progress is not None and number % 5_000 == 0:
            progress("checking", number, total)
        if len(cells) != len(header):
            problems.append(Problem(number, None, f"has {len(cells)} cells; the header has {len(header)}", line))
            continue
        cell = {name: restore(value) for name, value in zip(header, cells)}
        box = _check_row(number, line, cell, metadata, now, problems)
        if box is None:
            continue
        key = box_store.box_key(box)
        if key in seen:
            problems.append(Problem(number, None, f"is the same box as row {seen[key]} (same image, reviewer, finding and place)", line))
            continue
        seen[key] = number
        rows.append((number, box))
    if problems:
        raise BoxImportRefusedError(label, problems)
    return rows


def import_boxes(store: Store, source: Path | bytes, metadata: Metadata | None = None, imported_by: str | None = None,
                 name: str | None = None, progress: Callable[[str, int, int], None] | None = None, dry_run: bool = False) -> int:
    """Add the boxes of a CSV written by `boxes_csv` (or by hand in its shape); returns how many
    were added. Every row is checked before anything is written (`BoxImportRefusedError` lists
    each bad row and writes nothing); then all are written in one transaction. A box already in
    the store (same image, reviewer, finding, status, correction and coordinates) is skipped, so
    importing twice adds nothing. With `metadata`, every image must be in it. `dry_run`: the same
    checks and count, nothing written.

    `progress(stage, done, total)`: stage "checking" while rows are read, then "writing" after each
    batch written (inside the transaction: nothing is committed until the last)."""
    try:
        text, _, label = read_text(source, name, kind="box CSV", limit=MAX_BOX_FILE_BYTES)
    except ImportRefusedError as error:
        raise BoxImportRefusedError(error.source, error.problems) from None
    rows = read_boxes(text, label, metadata, progress)
    rows.sort(key=lambda item: item[1].created_at or "")
    try:
        added = box_store.import_boxes(store, rows, imported_by, dry_run=dry_run,
                                       progress=None if progress is None else lambda done, total: progress("writing", done, total))
    except box_store.BoxCountError as error:
        raise BoxImportRefusedError(label, [Problem(number, None, why) for number, why in error.rows]) from None
    return sum(added)
