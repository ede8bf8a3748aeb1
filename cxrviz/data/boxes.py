"""Bounding boxes: the NIH ground-truth table, scaling between frames, boxes from heatmaps,
and the overlap measures of Wang et al. 2017 (IoU, and IoBB: intersection over the detected box).

A box is (x, y, w, h) in pixels of some frame; the NIH table's frame is 1024 × 1024.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import ndimage

from cxrviz.data.metadata import bundled_file
from cxrviz.errors import MetadataError
from cxrviz.findings import normalise_label

NIH_FRAME = 1024


class Box(NamedTuple):
    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return max(self.w, 0.0) * max(self.h, 0.0)


def default_bbox_path() -> Path:
    return bundled_file("BBox_List_2017.csv.gz")


def load_boxes(path: Path | None = None) -> pd.DataFrame:
    """The box table with columns image, finding, x, y, w, h; labels in the dataset's vocabulary."""
    source = Path(path) if path is not None else default_bbox_path()
    if not source.exists():
        raise MetadataError(f"Box file {source} does not exist.")
    try:
        raw = pd.read_csv(source, header=None, skiprows=1, dtype=str, keep_default_na=False)
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise MetadataError(f"Box file {source} cannot be read: {exc}") from exc
    if raw.shape[1] < 6:
        raise MetadataError(
            f"Box file {source} does not look like BBox_List_2017.csv: expected 'Image Index, "
            f"Finding Label, x, y, w, h' but found {raw.shape[1]} columns."
        )
    table = pd.DataFrame({"image": raw[0].str.strip()})
    try:
        table["finding"] = [normalise_label(v) for v in raw[1]]
    except ValueError as exc:
        raise MetadataError(f"Box file {source}: {exc}.") from exc
    for position, column in enumerate("xywh", start=2):
        table[column] = pd.to_numeric(raw[position], errors="coerce")
    values = table[list("xywh")].to_numpy()
    bad = ~np.isfinite(values).all(axis=1) | (values[:, 2] <= 0) | (values[:, 3] <= 0)
    if bad.any():
        lines = (np.flatnonzero(bad) + 2).tolist()
        raise MetadataError(f"Box file {source}: {len(lines)} boxes have coordinates that are not finite numbers or a width "
                            f"or height that is not positive, at lines {', '.join(map(str, lines[:5]))}{' …' if len(lines) > 5 else ''}.")
    return table


def scale_box(box: Box, to_width: int, to_height: int, frame: int = NIH_FRAME) -> Box:
    """A box from the square NIH frame into an image of the given size."""
    sx, sy = to_width / frame, to_height / frame
    return Box(box.x * sx, box.y * sy, box.w * sx, box.h * sy)


def intersection(a: Box, b: Box) -> float:
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return max(w, 0.0) * max(h, 0.0)


def iou(a: Box, b: Box) -> float:
    inter = intersection(a, b)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def iobb(detected: Box, truth: Box) -> float:
    """Intersection over the detected box's area (Wang et al. 2017)."""
    return intersection(detected, truth) / detected.area if detected.area > 0 else 0.0


def box_from_heatmap(heatmap: np.ndarray, fraction: float = 0.5) -> Box | None:
    """The bounding box of the largest connected region above `fraction` of the peak."""
    peak = float(np.max(heatmap)) if heatmap.size else 0.0
    if peak <= 0:
        return None
    regions, count = ndimage.label(heatmap >= fraction * peak)
    if count == 0:
        return None
    sizes = ndimage.sum_labels(np.ones_like(heatmap), regions, index=np.arange(1, count + 1))
    largest = int(np.argmax(sizes)) + 1
    rows, cols = np.nonzero(regions == largest)
    return Box(float(cols.min()), float(rows.min()), float(cols.max() - cols.min() + 1), float(rows.max() - rows.min() + 1))
