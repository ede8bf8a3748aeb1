"""One Frame for every view: a box drawn on the viewer's canvas (at any zoom, centre and canvas
width) and a box placed on the quiz's image land at the same original-frame coordinates.

The check goes through the pixels the reader sees: an NIH box is rendered by the one renderer
(`image_view.render`, used by the viewer, its canvas and the quiz), found again in the picture as
its green outline, and that rectangle is turned back into image pixels the way a drawn rectangle
is (`box_editor.canvas_boxes` for the canvas, `Frame.to_original` for the quiz's image)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cxrviz.app import box_editor, image_view
from cxrviz.data.boxes import Box
from cxrviz.data.frames import Frame
from cxrviz.data.imaging import load_gray
from cxrviz.explain.render import TRUTH_COLOUR
from tests.conftest import BOXED_1024, SMALL_512

NIH_BOX = Box(540, 380, 120, 100)  # in the 1024 frame: inside every crop below
VIEWS = [(1.0, (0.5, 0.5)), (2.0, (0.5, 0.5)), (2.0, (0.6, 0.45)), (4.0, (0.6, 0.45)), (4.0, (0.62, 0.4))]


class _Drawn:  # what st_canvas returns, as far as `canvas_boxes` reads it
    def __init__(self, boxes):
        self.boxes = boxes


def _green_outline(rgb: np.ndarray) -> Box:
    """The bounding rectangle of the truth colour's pixels, in the picture's pixels."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    ys, xs = np.nonzero((g > 150) & (r < 110) & (b < 110) & (g - r > 80))
    assert len(xs), "the box is not in the picture"
    return Box(float(xs.min()), float(ys.min()), float(xs.max() + 1 - xs.min()), float(ys.max() + 1 - ys.min()))


def _close(a: Box, b: Box, tol: float) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a, b))


@pytest.fixture(scope="module", params=[SMALL_512, BOXED_1024])
def gray(request, nih_images):
    array = load_gray(nih_images / request.param)
    assert array.shape[1] == (512 if request.param == SMALL_512 else 1024)  # the file's own size is the array's
    return array


@pytest.mark.parametrize("zoom,centre", VIEWS)
def test_a_box_drawn_on_the_viewer_canvas_lands_at_its_original_place(gray, zoom, centre):
    whole = Frame.of(gray.shape)
    truth = whole.from_nih(NIH_BOX)
    view = image_view.View(zoom=zoom, centre=centre)
    png = image_view.render(gray, None, ("frames", gray.shape), (((*truth,), "", TRUTH_COLOUR),), view)
    for width in (500, 720):
        frame = view.frame(gray.shape, width)
        background = box_editor.canvas_background(png, frame)
        assert background.width == width
        seen = _green_outline(np.asarray(background))
        # the reader traces the outline they see: the canvas reports it in its own pixels
        [(label, got)] = box_editor.canvas_boxes(_Drawn([{"label": "Mass", "left": seen.x, "top": seen.y,
                                                            "width": seen.w, "height": seen.h}]), frame)
        tolerance = 2 * frame.scale + 1  # two screen pixels of resampling blur
        assert label == "Mass" and _close(got, truth, tolerance), (zoom, centre, width, got, truth)
        assert _close(frame.to_nih(got), NIH_BOX, tolerance * 1024 / gray.shape[1])


@pytest.mark.parametrize("zoom,centre", VIEWS)
def test_the_quiz_image_shows_the_box_where_the_viewer_does(gray, zoom, centre):
    truth = Frame.of(gray.shape).from_nih(NIH_BOX)
    view = image_view.View(zoom=zoom, centre=centre, level=0.4, width=0.8)
    png = image_view.render(gray, None, ("quiz", gray.shape), (((*truth,), "", TRUTH_COLOUR),), view, 0.0)
    picture = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    frame = view.frame(gray.shape)  # the PNG at the crop's own size
    assert picture.shape[:2] == (round(frame.display_height), frame.crop()[2])
    assert _close(frame.to_original(_green_outline(picture)), truth, 1.0)


def test_a_stored_box_of_one_file_size_is_drawn_in_another_at_the_same_place():
    from cxrviz.review.boxes import ReviewerBox

    kept = ReviewerBox("a.png", "ann", "Mass", 270, 190, 60, 50, 512, 512)
    assert kept.in_frame(Frame(1024, 1024)) == Box(540, 380, 120, 100)
    assert kept.in_nih_frame() == Box(540, 380, 120, 100)
    assert Frame(2500, 2048).from_nih(Box(512, 512, 1024, 1024)) == Box(1250, 1024, 2500, 2048)


def test_the_view_controls_are_written_once_under_cxrviz_app():
    import ast

    from tests.conftest import REPO

    where = []
    for path in sorted((REPO / "cxrviz" / "app").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in ("Window level", "Window width", "Zoom", "Centre x", "Invert"):
                where.append((path.name, node.value))
    assert sorted(where) == sorted(("image_view.py", label) for label in ("Window level", "Window width", "Zoom", "Centre x", "Invert"))
