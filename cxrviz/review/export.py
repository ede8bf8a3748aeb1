"""Exporting reviews: the corrections CSV (one row per review) and a `Data_Entry_2017.csv`-shaped
file with the latest corrections applied. Importing a corrections CSV back is `cxrviz.review.imports`.

Cells that a spreadsheet would run as a formula are neutralised with a leading apostrophe (and
a cell that already starts with one gets a second), so import can undo it exactly. Rows end in
CRLF (RFC 4180), so every cell holding a CR, a LF or a quote is quoted: a note with a bare CR
stays one cell for readers that split lines on CR too, and an export imports back byte for byte.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from cxrviz.data.metadata import Metadata
from cxrviz.findings import FINDINGS, NO_FINDING, join_labels, split_labels
from cxrviz.review.identity import name_key
from cxrviz.review.record import Review

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
CORRECTION_COLUMNS = [
    "Image Index", "Original Labels", "Corrected Labels", "Added", "Removed", "Status", "Reviewer", "Note",
    "Reviewed At", "Created At", "Model", *[f"P({f})" for f in FINDINGS], "seconds_on_image",
]
DATA_ENTRY_HEADER = [
    "Image Index", "Finding Labels", "Follow-up #", "Patient ID", "Patient Age", "Patient Gender", "View Position",
    "OriginalImage[Width", "Height]", "OriginalImagePixelSpacing[x", "y]",
]
APPLIED_STATUSES = ("confirmed", "corrected")


def neutralise(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore(cell: str) -> str:
    """Undo `neutralise`: the apostrophe it added, and only that one ("'tis" stays as written)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def original_labels(metadata: Metadata | None, image: str) -> str:
    if metadata is None:
        return ""
    row = metadata.row_of(image)
    return "" if row is None else join_labels(metadata.labels_at(row))


def correction_rows(reviews: list[Review], metadata: Metadata | None, hide_original: frozenset[str] = frozenset(),
                    seconds: dict[tuple[str, str], float] | None = None) -> list[list[str]]:
    """One row per review; `hide_original`: images whose NIH labels the reader may not see yet
    (their Original, Added and Removed cells stay empty). `seconds`: (reviewer key, image) -> the
    reviewer's active seconds on the image as measured on the server (`review/throughput.py`);
    `seconds_on_image` stays empty where it is unknown."""
    seconds = seconds or {}
    rows = []
    for review in reviews:
        original = "" if review.image in hide_original else original_labels(metadata, review.image)
        before = set(split_labels(original)) - {NO_FINDING} if original else set()
        after = set(review.labels) - {NO_FINDING}
        probs = review.probabilities or {}
        rows.append([
            review.image, original, join_labels(list(review.labels)),
            join_labels(sorted(after - before)) if after - before and review.image not in hide_original else "",
            join_labels(sorted(before - after)) if before - after else "",
            review.status, review.reviewer, review.note, review.updated_at, review.created_at, review.model or "",
            *[f"{probs[f]:.6f}" if f in probs else "" for f in FINDINGS],
            _seconds_cell(seconds.get((name_key(review.reviewer), review.image))),
        ])
    return rows


def _seconds_cell(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def corrections_csv(reviews: list[Review], metadata: Metadata | None, hide_original: frozenset[str] = frozenset(),
                    seconds: dict[tuple[str, str], float] | None = None) -> bytes:
    """UTF-8 CSV bytes, formula-like cells neutralised, CRLF rows (cells with CR, LF or quotes quoted)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CORRECTION_COLUMNS)
    for row in correction_rows(reviews, metadata, hide_original, seconds):
        writer.writerow([neutralise(c) for c in row])
    return buffer.getvalue().encode("utf-8")


def latest_corrections(reviews: list[Review]) -> dict[str, str]:
    """Image -> labels of its most recent confirmed or corrected review, whoever made it."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.status in APPLIED_STATUSES and (review.image not in latest or review.updated_at >= latest[review.image].updated_at):
            latest[review.image] = review
    return {image: join_labels(list(r.labels)) for image, r in latest.items()}


def data_entry_csv(reviews: list[Review], metadata: Metadata, leave_out: frozenset[str] = frozenset()) -> bytes:
    """The metadata in the original 2017 layout, `Finding Labels` replaced where reviewed;
    `leave_out`: images whose row (their NIH labels) the reader may not see yet."""
    table = metadata.table
    if leave_out:
        table = table[~table["image"].isin(leave_out)]
    labels = table["finding_labels"].copy()
    fixes = latest_corrections(reviews)
    hit = table["image"].isin(fixes)
    labels[hit] = table.loc[hit, "image"].map(fixes)
    frame = pd.DataFrame({
        DATA_ENTRY_HEADER[0]: table["image"], DATA_ENTRY_HEADER[1]: labels, DATA_ENTRY_HEADER[2]: table["follow_up"],
        DATA_ENTRY_HEADER[3]: table["patient_id"], DATA_ENTRY_HEADER[4]: table["age"].round().astype("Int64"),
        DATA_ENTRY_HEADER[5]: table["gender"], DATA_ENTRY_HEADER[6]: table["view"],
        DATA_ENTRY_HEADER[7]: table["width"], DATA_ENTRY_HEADER[8]: table["height"],
        DATA_ENTRY_HEADER[9]: table["spacing_x"], DATA_ENTRY_HEADER[10]: table["spacing_y"],
    })
    return frame.to_csv(index=False).encode("utf-8")

