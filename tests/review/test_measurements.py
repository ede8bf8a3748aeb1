"""Measurements on real shared images, figures computed by hand: a length in mm from the NIH
metadata's spacing (a 1024 original and a 512 copy, whose pixels are not square), from an upload's
DICOM PixelSpacing (row, column order) or ImagerPixelSpacing, in pixels without spacing; the
cardiothoracic ratio and its reading; every refusal's sentence; and the same original points from
a line drawn at zoom 2 as at zoom 1."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from cxrviz.data.frames import Frame
from cxrviz.data.imaging import load_gray
from cxrviz.data.uploads import decode_upload
from cxrviz.review.measurements import (
    Measurement,
    MeasurementError,
    check_measurement,
    ctr_reading,
    from_display,
    measurements_csv,
    nih_spacing,
    reading,
    spacing_of_dicom_bytes,
    spacing_of_nih_image,
    to_display,
    value_text,
    view_of_nih_image,
)
from tests.conftest import BOXED_1024, SMALL_512
from tests.dicom_factory import make_dicom


def _length(image, shape, points, spacing, reviewer="dr a"):
    return check_measurement(Measurement(image, reviewer, "length", points, shape[1], shape[0], spacing.pair if spacing else None))


def test_a_length_in_mm_on_a_1024_original_from_the_nih_metadata(metadata, nih_images):
    gray = load_gray(nih_images / BOXED_1024)
    assert gray.shape == (1024, 1024)
    spacing = spacing_of_nih_image(metadata, BOXED_1024, gray.shape)
    # Data_Entry_2017: OriginalImage 2021 x 2021 at 0.194311 mm; the PNG is 1024 px: 0.194311 * 2021 / 1024 mm per pixel
    assert spacing.mm_per_column == pytest.approx(0.383499, abs=1e-6) and spacing.mm_per_row == pytest.approx(0.383499, abs=1e-6)
    m = _length(BOXED_1024, gray.shape, ((200.0, 500.0), (500.0, 500.0)), spacing)
    assert m.unit == "mm" and m.value == pytest.approx(115.05, abs=0.01)  # 300 px * 0.383499
    assert value_text(m) == "115.0 mm"
    assert view_of_nih_image(metadata, BOXED_1024) == "PA"


def test_a_length_on_a_512_copy_whose_pixels_are_not_square(metadata, nih_images):
    gray = load_gray(nih_images / SMALL_512)
    assert gray.shape == (512, 512)
    spacing = spacing_of_nih_image(metadata, SMALL_512, gray.shape)
    # OriginalImage 2048 wide x 2500 high at 0.171 mm, stretched to a square: 0.171*2048/512 across, 0.171*2500/512 down
    assert spacing.pair == pytest.approx((0.684, 0.8349609375))
    m = _length(SMALL_512, gray.shape, ((100.0, 100.0), (130.0, 140.0)), spacing)
    assert m.value == pytest.approx(math.hypot(30 * 0.684, 40 * 0.8349609375)) and m.value == pytest.approx(39.198, abs=0.001)
    assert nih_spacing(2048, 2500, float("nan"), 0.171, 512, 512) is None and nih_spacing(0, 2500, 0.171, 0.171, 512, 512) is None


def test_an_upload_dicom_pixel_spacing_is_row_then_column(nih_images):
    pixels = (load_gray(nih_images / SMALL_512) * 4095).astype(np.uint16)[:400, :300]  # 400 rows x 300 columns of a real X-ray
    data = make_dicom(pixels, extra={"PixelSpacing": [0.2, 0.1]})  # 0.2 mm between rows, 0.1 mm between columns
    decoded = decode_upload(data, "chest.dcm")
    spacing = spacing_of_dicom_bytes(data, decoded.gray.shape)
    assert spacing.pair == (0.1, 0.2) and spacing.source == "DICOM PixelSpacing"
    shape = decoded.gray.shape
    across = _length("chest.dcm", shape, ((10.0, 50.0), (110.0, 50.0)), spacing)
    down = _length("chest.dcm", shape, ((10.0, 50.0), (10.0, 150.0)), spacing)
    assert (across.value, down.value) == (pytest.approx(10.0), pytest.approx(20.0))

    detector = make_dicom(pixels, extra={"ImagerPixelSpacing": [0.15, 0.15]})
    s = spacing_of_dicom_bytes(detector, shape)
    assert s.pair == (0.15, 0.15) and "ImagerPixelSpacing" in s.source
    both = make_dicom(pixels, extra={"PixelSpacing": [0.2, 0.1], "ImagerPixelSpacing": [0.15, 0.15]})
    assert spacing_of_dicom_bytes(both, shape).pair == (0.1, 0.2)  # PixelSpacing wins: it is in the patient's plane
    # the decoded array is shrunk for a huge file: each of its pixels spans more millimetres
    assert spacing_of_dicom_bytes(data, (200, 150)).pair == (0.2, 0.4)


def test_no_spacing_gives_pixels_never_invented_millimetres(nih_images):
    png = (nih_images / SMALL_512).read_bytes()
    decoded = decode_upload(png, SMALL_512)
    assert spacing_of_dicom_bytes(png, decoded.gray.shape) is None  # a PNG upload carries no spacing
    plain_dicom = make_dicom((decoded.gray * 4095).astype(np.uint16))
    assert spacing_of_dicom_bytes(plain_dicom, decoded.gray.shape) is None
    m = _length("upload.png", decoded.gray.shape, ((0.0, 0.0), (30.0, 40.0)), None)
    assert (m.value, m.unit, value_text(m)) == (50.0, "px", "50 px (no spacing: pixels)")
    assert spacing_of_nih_image(None, SMALL_512, (512, 512)) is None


def _ctr(points, view="PA", shape=(1024, 1024)):
    return check_measurement(Measurement(BOXED_1024, "dr a", "ctr", points, shape[1], shape[0], None, view))


def test_the_cardiothoracic_ratio_and_its_reading(nih_images):
    gray = load_gray(nih_images / BOXED_1024)  # boxed Cardiomegaly, PA
    # heart 560 px wide at y 600 (drawn slightly slanted), thorax inner width 1000 px at y 500
    m = check_measurement(Measurement(BOXED_1024, "dr a", "ctr", ((230.0, 598.0), (790.0, 602.0), (12.0, 500.0), (1012.0, 500.0)),
                                      gray.shape[1], gray.shape[0], None, "PA"))
    assert m.points[:2] == ((230.0, 600.0), (790.0, 600.0))  # each width is levelled at its mean y
    assert m.value == pytest.approx(0.56) and m.unit == "ratio"
    assert reading(m) == "0.56: above 0.5 on a PA view"
    # drawn right to left, the ratio is the same
    back = _ctr(((790.0, 600.0), (230.0, 600.0), (1012.0, 500.0), (12.0, 500.0)))
    assert back.value == pytest.approx(0.56) and back.points[0] == (230.0, 600.0)
    assert ctr_reading(0.45, "PA") == "0.45: at or below 0.5 on a PA view"
    assert ctr_reading(0.5, "pa") == "0.50: at or below 0.5 on a PA view"
    assert ctr_reading(0.56, "AP") == "0.56: AP views magnify the heart; 0.5 does not apply"
    assert ctr_reading(0.56, None) == "0.56: view unknown; 0.5 applies to a PA view only (AP views magnify the heart)"


@pytest.mark.parametrize(("measurement", "sentence"), [
    (Measurement("a.png", "r", "length", ((10.0, 10.0), (1030.0, 10.0)), 1024, 1024),
     "A line ends outside the image (at x=1030, y=10 of 1024 × 1024 px); draw it on the X-ray itself."),
    (Measurement("a.png", "r", "length", ((10.0, 10.0), (10.5, 10.5)), 1024, 1024),
     "The line has no length (its two ends are the same point); drag from one end to the other."),
    (Measurement("a.png", "r", "length", ((10.0, 10.0),), 1024, 1024), "A length is one line (two end points)."),
    (Measurement("a.png", "r", "ctr", ((10.0, 10.0), (50.0, 10.0)), 1024, 1024),
     "A cardiothoracic ratio is two lines: first the heart's widest width, then the thorax's inner width."),
    (Measurement("a.png", "r", "ctr", ((300.0, 500.0), (700.0, 600.0), (100.0, 500.0), (900.0, 500.0)), 1024, 1024),
     "The heart's line is 14° off horizontal; a cardiothoracic ratio compares horizontal widths, so draw it across (within 10°)."),
    (Measurement("a.png", "r", "ctr", ((300.0, 500.0), (700.0, 500.0), (100.0, 400.0), (900.0, 600.0)), 1024, 1024),
     "The thorax's line is 14° off horizontal; a cardiothoracic ratio compares horizontal widths, so draw it across (within 10°)."),
    (Measurement("a.png", "r", "ctr", ((100.0, 500.0), (900.0, 500.0), (300.0, 400.0), (700.0, 400.0)), 1024, 1024),
     "The heart's width reaches outside the thorax's: draw the heart first, then the thorax's inner width (rib to rib), "
     "which must span it."),
    (Measurement("a.png", "r", "ctr", ((300.0, 500.0), (300.0, 500.0), (100.0, 400.0), (900.0, 400.0)), 1024, 1024),
     "The heart's line has no length (its two ends are the same point); drag from one end to the other."),
    (Measurement("a.png", "r", "area", ((1.0, 1.0), (5.0, 5.0)), 1024, 1024),
     "Unknown measurement kind 'area'; cxrviz measures a length or a cardiothoracic ratio."),
])
def test_each_refusal_says_why(measurement, sentence):
    with pytest.raises(MeasurementError) as refused:
        check_measurement(measurement)
    assert str(refused.value) == sentence


def _flat(points) -> list[float]:
    return [v for p in points for v in p]


def test_a_line_drawn_at_zoom_2_lands_where_it_does_at_zoom_1(metadata, nih_images):
    gray = load_gray(nih_images / BOXED_1024)
    spacing = spacing_of_nih_image(metadata, BOXED_1024, gray.shape)
    whole = Frame.of(gray.shape, display_width=500)  # 1024 px shown 500 wide: 2.048 original px per display px
    zoomed = Frame.of(gray.shape, display_width=500, zoom=2.0, centre=(0.5, 0.5))  # x, y in [256, 768) shown 500 wide
    # the same original segment (307.2, 409.6) -> (716.8, 409.6), as a reader would draw it on each view
    at_1 = from_display(BOXED_1024, "dr a", "length", ((150.0, 200.0), (350.0, 200.0)), whole, spacing)
    at_2 = from_display(BOXED_1024, "dr a", "length", (((307.2 - 256) / 1.024, (409.6 - 256) / 1.024),
                                                     ((716.8 - 256) / 1.024, (409.6 - 256) / 1.024)), zoomed, spacing)
    assert _flat(at_1.points) == pytest.approx([307.2, 409.6, 716.8, 409.6])
    assert _flat(at_2.points) == pytest.approx(_flat(at_1.points)) and at_2.value == pytest.approx(at_1.value)
    assert at_1.value == pytest.approx(409.6 * 0.383499, abs=0.01)
    assert _flat(to_display(at_1, zoomed)) == pytest.approx([50.0, 150.0, 450.0, 150.0])  # and back onto the zoomed canvas
    with pytest.raises(MeasurementError):  # a click, not a line
        from_display(BOXED_1024, "dr a", "length", ((10.0, 10.0), (10.2, 10.0)), zoomed, spacing)


def test_the_csv_has_documented_columns_and_neutralised_cells():
    rows = [Measurement("=cmd|' /C calc'!A0", "@evil", "length", ((0.0, 0.0), (30.0, 40.0)), 1024, 1024, (0.5, 0.5), "PA", 3,
                        "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            Measurement("b.png", "dr a", "ctr", ((230.0, 600.0), (790.0, 600.0), (12.0, 500.0), (1012.0, 500.0)), 1024, 1024,
                        None, "AP", 4)]
    table = list(csv.DictReader(io.StringIO(measurements_csv(rows).decode("utf-8"))))
    assert list(table[0]) == ["image", "reviewer", "id", "kind", "value", "unit", "reading", "view", "points", "frame_width",
                              "frame_height", "mm_per_column", "mm_per_row", "created_at", "updated_at"]
    first, second = table
    assert first["image"] == "'=cmd|' /C calc'!A0" and first["reviewer"] == "'@evil"
    assert (first["value"], first["unit"], first["mm_per_column"]) == ("25.00", "mm", "0.500000")
    assert (second["value"], second["unit"], second["reading"]) == ("0.5600", "ratio", "0.56: AP views magnify the heart; 0.5 does not apply")
    assert second["points"] == "230.00 600.00;790.00 600.00;12.00 500.00;1012.00 500.00" and second["mm_per_row"] == ""
