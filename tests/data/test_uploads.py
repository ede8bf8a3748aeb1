import io

import numpy as np
import pytest
from PIL import Image

from cxrviz.data.imaging import load_gray
from cxrviz.data.uploads import decode_upload
from cxrviz.errors import UploadError
from tests.conftest import RGBA_1024, SMALL_512
from tests.dicom_factory import make_dicom


@pytest.fixture(scope="module")
def xray(nih_images):
    return load_gray(nih_images / SMALL_512)


def _png(array, mode=None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG") if mode else Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_dicom_round_trip(xray):
    stored = np.round(xray * 4095).astype(np.uint16)
    decoded = decode_upload(make_dicom(stored), "chest.dcm")
    assert decoded.kind == "DICOM" and decoded.gray.shape == xray.shape
    assert np.corrcoef(decoded.gray.ravel(), xray.ravel())[0, 1] > 0.999
    assert decoded.details["age"] == "058Y" and decoded.details["sex"] == "F"


def test_dicom_monochrome1_is_inverted(xray):
    stored = np.round((1 - xray) * 4095).astype(np.uint16)  # bright = low values
    decoded = decode_upload(make_dicom(stored, "MONOCHROME1"), "mono1.dcm")
    assert np.corrcoef(decoded.gray.ravel(), xray.ravel())[0, 1] > 0.999


def test_dicom_window_is_applied(xray):
    stored = np.round(xray * 4095).astype(np.uint16)
    decoded = decode_upload(make_dicom(stored, window=(2048, 1024)), "win.dcm")
    inside = (stored > 1600) & (stored < 2500)
    assert decoded.gray[stored <= 1500].max() == pytest.approx(0.0, abs=1e-3)
    assert decoded.gray[stored >= 2600].min() == pytest.approx(1.0, abs=1e-3)
    assert decoded.gray[inside].std() > 0.1


def test_dicom_without_pixels_is_refused():
    with pytest.raises(UploadError, match="without pixel data"):
        decode_upload(make_dicom(None), "sr.dcm")


def test_png_jpeg_rgba_and_16_bit(nih_images, xray):
    rgba = decode_upload((nih_images / RGBA_1024).read_bytes(), RGBA_1024)
    assert rgba.gray.shape == (1024, 1024)
    rgb = (np.stack([xray] * 3, axis=2) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95)
    jpeg = decode_upload(buffer.getvalue(), "x.jpg")
    assert jpeg.kind == "JPEG" and abs(jpeg.gray - xray).mean() < 0.02
    wide = decode_upload(_png((xray * 65535).astype(np.uint16)), "wide.png")
    assert wide.gray.min() == 0.0 and wide.gray.max() == 1.0  # 16-bit data is stretched to its own range
    assert np.corrcoef(wide.gray.ravel(), xray.ravel())[0, 1] > 0.9999


@pytest.mark.parametrize(
    "payload, name, phrase",
    [
        (b"%PDF-1.4 not an image at all", "report.pdf", "not an image"),
        (b"", "empty.png", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt.png", "corrupt|not an image"),
    ],
)
def test_bad_uploads(payload, name, phrase):
    with pytest.raises(UploadError, match=phrase):
        decode_upload(payload, name)


def test_size_limit_and_decompression_bomb():
    with pytest.raises(UploadError, match="limit is 1 MB"):
        decode_upload(b"x" * (2 * 2**20), "big.png", max_bytes=2**20)
    bomb = io.BytesIO()
    Image.new("L", (8000, 7000)).save(bomb, format="PNG")  # 56 megapixels, compresses to ~60 kB
    with pytest.raises(UploadError, match="megapixels"):
        decode_upload(bomb.getvalue(), "bomb.png")


def test_gif_is_refused():
    buffer = io.BytesIO()
    Image.new("L", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(UploadError, match="upload PNG, JPEG or DICOM"):
        decode_upload(buffer.getvalue(), "a.gif")
