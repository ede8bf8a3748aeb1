"""Importing a corrections CSV (what `export` and the Review page write) into a review store.

Every row is checked before anything is written: the image name (NIH `NNNNNNNN_NNN.png`, and
present in the metadata when one is given), the labels, the status, the probabilities, the
dates (ISO 8601 with a time zone), the reviewer name, cell sizes and NUL bytes. One bad row and
nothing is written: `ImportRefusedError` lists every problem with its row (counted as a
spreadsheet shows them, the header being row 1) and column. A clean file is written in one
transaction by `Store.import_reviews`, which never lets an older row replace a newer review.

Files are read as UTF-8 (a byte-order mark, as spreadsheet programs save, is allowed), else as
Windows-1252 / Latin-1; the report says which.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cxrviz.data.image_index import NIH_NAME
from cxrviz.data.metadata import Metadata
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS, NO_FINDING, normalise_label
from cxrviz.review.export import restore
from cxrviz.review.identity import ReviewerNameError, display_name, name_key
from cxrviz.review.record import STATUSES, Review
from cxrviz.review.store import Store
from cxrviz.review.store.core import IMPORT_NEW, IMPORT_SKIPPED_OLDER, IMPORT_UNCHANGED, IMPORT_UPDATED

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("Image Index", "Corrected Labels", "Status", "Reviewer", "Reviewed At")
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_CELL_CHARS = 128 * 1024  # the csv module's own field limit; notes longer than this are refused
MAX_MODEL_CHARS = 200  # the store's column width
MAX_PROBLEMS_SHOWN = 20
FUTURE_TOLERANCE = timedelta(days=1)  # clocks of the exporting and importing machines may differ
OUTCOMES = (IMPORT_NEW, IMPORT_UPDATED, IMPORT_SKIPPED_OLDER, IMPORT_UNCHANGED)
_ISO_START = re.compile(r"^\d{4}-?\d{2}-?\d{2}[T ]\d{2}")  # a date and a time, not "20240101" or "2024"


@dataclass(frozen=True)
class Problem:
    """Why one row (or the whole file, row None) cannot be imported."""

    row: int | None
    column: str | None
    why: str
    line: int | None = None  # the file's line where the row starts (a quoted cell can hold line breaks)

    def __str__(self) -> str:
        if self.row is None:
            return "the file " + self.why
        where = f"row {self.row}" + (f" (line {self.line})" if self.line is not None else "")
        return where + (f", {self.column}" if self.column else "") + ": " + self.why


class ImportRefusedError(CxrvizError):
    """A file that cannot be imported; `problems` lists every reason, and nothing was written."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:MAX_PROBLEMS_SHOWN])
        more = f"\n  … and {len(problems) - MAX_PROBLEMS_SHOWN} more" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        rows = "; rows counted with the header as row 1" if any(p.row is not None for p in problems) else ""
        super().__init__(f"Nothing was imported from {source} ({count}{rows}):\n{shown}{more}")


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, with `dry_run`, would do): one (row, outcome, review) per data row."""

    source: str
    encoding: str
    dry_run: bool
    rows: list[tuple[int, str, Review]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {o: sum(1 for _, outcome, _ in self.rows if outcome == o) for o in OUTCOMES}

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        counts = ", ".join(f"{n} {o}" for o, n in self.counts.items())
        return f"{verb} {len(self.rows)} rows from {self.source} (read as {self.encoding}): {counts}"

    def lines(self) -> list[str]:
        return [f"row {row}: {outcome}: {r.image} by {r.reviewer} at {r.updated_at}" for row, outcome, r in self.rows]


def require_admin_in_team_mode(store: Store, importer: str, what: str = "reviews") -> None:
    """A store with team users (sign-in) takes imports only from an admin: an import writes under
    other readers' names, so it must not be a way round blind reading or roles."""
    from cxrviz.review.store import team

    if not team.list_users(store):
        return
    if team.role_of(store, importer) != "admin":
        raise CxrvizError(f"This store has team sign-in; only an admin can import {what}. {importer!r} is not an admin here.")


# ---- reading the file ------------------------------------------------------------------------


def read_text(source: Path | bytes, name: str | None = None, kind: str = "corrections CSV",
              limit: int = MAX_FILE_BYTES) -> tuple[str, str, str]:
    """(text, encoding used, name for messages) of a CSV file or its bytes; a file that is missing,
    a folder, unreadable, larger than `limit` bytes or binary raises `ImportRefusedError`. `kind`
    names the file the import expects, in messages."""
    label = name or ("the uploaded file" if isinstance(source, bytes) else str(source))
    too_large = f"is larger than {limit // 2**20} MiB, the most one import reads; split it into smaller files."
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            if path.is_dir():
                raise ImportRefusedError(label, [Problem(None, None, f"is a folder; give a {kind} file.")])
            if path.stat().st_size > limit:
                raise ImportRefusedError(label, [Problem(None, None, too_large)])
            data = path.read_bytes()
        except FileNotFoundError:
            raise ImportRefusedError(label, [Problem(None, None, "cannot be read: it does not exist.")]) from None
        except PermissionError:
            raise ImportRefusedError(label, [Problem(None, None, "cannot be read (permission denied).")]) from None
        except OSError as exc:
            raise ImportRefusedError(label, [Problem(None, None, f"cannot be read ({exc.strerror or exc}).")]) from None
    if len(data) > limit:
        raise ImportRefusedError(label, [Problem(None, None, too_large)])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefusedError(label, [Problem(None, None, "is UTF-16 text; save it as CSV UTF-8 and import that.")])
    try:
        return data.decode("utf-8-sig"), "UTF-8", label
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise ImportRefusedError(label, [Problem(None, None, f"is not a text file (a NUL byte on line {line}); "
                                                            f"a {kind} is UTF-8 or Windows-1252 text.")])
    try:
        text, encoding = data.decode("cp1252"), "Windows-1252 (not valid UTF-8)"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "Latin-1 (not valid UTF-8)"
    log.info("%s is not UTF-8; read as %s", label, encoding)
    return text, encoding, label


def _records(text: str, label: str):
    """(row number, cells) for each record, header first; a CSV syntax error ends the file with a problem."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row = 0
    try:
        for cells in reader:
            row += 1
            yield row, cells, None
    except csv.Error as exc:
        yield row + 1, None, Problem(row + 1, None, f"the file cannot be read as CSV here (line {reader.line_num}): {csv_error_why(exc)}.")


def csv_error_why(exc: csv.Error) -> str:
    """The csv module's complaint in a user's words."""
    why = str(exc)
    if "field larger than field limit" in why:
        return f"a cell is longer than the limit of {MAX_CELL_CHARS} characters"
    if "unexpected end of data" in why:
        return "a quoted cell is never closed (an unterminated quote)"
    if "expected after" in why:
        return f"text follows a closing quote inside a cell ({why})"
    if "line contains NUL" in why:
        return "a NUL byte (binary data, not text)"
    return why


# ---- checking each cell ----------------------------------------------------------------------


def parse_time(text: str, now: datetime | None = None) -> str:
    """An ISO 8601 date and time with a time zone, as the store writes it (UTC, microseconds, `Z`).

    Raises `ValueError` with the reason for anything else."""
    value = text.strip()
    if not _ISO_START.match(value):
        raise ValueError(f"{_show(value)} is not an ISO 8601 date and time (like 2024-05-01T12:00:00Z)")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{_show(value)} is not an ISO 8601 date and time (like 2024-05-01T12:00:00Z)") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{_show(value)} has no time zone; add Z for UTC")
    moment = moment.astimezone(timezone.utc)
    if moment > (now or datetime.now(timezone.utc)) + FUTURE_TOLERANCE:
        raise ValueError(f"{_show(value)} is in the future")
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_labels(text: str) -> tuple[str, ...]:
    parts = [p.strip() for p in text.split("|")]
    if not any(parts):
        raise ValueError(f"is empty; write {NO_FINDING} for an image without findings")
    labels, unknown = [], []
    for part in parts:
        if not part:
            continue
        try:
            labels.append(normalise_label(part))
        except ValueError:
            unknown.append(_show(part))
    if unknown:
        raise ValueError(f"unknown label {', '.join(unknown)}; labels are {', '.join(FINDINGS)} or {NO_FINDING}")
    if NO_FINDING in labels and len(set(labels)) > 1:
        raise ValueError(f"{NO_FINDING} together with findings")
    return tuple(dict.fromkeys(labels))


def parse_probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{_show(text)} is not a number") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{_show(text)} is not a probability between 0 and 1")
    return value


def _show(value: str, limit: int = 40) -> str:
    """A cell quoted for a message, control characters escaped, long ones cut."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


show = _show  # for the box import


def check_shared_cells(cell: dict[str, str], metadata: Metadata | None, bad: Callable[[str | None, str], None]) -> str | None:
    """The checks every imported row shares (corrections and boxes): no NUL byte in any cell, then an
    NIH image name the metadata knows. Returns the image name, or None when a NUL byte stops the row
    (its other cells are not worth reading); each problem goes to `bad(column, why)`."""
    nul = [column for column, value in cell.items() if "\x00" in value]
    for column in nul:
        bad(column, "contains a NUL byte")
    if nul:
        return None
    image = cell["Image Index"].strip()
    if not NIH_NAME.match(image):
        bad("Image Index", f"{_show(image)} is not an NIH image name (NNNNNNNN_NNN.png)")
    elif metadata is not None and metadata.row_of(image) is None:
        bad("Image Index", f"{image} is not in the metadata {metadata.source.name}")
    return image


def _check_row(number: int, cell: dict[str, str], metadata: Metadata | None, now: datetime,
               problems: list[Problem]) -> Review | None:
    bad_before = len(problems)

    def bad(column: str | None, why: str) -> None:
        problems.append(Problem(number, column, why))

    image = check_shared_cells(cell, metadata, bad)
    if image is None:
        return None
    try:
        labels = parse_labels(cell["Corrected Labels"])
    except ValueError as exc:
        bad("Corrected Labels", str(exc))
    status = cell["Status"].strip().lower()
    if status not in STATUSES:
        bad("Status", f"{_show(cell['Status'])} is not a status ({', '.join(STATUSES)})")
    try:
        reviewer = display_name(cell["Reviewer"])
    except ReviewerNameError as exc:
        bad("Reviewer", str(exc))
    times = {}
    for column in ("Reviewed At", "Created At"):
        text = cell.get(column, "")
        if column == "Created At" and not text.strip():
            continue
        try:
            times[column] = parse_time(text, now)
        except ValueError as exc:
            bad(column, str(exc))
    updated = times.get("Reviewed At")
    created = times.get("Created At", updated)
    if updated and created and created > updated:
        bad("Created At", f"{created} is after Reviewed At {updated}")
    model = cell.get("Model", "").strip()
    if len(model) > MAX_MODEL_CHARS or any(ord(c) < 32 for c in model):
        bad("Model", f"{_show(model)} is not a model name (at most {MAX_MODEL_CHARS} characters, no control characters)")
    probabilities = {}
    for finding in FINDINGS:
        text = cell.get(f"P({finding})", "").strip()
        if text:
            try:
                probabilities[finding] = parse_probability(text)
            except ValueError as exc:
                bad(f"P({finding})", str(exc))
    if len(problems) > bad_before:
        return None
    return Review(image=image, reviewer=reviewer, labels=labels, status=status, note=cell.get("Note", ""),
                  model=model or None, probabilities=probabilities or None, created_at=created, updated_at=updated)


def read_corrections(text: str, label: str, metadata: Metadata | None = None) -> list[tuple[int, Review]]:
    """Every data row of a corrections CSV as (row number, Review); any bad row raises
    `ImportRefusedError` listing all of them."""
    problems: list[Problem] = []
    records = _records(text, label)
    header = None
    for number, cells, problem in records:
        if problem:
            raise ImportRefusedError(label, [problem])
        if cells:
            header = [c.strip() for c in cells]
            break
    if header is None:
        raise ImportRefusedError(label, [Problem(None, None, "is empty.")])
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        seen = ", ".join(_show(c, 30) for c in header[:8]) + (", …" if len(header) > 8 else "")
        raise ImportRefusedError(label, [Problem(None, None, f"is not a cxrviz corrections CSV: no {', '.join(map(repr, missing))} "
                                                            f"column (its header: {seen}).")])
    twice = sorted({c for c in header if header.count(c) > 1 and c})
    if twice:
        raise ImportRefusedError(label, [Problem(1, None, f"the header names {', '.join(map(repr, twice))} twice")])
    now = datetime.now(timezone.utc)
    rows: list[tuple[int, Review]] = []
    seen_pairs: dict[tuple[str, str], int] = {}
    for number, cells, problem in records:
        if problem:
            problems.append(problem)
            break
        if not cells or cells == [""]:
            continue
        if len(cells) != len(header):
            problems.append(Problem(number, None, f"has {len(cells)} cells; the header has {len(header)}"))
            continue
        cell = {name: restore(value) for name, value in zip(header, cells) if name}
        review = _check_row(number, cell, metadata, now, problems)
        if review is None:
            continue
        pair = (review.image, name_key(review.reviewer))
        if pair in seen_pairs:
            problems.append(Problem(number, None, f"{review.image} by {review.reviewer} is already on row {seen_pairs[pair]}"))
            continue
        seen_pairs[pair] = number
        rows.append((number, review))
    if problems:
        raise ImportRefusedError(label, problems)
    return rows


def import_corrections(store: Store, source: Path | bytes, metadata: Metadata | None = None, imported_by: str = "cxrviz",
                       replace_newer: bool = False, dry_run: bool = False, name: str | None = None) -> ImportReport:
    """Check every row of a corrections CSV, then write them all in one transaction (or, with
    `dry_run`, say what would change and write nothing). Raises `ImportRefusedError` (nothing
    written) for a file with any bad row, `StoreError` when the database refuses."""
    text, encoding, label = read_text(source, name)
    rows = read_corrections(text, label, metadata)
    outcomes = store.import_reviews([r for _, r in rows], imported_by, replace_newer=replace_newer, dry_run=dry_run)
    return ImportReport(source=label, encoding=encoding, dry_run=dry_run,
                        rows=[(number, outcome, review) for (number, review), outcome in zip(rows, outcomes)])
