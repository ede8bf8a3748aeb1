"""Exporting reviews: the corrections CSV (one row per review) and a `Data_Entry_2017.csv`-shaped
file with the latest corrections applied; and importing a corrections CSV back into a store.

Cells that a spreadsheet would run as a formula are neutralised with a leading apostrophe (and
a cell that already starts with one gets a second), so import can undo it exactly.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from cxrviz.data.metadata import Metadata
from cxrviz.errors import MetadataError
from cxrviz.findings import FINDINGS, NO_FINDING, join_labels, split_labels
from cxrviz.review.record import Review
from cxrviz.review.store import Store

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
CORRECTION_COLUMNS = [
    "Image Index", "Original Labels", "Corrected Labels", "Added", "Removed", "Status", "Reviewer", "Note",
    "Reviewed At", "Created At", "Model", *[f"P({f})" for f in FINDINGS],
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
    return cell[1:] if cell.startswith("'") else cell


def original_labels(metadata: Metadata | None, image: str) -> str:
    if metadata is None:
        return ""
    row = metadata.row_of(image)
    return "" if row is None else join_labels(metadata.labels_at(row))


def correction_rows(reviews: list[Review], metadata: Metadata | None) -> list[list[str]]:
    rows = []
    for review in reviews:
        original = original_labels(metadata, review.image)
        before = set(split_labels(original)) - {NO_FINDING} if original else set()
        after = set(review.labels) - {NO_FINDING}
        probs = review.probabilities or {}
        rows.append([
            review.image, original, join_labels(list(review.labels)),
            join_labels(sorted(after - before)) if after - before else "",
            join_labels(sorted(before - after)) if before - after else "",
            review.status, review.reviewer, review.note, review.updated_at, review.created_at, review.model or "",
            *[f"{probs[f]:.6f}" if f in probs else "" for f in FINDINGS],
        ])
    return rows


def corrections_csv(reviews: list[Review], metadata: Metadata | None) -> bytes:
    """UTF-8 CSV bytes, formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CORRECTION_COLUMNS)
    for row in correction_rows(reviews, metadata):
        writer.writerow([neutralise(c) for c in row])
    return buffer.getvalue().encode("utf-8")


def latest_corrections(reviews: list[Review]) -> dict[str, str]:
    """Image -> labels of its most recent confirmed or corrected review, whoever made it."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.status in APPLIED_STATUSES and (review.image not in latest or review.updated_at >= latest[review.image].updated_at):
            latest[review.image] = review
    return {image: join_labels(list(r.labels)) for image, r in latest.items()}


def data_entry_csv(reviews: list[Review], metadata: Metadata) -> bytes:
    """The metadata in the original 2017 layout, `Finding Labels` replaced where reviewed."""
    table = metadata.table
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


def import_corrections(store: Store, path_or_bytes: Path | bytes) -> int:
    """Replay a corrections CSV into a store, oldest first; returns the number of reviews saved."""
    text = path_or_bytes.decode("utf-8") if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("Image Index", "Corrected Labels", "Status", "Reviewer") if c not in (reader.fieldnames or [])]
    if missing:
        raise MetadataError(f"This is not a cxrviz corrections CSV: columns {missing} are missing.")
    rows = [{k: restore(v or "") for k, v in row.items()} for row in reader]
    rows.sort(key=lambda r: r.get("Reviewed At", ""))
    for row in rows:
        probs = {f: float(row[f"P({f})"]) for f in FINDINGS if row.get(f"P({f})")}
        store.save_review(
            row["Image Index"], row["Reviewer"], split_labels(row["Corrected Labels"]), row["Status"], row.get("Note", ""),
            model=row.get("Model") or None, probabilities=probs or None, at=row.get("Reviewed At") or None,
        )
    store.restore_created_at([(r["Image Index"], r["Reviewer"], r["Created At"]) for r in rows if r.get("Created At")])
    return len(rows)
