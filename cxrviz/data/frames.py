"""The coordinate frames of one image, in one place: the NIH table's 1024-px frame, the image's own
pixels (the file's size, which is also the decoded array's: `imaging.load_gray` never resizes),
the crop that zoom and centre select, and the display that crop is drawn at.

Everything that crops an image for the screen, places a box on it, or turns a rectangle drawn on
the screen back into image pixels goes through `Frame`: the viewer, its drawing canvas, the quiz
and the stored boxes then agree to the pixel on where a box is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxrviz.data.boxes import NIH_FRAME, Box


@dataclass(frozen=True)
class Frame:
    """An image of `width` × `height` original pixels, of which `zoom` (1 to 4) and `centre`
    (fractions of the image) select a crop, shown `display_width` screen pixels wide (None: at the
    crop's own size, as the rendered PNG is before the browser scales it)."""

    width: int
    height: int
    display_width: float | None = None
    zoom: float = 1.0
    centre: tuple[float, float] = (0.5, 0.5)

    @classmethod
    def of(cls, shape: tuple[int, ...], display_width: float | None = None, zoom: float = 1.0,
           centre: tuple[float, float] = (0.5, 0.5)) -> Frame:
        """The frame of an array of `shape` (rows, columns)."""
        return cls(int(shape[1]), int(shape[0]), display_width, zoom, centre)

    # ---- the crop -----------------------------------------------------------------------

    def crop(self) -> tuple[int, int, int, int]:
        """(left, top, crop width, crop height) in original pixels; the crop is pushed back inside
        the image near an edge, so it never shrinks."""
        if self.zoom <= 1:
            return 0, 0, self.width, self.height
        ch, cw = int(self.height / self.zoom), int(self.width / self.zoom)
        top = int(np.clip(self.centre[1] * self.height - ch / 2, 0, self.height - ch))
        left = int(np.clip(self.centre[0] * self.width - cw / 2, 0, self.width - cw))
        return left, top, cw, ch

    def crop_array(self, array: np.ndarray | None) -> np.ndarray | None:
        """The part of an array of this image (the X-ray, a heatmap) that the crop shows."""
        if array is None:
            return None
        left, top, cw, ch = self.crop()
        return array[top : top + ch, left : left + cw]

    def to_crop(self, box: Box) -> Box:
        """A box in original pixels, in the crop's own pixels (where the renderer draws it)."""
        left, top, _, _ = self.crop()
        return Box(box.x - left, box.y - top, box.w, box.h)

    # ---- the display --------------------------------------------------------------------

    @property
    def scale(self) -> float:
        """Original pixels per display pixel (the crop keeps its aspect ratio)."""
        return 1.0 if self.display_width is None else self.crop()[2] / self.display_width

    @property
    def display_height(self) -> float:
        _, _, cw, ch = self.crop()
        return (self.display_width or cw) * ch / cw

    def to_original(self, box: Box) -> Box:
        """A rectangle on the display (a drawing canvas, a click) in original pixels."""
        left, top, _, _ = self.crop()
        s = self.scale
        return Box(left + box.x * s, top + box.y * s, box.w * s, box.h * s)

    def to_display(self, box: Box) -> Box:
        left, top, _, _ = self.crop()
        s = self.scale
        return Box((box.x - left) / s, (box.y - top) / s, box.w / s, box.h / s)

    # ---- other frames of the same image -------------------------------------------------

    def from_frame(self, box: Box, frame_width: float, frame_height: float) -> Box:
        """A box given in a `frame_width` × `frame_height` frame of this image, in original pixels."""
        sx, sy = self.width / frame_width, self.height / frame_height
        return Box(box.x * sx, box.y * sy, box.w * sx, box.h * sy)

    def to_frame(self, box: Box, frame_width: float, frame_height: float) -> Box:
        sx, sy = frame_width / self.width, frame_height / self.height
        return Box(box.x * sx, box.y * sy, box.w * sx, box.h * sy)

    def from_nih(self, box: Box) -> Box:
        """A box of BBox_List_2017.csv (1024 × 1024 frame) in original pixels."""
        return self.from_frame(box, NIH_FRAME, NIH_FRAME)

    def to_nih(self, box: Box) -> Box:
        return self.to_frame(box, NIH_FRAME, NIH_FRAME)

    def zoomed(self, zoom: float, centre: tuple[float, float], display_width: float | None = None) -> Frame:
        return Frame(self.width, self.height, display_width, zoom, centre)
