"""The CAM summary of batch predictions (`python -m cxrviz predict --cam-summary`).

For each chosen finding of an image, the GradCAM map the app's viewer shows (`cam.heatmap`, at
the image's own size) is reduced to its box and peak, in the original image's pixel frame:

- the box: `box_from_heatmap` at its default fraction (the largest connected region at or above
  half the peak), the same yellow "CAM" box the viewer draws;
- the peak: the hottest pixel inside that box. It is the map's global maximum unless a smaller,
  hotter region lies outside the box (3 of 86 maps on the shared images); where the maximum is a
  plateau (bilinear upsampling flattens the map within half a cell of the border), the plateau's
  pixel nearest its centre.

One row's summary is a JSON object, finding -> {"peak_x", "peak_y", "box_x", "box_y", "box_w",
"box_h"} (integer pixels; x from the left, y from the top), in the order of FINDINGS; a finding
maps to null when its map is flat (GradCAM found no positive evidence: no peak, no box), and the
object is {} when no finding was chosen. The chosen findings are those whose probability is at
or above the model's operating threshold (a NaN threshold never is), all 14, or a given list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import torch

from cxrviz.data.boxes import box_from_heatmap
from cxrviz.errors import CxrvizError
from cxrviz.explain.cam import heatmap_from_input
from cxrviz.findings import FINDINGS
from cxrviz.model.registry import LoadedModel

KEYS = ("peak_x", "peak_y", "box_x", "box_y", "box_w", "box_h")
THRESHOLD, ALL = "threshold", "all"
_PLATEAU = 1e-5  # values this close to the maximum (maps are in [0, 1]) are part of its plateau


def parse_findings(text: str) -> str | tuple[str, ...]:
    """'threshold', 'all' or a comma-separated list of findings (names as in FINDINGS, any case)."""
    text = (text or "").strip()
    if text.lower() in (THRESHOLD, ALL):
        return text.lower()
    by_lower = {f.lower(): f for f in FINDINGS}
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n.lower() not in by_lower]
    if not names or unknown:
        raise CxrvizError(f"Unknown finding(s) {', '.join(unknown) or repr(text)}: give 'threshold', 'all' or some of "
                          f"{', '.join(FINDINGS)}, separated by commas.")
    return tuple(dict.fromkeys(by_lower[n.lower()] for n in names))


def chosen_findings(probs: np.ndarray, thresholds: np.ndarray, findings: str | tuple[str, ...]) -> list[int]:
    """Indices (into FINDINGS) of the findings to summarise for one image."""
    if findings == ALL:
        return list(range(len(FINDINGS)))
    if findings == THRESHOLD:
        return [k for k in range(len(FINDINGS)) if probs[k] >= thresholds[k]]  # False for a NaN threshold
    return sorted(FINDINGS.index(f) for f in findings)


def summarise_map(cam: np.ndarray) -> dict[str, int] | None:
    """A map's box and the peak inside it, integer pixels in the map's frame; None for a flat map."""
    box = box_from_heatmap(cam)
    if box is None:
        return None
    x0, y0, w, h = int(box.x), int(box.y), int(box.w), int(box.h)
    inside = cam[y0 : y0 + h, x0 : x0 + w]
    rows, cols = np.nonzero(inside >= float(inside.max()) - _PLATEAU)
    nearest = int(np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2))
    return {"peak_x": x0 + int(cols[nearest]), "peak_y": y0 + int(rows[nearest]), "box_x": x0, "box_y": y0, "box_w": w, "box_h": h}


@dataclass(frozen=True)
class CamSummary:
    """What the batch engines call per readable image (picklable, so Ray actors get it too)."""

    findings: str | tuple[str, ...] = THRESHOLD
    method: str = "GradCAM"

    def __call__(self, model: LoadedModel, inputs: torch.Tensor, shape: tuple[int, int], probs: np.ndarray) -> str:
        """The row's JSON summary; `inputs` is the image's (1, C, S, S) model input, `shape` its (H, W)."""
        summary = {}
        for k in chosen_findings(probs, model.thresholds, self.findings):
            summary[FINDINGS[k]] = summarise_map(heatmap_from_input(model, inputs, shape, k, self.method))
        return json.dumps(summary, separators=(",", ":"))


def read_summary(value) -> dict[str, dict[str, int] | None]:
    """A row's summary back as a dict; {} for a row without one (an unreadable image)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return {}
    return json.loads(value)
