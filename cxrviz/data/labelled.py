"""The labelled image set a model trains or is evaluated on: local files joined to labels.

Labels come from the NIH metadata; a labels CSV (a `Data_Entry_2017.csv`-shaped export or a
corrections export) overrides them image by image, so reviewers' corrections can retrain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxrviz.data.image_index import ImageIndex
from cxrviz.data.metadata import Metadata
from cxrviz.errors import MetadataError
from cxrviz.findings import ALL_LABELS, FINDINGS, split_labels

LABEL_COLUMNS = ("Corrected Labels", "Finding Labels")


@dataclass(frozen=True)
class LabelledSet:
    names: list[str]
    paths: list[Path]
    targets: np.ndarray  # (n, 14) float32 over FINDINGS
    patient_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, mask: np.ndarray) -> "LabelledSet":
        keep = np.flatnonzero(mask)
        return LabelledSet(
            names=[self.names[i] for i in keep],
            paths=[self.paths[i] for i in keep],
            targets=self.targets[keep],
            patient_ids=self.patient_ids[keep],
        )


def read_label_overrides(path: Path) -> dict[str, np.ndarray]:
    """Image name -> 14-finding vector from a labels CSV; raises `MetadataError` if unusable."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise MetadataError(f"Labels file {path} cannot be read: {exc}") from exc
    column = next((c for c in LABEL_COLUMNS if c in frame.columns), None)
    if "Image Index" not in frame.columns or column is None:
        raise MetadataError(f"Labels file {path} needs an 'Image Index' column and one of {LABEL_COLUMNS}.")
    overrides = {}
    for name, cell in zip(frame["Image Index"], frame[column]):
        try:
            labels = set(split_labels(cell))
        except ValueError as exc:
            raise MetadataError(f"Labels file {path}: {exc} for {name}.") from exc
        overrides[name.strip()] = np.array([f in labels for f in FINDINGS], dtype=np.float32)
    return overrides


def labelled_set(metadata: Metadata, index: ImageIndex, labels_csv: Path | None = None) -> LabelledSet:
    """Every locally present image that has metadata, with its (possibly overridden) labels."""
    table = metadata.table
    present = table["image"].isin(list(index.paths)).to_numpy()
    rows = np.flatnonzero(present)
    names = table["image"].to_numpy()[rows].tolist()
    finding_cols = [ALL_LABELS.index(f) for f in FINDINGS]
    targets = metadata.labels[np.ix_(rows, finding_cols)].astype(np.float32)
    if labels_csv is not None:
        overrides = read_label_overrides(labels_csv)
        for i, name in enumerate(names):
            if name in overrides:
                targets[i] = overrides[name]
    return LabelledSet(
        names=names,
        paths=[index.paths[n] for n in names],
        targets=targets,
        patient_ids=table["patient_id"].to_numpy()[rows].astype(np.int64),
    )
