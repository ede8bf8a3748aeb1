"""Measurements a reader makes on an image: a length (two points) and a cardiothoracic ratio
(the heart's widest width over the thorax's widest inner width, each a horizontal segment).

Like reviewer boxes, a measurement lives in the image's ORIGINAL frame (`frame_width` ×
`frame_height`: 1024 for NIH images, the file's own size otherwise), whatever zoom it was drawn at.
`spacing_mm` is millimetres per pixel of that frame (column spacing, row spacing), or None when the
image carries none: a length is then given in pixels, never in invented millimetres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MEASUREMENT_KINDS = ("length", "ctr")
CTR_NORMAL_LIMIT = 0.5  # on a PA view; an AP view magnifies the heart


@dataclass(frozen=True)
class Measurement:
    image: str
    reviewer: str
    kind: str  # "length" | "ctr"
    # length: ((x1, y1), (x2, y2)); ctr: ((heart left), (heart right), (thorax left), (thorax right))
    points: tuple[tuple[float, float], ...]
    frame_width: int
    frame_height: int
    spacing_mm: tuple[float, float] | None = None  # (mm per column, mm per row) of this frame
    view: str | None = None  # "PA" / "AP" when known (the CTR's reading depends on it)
    id: int | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def unit(self) -> str:
        if self.kind == "ctr":
            return "ratio"
        return "mm" if self.spacing_mm else "px"

    @property
    def value(self) -> float:
        """The length (mm with spacing, else pixels) or the ratio heart width / thorax width."""
        if self.kind == "ctr":
            (h1, h2, t1, t2) = self.points
            thorax = abs(t2[0] - t1[0])
            return abs(h2[0] - h1[0]) / thorax if thorax else float("nan")
        (x1, y1), (x2, y2) = self.points
        sx, sy = self.spacing_mm or (1.0, 1.0)
        return math.hypot((x2 - x1) * sx, (y2 - y1) * sy)
