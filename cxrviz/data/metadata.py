"""The NIH `Data_Entry_2017.csv` table: loaded once, validated, with labels as a boolean matrix.

Three dialects exist in the wild and all are read by position after checking the header:
the 2017 original (a trailing empty column, some ages over 120), torchxrayvision's v2020 copy,
and Kaggle's `sample_labels.csv` (ages written as `058Y`).
"""

from __future__ import annotations

import gzip
import logging
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from cxrviz.errors import MetadataError
from cxrviz.findings import ALL_LABELS, NO_FINDING, split_labels

COLUMNS = (
    "image",
    "finding_labels",
    "follow_up",
    "patient_id",
    "age",
    "gender",
    "view",
    "width",
    "height",
    "spacing_x",
    "spacing_y",
)
MAX_PLAUSIBLE_AGE = 120


def bundled_file(name: str) -> Path:
    """A data file shipped inside the torchxrayvision package."""
    import importlib.util

    spec = importlib.util.find_spec("torchxrayvision")
    if spec is None or spec.origin is None:
        raise MetadataError("torchxrayvision is not installed, so its bundled NIH metadata is missing.")
    return Path(spec.origin).parent / "data" / name


def default_metadata_path() -> Path:
    return bundled_file("Data_Entry_2017_v2020.csv.gz")


log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Metadata:
    """One row per image; `labels[i, j]` says whether image i carries `ALL_LABELS[j]`."""

    table: pd.DataFrame
    labels: np.ndarray
    source: Path
    warnings: tuple[str, ...] = ()  # what loaded but deserves a look (extra columns, an unusual row count)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def n_patients(self) -> int:
        return int(self.table["patient_id"].nunique())

    def label_counts(self) -> pd.Series:
        """Images per label over the whole table."""
        return pd.Series(self.labels.sum(axis=0), index=list(ALL_LABELS))

    @cached_property
    def _row_by_image(self) -> dict[str, int]:
        names = self.table["image"].to_numpy()
        return {str(name): i for i, name in reversed(list(enumerate(names)))}  # first row wins

    def row_of(self, image: str) -> int | None:
        """The position of an image by its file name, or None when it is not in the table."""
        return self._row_by_image.get(image)

    def labels_at(self, row: int) -> list[str]:
        """The NIH labels of a row, in `ALL_LABELS` order ("No Finding" included when set)."""
        return [label for label, on in zip(ALL_LABELS, self.labels[row]) if on]

    def describe(self, row: int) -> str:
        """One line about a row for a caption: patient, follow-up, age, gender, view."""
        record = self.table.iloc[row]
        age = "unknown" if pd.isna(record["age"]) else f"{record['age']:.0f}"
        return f"Patient {record['patient_id']} · follow-up {record['follow_up']} · age {age} · {record['gender']} · {record['view']}"

    def findings_of(self, image: str) -> set[str] | None:
        """The NIH findings of an image ("No Finding" left out), or None when it is not in the table."""
        row = self.row_of(image)
        return None if row is None else {label for label in self.labels_at(row) if label != NO_FINDING}


def parse_age(raw: pd.Series) -> pd.Series:
    """Ages in years as floats; `058Y`, `6M`, `20D` understood; impossible ages become NaN."""
    plain = pd.to_numeric(raw, errors="coerce")
    if plain.notna().all():  # the common case (both NIH files): plain numbers, no string work
        return plain.astype(float).where((plain >= 0) & (plain <= MAX_PLAUSIBLE_AGE))
    text = raw.astype("string").str.strip().str.upper()
    number = pd.to_numeric(text.str.extract(r"^(\d+(?:\.\d+)?)", expand=False), errors="coerce")
    unit = text.str.extract(r"([YMWD])$", expand=False).fillna("Y")
    divisor = unit.map({"Y": 1.0, "M": 12.0, "W": 52.0, "D": 365.0}).astype(float)
    years = number / divisor
    return years.where((years >= 0) & (years <= MAX_PLAUSIBLE_AGE)).astype(float)


def _read_raw(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise MetadataError(f"Metadata file {path} does not exist.")
    try:
        raw = pd.read_csv(path, header=None, skiprows=1, dtype=str, keep_default_na=False)
        header = pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0].tolist()
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error, UnicodeDecodeError) as exc:
        raise MetadataError(f"Metadata file {path} cannot be read: {exc}") from exc
    except pd.errors.ParserError as exc:
        raise MetadataError(f"Metadata file {path} is not a well-formed CSV: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise MetadataError(f"Metadata file {path} is empty.") from exc
    first = str(header[0]).strip().lstrip("\ufeff")
    if first != "Image Index" or len(raw.columns) < len(COLUMNS):
        raise MetadataError(
            f"Metadata file {path} does not look like Data_Entry_2017.csv: expected the columns "
            f"'Image Index, Finding Labels, Follow-up #, Patient ID, Patient Age, Patient Gender, "
            f"View Position, width, height, spacing x, spacing y' but found {len(raw.columns)} "
            f"columns starting with {first!r}."
        )
    if raw.empty:
        raise MetadataError(f"Metadata file {path} has a header but no rows.")
    extra = [str(name).strip() or f"column {i + 1}" for i, name in enumerate(header) if i >= len(COLUMNS)
             and raw.iloc[:, i].astype(str).str.strip().ne("").any()]
    raw = raw.iloc[:, : len(COLUMNS)]
    raw.columns = list(COLUMNS)
    raw.attrs["extra_columns"] = extra
    return raw


NIH_ROWS = 112_120  # rows of the NIH release's Data_Entry_2017.csv


def _check_rows(raw: pd.DataFrame, table: pd.DataFrame, source: Path) -> list[str]:
    """Refuse rows with missing fields (a cut file) and duplicate images; return warnings."""
    required = ["image", "finding_labels", "patient_id"]
    blank = raw[required].apply(lambda c: c.astype(str).str.strip().eq("")).any(axis=1)
    if blank.any():
        lines = (np.flatnonzero(blank.to_numpy()) + 2).tolist()  # + header, 1-based
        truncated = " (the last row is incomplete: the file looks truncated)" if blank.iloc[-1] else ""
        raise MetadataError(f"Metadata file {source}: {len(lines)} rows miss an image name, labels or patient id, "
                            f"at lines {', '.join(map(str, lines[:5]))}{' …' if len(lines) > 5 else ''}{truncated}.")
    duplicated = table["image"][table["image"].duplicated()].unique().tolist()
    if duplicated:
        raise MetadataError(f"Metadata file {source}: {len(duplicated)} images appear more than once, e.g. "
                            f"{', '.join(duplicated[:5])}. Keep one row per image.")
    warnings = []
    if raw.attrs.get("extra_columns"):
        warnings.append(f"Metadata file {source.name} has columns cxrviz does not use: {', '.join(raw.attrs['extra_columns'][:5])}.")
    if source.name.startswith("Data_Entry_2017") and len(table) != NIH_ROWS:
        warnings.append(f"Metadata file {source.name} has {len(table):,} rows; the NIH release has {NIH_ROWS:,}. "
                        "Counts and filters cover only the rows present.")
    return warnings


def label_matrix(cells: pd.Series, source: Path) -> np.ndarray:
    """Boolean (rows, 15) matrix; each distinct label combination is parsed once."""
    codes, combos = pd.factorize(cells)
    combo_rows = np.zeros((len(combos), len(ALL_LABELS)), dtype=bool)
    index = {label: j for j, label in enumerate(ALL_LABELS)}
    for i, combo in enumerate(combos):
        try:
            for label in split_labels(combo):
                combo_rows[i, index[label]] = True
        except ValueError as exc:
            raise MetadataError(f"Metadata file {source}: {exc} in 'Finding Labels' ({combo!r}).") from exc
    return combo_rows[codes]


def load_metadata(path: Path | None = None) -> Metadata:
    """Read and validate a Data_Entry CSV (plain or gzipped); raises `MetadataError` for the user."""
    source = Path(path) if path is not None else default_metadata_path()
    raw = _read_raw(source)
    table = pd.DataFrame(
        {
            "image": raw["image"].str.strip(),
            "finding_labels": raw["finding_labels"].str.strip(),
            "follow_up": pd.to_numeric(raw["follow_up"], errors="coerce").astype("Int32"),
            "patient_id": pd.to_numeric(raw["patient_id"], errors="coerce").astype("Int64"),
            "age": parse_age(raw["age"]),
            "gender": raw["gender"].str.strip().str.upper().astype("category"),
            "view": raw["view"].str.strip().str.upper().astype("category"),
            "width": pd.to_numeric(raw["width"], errors="coerce"),
            "height": pd.to_numeric(raw["height"], errors="coerce"),
            "spacing_x": pd.to_numeric(raw["spacing_x"], errors="coerce"),
            "spacing_y": pd.to_numeric(raw["spacing_y"], errors="coerce"),
        }
    )
    warnings = _check_rows(raw, table, source)
    if table["patient_id"].isna().any():
        bad = int(table["patient_id"].isna().sum())
        raise MetadataError(f"Metadata file {source}: {bad} rows have no numeric 'Patient ID'.")
    labels = label_matrix(table["finding_labels"], source)
    log.info("Loaded %d metadata rows from %s", len(table), source)
    for warning in warnings:
        log.warning(warning)
    return Metadata(table=table, labels=labels, source=source, warnings=tuple(warnings))
