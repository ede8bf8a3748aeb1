"""Measurements a reader makes on an image: a length (two points) and a cardiothoracic ratio
(the heart's widest width over the thorax's widest inner width, each a horizontal segment).

Like reviewer boxes, a measurement lives in the image's ORIGINAL frame (`frame_width` ×
`frame_height`: 1024 for NIH images, the file's own size otherwise), whatever zoom it was drawn at.
`spacing_mm` is millimetres per pixel of that frame (column spacing, row spacing), or None when the
image carries none: a length is then given in pixels, never in invented millimetres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from cxrviz.data.boxes import Box
from cxrviz.data.frames import Frame
from cxrviz.errors import CxrvizError

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


# ---- pixel spacing ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Spacing:
    """Millimetres per pixel of one image file's frame (column = horizontal, row = vertical) and
    where the figure came from, said to the reader beside every length."""

    mm_per_column: float
    mm_per_row: float
    source: str

    @property
    def pair(self) -> tuple[float, float]:
        return (self.mm_per_column, self.mm_per_row)


def _positive(*values) -> bool:
    try:
        return all(v is not None and math.isfinite(float(v)) and float(v) > 0 for v in values)
    except (TypeError, ValueError):
        return False


def nih_spacing(original_width, original_height, spacing_x, spacing_y, frame_width: int, frame_height: int) -> Spacing | None:
    """mm per pixel of a `frame_width` × `frame_height` file of an NIH image.

    The metadata's `OriginalImagePixelSpacing[x, y]` is mm per pixel of the ORIGINAL acquisition,
    `OriginalImage[Width, Height]` pixels (e.g. 2500 × 2048 at 0.171 mm). NIH resized every
    acquisition to a 1024 × 1024 PNG, stretching each axis on its own (the originals are rarely
    square), and the shared 512-px copies halve that again. So one pixel of the file spans
    `spacing_x × original_width / frame_width` mm across and `spacing_y × original_height /
    frame_height` mm down: 0.171 × 2500 / 1024 = 0.417 mm and 0.171 × 2048 / 1024 = 0.342 mm for
    that example. None when any of the four figures is missing or not a positive number.

    Checked against the columns themselves: width × spacing_x over all 112,120 rows has median
    420 mm (quartiles 393–428) and height × spacing_y median 354 mm (344–428), the 43 × 35 cm
    detector of a chest radiograph, so the spacing is per ORIGINAL pixel; per 1024-px pixel the
    field would be about 150 mm wide."""
    if not _positive(original_width, original_height, spacing_x, spacing_y, frame_width, frame_height):
        return None
    return Spacing(float(spacing_x) * float(original_width) / frame_width, float(spacing_y) * float(original_height) / frame_height,
                   "NIH metadata (OriginalImagePixelSpacing, scaled to this file's size)")


def spacing_of_nih_image(metadata, image: str, shape: tuple[int, ...]) -> Spacing | None:
    """`nih_spacing` of `image` (a `data.metadata.Metadata` row) for a file decoded to `shape`."""
    row = metadata.row_of(image) if metadata is not None else None
    if row is None:
        return None
    r = metadata.table.iloc[row]
    return nih_spacing(r["width"], r["height"], r["spacing_x"], r["spacing_y"], int(shape[1]), int(shape[0]))


def view_of_nih_image(metadata, image: str) -> str | None:
    row = metadata.row_of(image) if metadata is not None else None
    return None if row is None else normal_view(metadata.table.iloc[row]["view"])


def normal_view(view) -> str | None:
    """"PA" or "AP" (DICOM ViewPosition or the NIH column), else None."""
    text = str(view or "").strip().upper()
    return text if text in ("PA", "AP") else None


def _pair(ds, keyword: str) -> tuple[float, float] | None:
    value = ds.get(keyword) if hasattr(ds, "get") else None
    try:
        values = [float(v) for v in value] if value is not None and not isinstance(value, (str, bytes)) else None
    except (TypeError, ValueError):
        return None
    return (values[0], values[1]) if values and len(values) == 2 and _positive(*values) else None


def dicom_spacing(ds, frame_width: int, frame_height: int) -> Spacing | None:
    """mm per pixel of the `frame_width` × `frame_height` array decoded from DICOM dataset `ds`.

    `PixelSpacing` (0028,0030) first: the spacing in the patient, corrected for magnification
    where the modality did so; else `ImagerPixelSpacing` (0018,1164), at the detector (an X-ray's
    magnification, ~10 % on a PA chest, is then not taken out). Both are given in DICOM's
    (row spacing, column spacing) order: the first value is mm between ROWS (vertical), the
    second between COLUMNS (horizontal). A decoded array smaller than `Rows` × `Columns` (a very
    large upload is shrunk) spans more mm per pixel, in proportion."""
    for keyword, what in (("PixelSpacing", "DICOM PixelSpacing"), ("ImagerPixelSpacing", "DICOM ImagerPixelSpacing (at the detector)")):
        pair = _pair(ds, keyword)
        if pair is None:
            continue
        row_mm, column_mm = pair
        try:
            rows, columns = int(ds.get("Rows") or frame_height), int(ds.get("Columns") or frame_width)
        except (TypeError, ValueError):
            rows, columns = frame_height, frame_width
        return Spacing(column_mm * columns / frame_width, row_mm * rows / frame_height, what)
    return None


def spacing_of_dicom_bytes(data: bytes, shape: tuple[int, ...]) -> Spacing | None:
    """`dicom_spacing` of an uploaded file's header (None for a file that is not DICOM). Called
    after `data.uploads.decode_upload` accepted the file (its size and inflation checks passed)."""
    import io

    import pydicom
    from pydicom.errors import InvalidDicomError

    from cxrviz.data.uploads import is_dicom

    if not is_dicom(data):
        return None
    try:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, TypeError, AttributeError, KeyError):
        return None
    return dicom_spacing(ds, int(shape[1]), int(shape[0]))


# ---- the rules a measurement must pass ----------------------------------------------------------

MIN_LENGTH_PX = 2.0  # in the measurement's frame: shorter is a click, not a line
MAX_CTR_SLANT_DEGREES = 10.0  # a CTR width drawn more slanted than this is refused, not straightened


class MeasurementError(CxrvizError):
    """A measurement that cannot be kept: outside the image, no length, a CTR that is not two
    horizontal widths with the heart inside the thorax, or someone else's to delete."""


def _point(p) -> tuple[float, float]:
    return (float(p[0]), float(p[1]))


def check_measurement(m: Measurement) -> Measurement:
    """The measurement as kept, or `MeasurementError` with a sentence for the reader.

    Every point must lie inside the `frame_width` × `frame_height` image; a segment must be at
    least `MIN_LENGTH_PX` long. A CTR is two horizontal segments, the heart's widest width first,
    then the thorax's inner width: a hand-drawn width is never exactly level, so each segment's y
    becomes the mean of its two points' (its x-extent is what the ratio uses), and one slanted by
    more than `MAX_CTR_SLANT_DEGREES` is refused instead. The heart's segment must lie within the
    thorax's, left to right. The points come back ordered left to right within each segment."""
    if m.kind not in MEASUREMENT_KINDS:
        raise MeasurementError(f"Unknown measurement kind {m.kind!r}; cxrviz measures a length or a cardiothoracic ratio.")
    if not (isinstance(m.frame_width, int) and isinstance(m.frame_height, int)) or m.frame_width < 1 or m.frame_height < 1:
        raise MeasurementError("The measurement has no image size to place it in.")
    wanted = 2 if m.kind == "length" else 4
    if len(m.points) != wanted:
        raise MeasurementError("A length is one line (two end points)." if m.kind == "length" else
                               "A cardiothoracic ratio is two lines: first the heart's widest width, then the thorax's inner width.")
    points = [_point(p) for p in m.points]
    for x, y in points:
        if not (math.isfinite(x) and math.isfinite(y)) or not (0 <= x <= m.frame_width and 0 <= y <= m.frame_height):
            raise MeasurementError(f"A line ends outside the image (at x={x:.0f}, y={y:.0f} of {m.frame_width} × {m.frame_height} px); "
                                   "draw it on the X-ray itself.")
    segments = [points[i:i + 2] for i in range(0, len(points), 2)]
    names = ["The line"] if m.kind == "length" else ["The heart's line", "The thorax's line"]
    for name, ((x1, y1), (x2, y2)) in zip(names, segments):
        if math.hypot(x2 - x1, y2 - y1) < MIN_LENGTH_PX:
            raise MeasurementError(f"{name} has no length (its two ends are the same point); drag from one end to the other.")
    if m.kind == "length":
        return replace(m, points=tuple(points))
    level = []
    for name, ((x1, y1), (x2, y2)) in zip(names, segments):
        slant = math.degrees(math.atan2(abs(y2 - y1), abs(x2 - x1)))
        if slant > MAX_CTR_SLANT_DEGREES:
            raise MeasurementError(f"{name} is {slant:.0f}° off horizontal; a cardiothoracic ratio compares horizontal widths, "
                                   f"so draw it across (within {MAX_CTR_SLANT_DEGREES:.0f}°).")
        y = (y1 + y2) / 2
        level.append(((min(x1, x2), y), (max(x1, x2), y)))
    (h1, h2), (t1, t2) = level
    if h1[0] < t1[0] or h2[0] > t2[0]:
        raise MeasurementError("The heart's width reaches outside the thorax's: draw the heart first, then the thorax's inner "
                               "width (rib to rib), which must span it.")
    return replace(m, points=(h1, h2, t1, t2))


# ---- what a measurement says ----------------------------------------------------------------------

def ctr_reading(ratio: float, view: str | None) -> str:
    """The sentence beside a cardiothoracic ratio: against 0.5 on a PA view only."""
    figure = f"{ratio:.2f}"
    view = normal_view(view)
    if view == "AP":
        return f"{figure}: AP views magnify the heart; 0.5 does not apply"
    if view == "PA":
        side = "above" if ratio > CTR_NORMAL_LIMIT else "at or below"
        return f"{figure}: {side} {CTR_NORMAL_LIMIT} on a PA view"
    return f"{figure}: view unknown; 0.5 applies to a PA view only (AP views magnify the heart)"


def value_text(m: Measurement) -> str:
    """The figure with its unit: "123.4 mm", "245 px (no spacing: pixels)", "0.56"."""
    if m.kind == "ctr":
        return f"{m.value:.2f}"
    if m.spacing_mm:
        return f"{m.value:.1f} mm"
    return f"{m.value:.0f} px (no spacing: pixels)"


def reading(m: Measurement) -> str:
    """What the figure means: the CTR's comparison with 0.5, a length's ends in pixels."""
    if m.kind == "ctr":
        return ctr_reading(m.value, m.view)
    (x1, y1), (x2, y2) = m.points
    return f"from ({x1:.0f}, {y1:.0f}) to ({x2:.0f}, {y2:.0f}) px"


# ---- display <-> original ------------------------------------------------------------------------

def from_display(image: str, reviewer: str, kind: str, display_points, frame: Frame, spacing: Spacing | None,
                 view: str | None = None) -> Measurement:
    """A measurement drawn on the screen (points in display pixels of `frame`: a zoomed crop at the
    canvas's width), in the image's original frame (`frame.width` × `frame.height`), checked. A
    line drawn at zoom 2 lands at the same original points as the same line drawn at zoom 1."""
    points = []
    for x, y in display_points:
        at = frame.to_original(Box(float(x), float(y), 0.0, 0.0))
        points.append((at.x, at.y))
    return check_measurement(Measurement(image, reviewer, kind, tuple(points), frame.width, frame.height,
                                         spacing.pair if spacing else None, normal_view(view)))


def in_frame(m: Measurement, frame: Frame) -> tuple[tuple[float, float], ...]:
    """The measurement's points in the original pixels of `frame` (the same image at its decoded size)."""
    sx, sy = frame.width / m.frame_width, frame.height / m.frame_height
    return tuple((x * sx, y * sy) for x, y in m.points)


def to_display(m: Measurement, frame: Frame) -> tuple[tuple[float, float], ...]:
    """The measurement's points on the display `frame` shows (for drawing it on the canvas or crop)."""
    shown = []
    for x, y in in_frame(m, frame):
        at = frame.to_display(Box(x, y, 0.0, 0.0))
        shown.append((at.x, at.y))
    return tuple(shown)


# ---- the export --------------------------------------------------------------------------------

CSV_COLUMNS = ("image", "reviewer", "id", "kind", "value", "unit", "reading", "view", "points", "frame_width", "frame_height",
               "mm_per_column", "mm_per_row", "created_at", "updated_at")


def measurements_csv(measurements: list[Measurement]) -> bytes:
    """One row per measurement, oldest first per image (UTF-8, CSV-formula cells neutralised):
    `value` in `unit` (mm, px or ratio); `reading` the CTR's comparison with 0.5 (or a length's
    ends); `points` "x1 y1;x2 y2[;x3 y3;x4 y4]" in the `frame_width` × `frame_height` frame
    (a CTR: heart left, heart right, thorax left, thorax right); `mm_per_column`/`mm_per_row`
    the spacing used, blank when the image had none."""
    import csv
    import io

    from cxrviz.review.export import neutralise

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for m in sorted(measurements, key=lambda m: (m.image, m.created_at or "", m.id or 0)):
        sx, sy = m.spacing_mm or ("", "")
        writer.writerow([neutralise(c) for c in (
            m.image, m.reviewer, m.id if m.id is not None else "", m.kind, f"{m.value:.4f}" if m.kind == "ctr" else f"{m.value:.2f}",
            m.unit, reading(m), m.view or "", ";".join(f"{x:.2f} {y:.2f}" for x, y in m.points), m.frame_width, m.frame_height,
            f"{sx:.6f}" if sx != "" else "", f"{sy:.6f}" if sy != "" else "", m.created_at or "", m.updated_at or "")])
    return out.getvalue().encode("utf-8")
