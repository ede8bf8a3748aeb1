"""Localisation accuracy of heatmap boxes against the NIH ground-truth boxes, as in Table 3 of
Wang et al. 2017: a box counts as found when IoBB ≥ T, for T in 0.1 … 0.7."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cxrviz.data.boxes import Box, box_from_heatmap, iobb, iou, scale_box
from cxrviz.data.image_index import ImageIndex
from cxrviz.data.imaging import load_gray
from cxrviz.explain.cam import heatmap
from cxrviz.findings import FINDINGS
from cxrviz.model.registry import LoadedModel

IOBB_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def box_scores(model: LoadedModel, boxes: pd.DataFrame, index: ImageIndex, method: str = "GradCAM",
               fraction: float = 0.5, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """One row per ground-truth box of a locally present image: IoU and IoBB of the CAM box."""
    present = boxes[boxes["image"].isin(list(index.paths))]
    rows = []
    for n, box in enumerate(present.itertuples(), start=1):
        gray = load_gray(index.paths[box.image])
        truth = scale_box(Box(box.x, box.y, box.w, box.h), gray.shape[1], gray.shape[0])
        derived = box_from_heatmap(heatmap(model, gray, FINDINGS.index(box.finding), method), fraction)
        rows.append({
            "image": box.image, "finding": box.finding,
            "iou": iou(derived, truth) if derived else 0.0, "iobb": iobb(derived, truth) if derived else 0.0,
        })
        if progress:
            progress(n, len(present))
    return pd.DataFrame(rows, columns=["image", "finding", "iou", "iobb"])


def accuracy_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Rows: findings with boxes, then "all"; columns: boxes and accuracy at each T(IoBB)."""
    def row(group: pd.DataFrame) -> dict:
        return {"boxes": len(group), **{f"T(IoBB)={t:.1f}": float(np.mean(group["iobb"] >= t)) for t in IOBB_THRESHOLDS}}

    table = {finding: row(group) for finding, group in scores.groupby("finding")}
    if len(scores):
        table["all"] = row(scores)
    return pd.DataFrame.from_dict(table, orient="index")
