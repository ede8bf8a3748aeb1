"""Reviewer boxes out and in: a CSV in `BBox_List_2017.csv`'s shape and COCO detection JSON.

The CSV's first six columns are those of the NIH table (`Image Index`, `Finding Label`, x, y, w, h
in the 1024-px frame, so `cxrviz.data.boxes.load_boxes` and `localize --boxes` read it as they
read the NIH file); after them: reviewer, status, the NIH box a correction points at, time, and
the original image size (so import puts each box back in its own frame). Coordinates are written
with two decimals; an export -> import into an empty store -> export round trip is byte-identical.
Cells a spreadsheet would run as a formula are neutralised as in `cxrviz.review.export`.

COCO: `images` (file name and original size), `categories` (the 14 findings, ids 1-14 in the
dataset's order), `annotations` with `bbox` [x, y, w, h] in the image's own pixel frame. `wrong`
marks on NIH boxes are not objects and stay out of COCO (they are in the CSV).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from cxrviz.data.boxes import NIH_FRAME
from cxrviz.errors import MetadataError
from cxrviz.findings import FINDINGS, normalise_label
from cxrviz.review.boxes import BoxError, ReviewerBox, check_box
from cxrviz.review.export import neutralise, restore
from cxrviz.review.identity import ReviewerNameError, display_name
from cxrviz.review.store import Store
from cxrviz.review.store.boxes import add_box, list_boxes

BOX_COLUMNS = ["Image Index", "Finding Label", "x", "y", "w", "h", "Reviewer", "Status", "Corrects", "Time",
               "Image Width", "Image Height"]


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


def _row_box(row: dict, line: int, source: str) -> ReviewerBox:
    try:
        width, height = int(row["Image Width"] or NIH_FRAME), int(row["Image Height"] or NIH_FRAME)
        x, y, w, h = (float(row[c]) for c in "xywh")
        finding = normalise_label(row["Finding Label"])
    except (ValueError, KeyError) as exc:
        raise MetadataError(f"{source} line {line}: {exc}; nothing was imported.") from exc
    sx, sy = width / NIH_FRAME, height / NIH_FRAME
    return ReviewerBox(row["Image Index"], row["Reviewer"], finding, x * sx, y * sy, w * sx, h * sy, width, height,
                       row.get("Status") or "drawn", row.get("Corrects") or None, created_at=row.get("Time") or None)


def import_boxes(store: Store, path_or_bytes: Path | bytes) -> int:
    """Add the boxes of a CSV written by `boxes_csv`; returns how many were added. Every row is
    checked before anything is written; a box already in the store (same image, reviewer,
    finding, status, correction and coordinates) is skipped, so importing twice adds nothing."""
    source = "the box CSV" if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
    try:
        text = path_or_bytes.decode("utf-8") if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(f"{source} cannot be read: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("Image Index", "Finding Label", "x", "y", "w", "h", "Reviewer") if c not in (reader.fieldnames or [])]
    if missing:
        raise MetadataError(f"{source} is not a cxrviz box CSV: columns {missing} are missing.")
    parsed = []
    for line, raw in enumerate(reader, start=2):
        row = {k: restore(v or "") for k, v in raw.items() if k is not None}
        box = _row_box(row, line, source)
        try:
            display_name(box.reviewer)
            check_box(box)
        except (BoxError, ReviewerNameError) as exc:
            raise MetadataError(f"{source} line {line}: {exc}") from exc
        parsed.append(box)
    have = {_order(b)[:2] + _order(b)[3:] for b in list_boxes(store)}
    added = 0
    for box in sorted(parsed, key=lambda b: b.created_at or ""):
        if _order(box)[:2] + _order(box)[3:] in have:
            continue
        add_box(store, box, at=box.created_at)
        have.add(_order(box)[:2] + _order(box)[3:])
        added += 1
    return added
