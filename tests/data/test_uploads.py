import io
import warnings

import numpy as np
import pytest
from PIL import Image

from cxrviz.data.imaging import load_gray
from cxrviz.data.uploads import MAX_SIDE, MAX_UPLOAD_BYTES, decode_once, decode_upload, forget_upload, inflated_size
from cxrviz.errors import UploadError
from tests.conftest import BOXED_1024, RGBA_1024, SMALL_512
from tests.dicom_factory import make_deflated_dicom, make_dicom, make_rle_dicom


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


# ---- hostile input (issues 15 and 16): bombs are made here as files, never stored


def _write(path, data: bytes) -> bytes:
    path.write_bytes(data)
    return path.read_bytes()


def test_rgba_png_bomb_is_refused_from_its_header(tmp_path):
    path = tmp_path / "rgba.png"
    Image.new("RGBA", (7000, 7000), (40, 40, 40, 255)).save(path, format="PNG")
    data = path.read_bytes()
    assert len(data) < 2**20  # a few hundred kB that would decode to 187 MB
    with pytest.raises(UploadError, match=r"7000×7000 RGBA: 186\.9 MB once decoded; the limit is 128\.0 MB"):
        decode_upload(data, "rgba.png")
    # the refusal comes from the header alone: with the pixel data cut off, the message is the same
    with pytest.raises(UploadError, match=r"186\.9 MB once decoded"):
        decode_upload(_write(tmp_path / "cut.png", data[:200]), "cut.png")


def test_deflated_dicom_with_a_huge_private_element_is_refused(tmp_path):
    small = (np.arange(256 * 256).reshape(256, 256) % 4096).astype(np.uint16)
    data = _write(tmp_path / "bomb.dcm", make_deflated_dicom(small, private_bytes=512 * 2**20))
    assert len(data) < 2 * 2**20
    with pytest.raises(UploadError, match=r"inflates to more than 128\.0 MB; the limit is 128\.0 MB"):
        decode_upload(data, "bomb.dcm")


def test_inflated_size_stops_counting_past_the_cap():
    import zlib

    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    stream = deflater.compress(bytes(10 * 2**20)) + deflater.flush()
    assert inflated_size(stream, cap=2**30) == 10 * 2**20
    assert 2**20 < inflated_size(stream, cap=2**20) <= 2 * 2**20  # stops one chunk past the cap


def test_deflated_dicom_within_the_cap_decodes_like_the_plain_one(xray):
    stored = np.round(xray * 4095).astype(np.uint16)
    plain = decode_upload(make_dicom(stored), "plain.dcm")
    deflated = decode_upload(make_deflated_dicom(stored), "deflated.dcm")
    np.testing.assert_array_equal(deflated.gray, plain.gray)


def test_multi_frame_rle_decodes_the_first_frame_only(tmp_path):
    frame = np.repeat((np.arange(1414) * 2 % 4096)[:, None], 1414, axis=1).astype(np.uint16)
    data = _write(tmp_path / "frames.dcm", make_rle_dicom(frame, 500))
    assert len(data) < MAX_UPLOAD_BYTES  # 500 × 4 MB = 2 GB if every frame were decoded
    decoded = decode_upload(data, "frames.dcm")
    assert decoded.gray.shape == (1414, 1414)
    assert decoded.details["frames"] == "500 (the first is shown)"
    assert np.corrcoef(decoded.gray[:, 0], frame[:, 0])[0, 1] > 0.999


def test_dicom_whose_one_frame_exceeds_the_budget_is_refused_before_decoding(tmp_path):
    # 7000×7000 RGB at 8 bits = 140.2 MB; the pixel data is a stub, since the header decides
    stub = np.zeros((64, 64), dtype=np.uint16)
    header = {"Rows": 7000, "Columns": 7000, "SamplesPerPixel": 3, "BitsAllocated": 8, "BitsStored": 8, "HighBit": 7,
              "PhotometricInterpretation": "RGB", "PlanarConfiguration": 0}
    data = _write(tmp_path / "rgb.dcm", make_dicom(stub, extra=header))
    with pytest.raises(UploadError, match=r"7000×7000×3 samples at 8 bits: 140\.2 MB once decoded; the limit is 128\.0 MB"):
        decode_upload(data, "rgb.dcm")


def test_memory_error_becomes_an_upload_error(monkeypatch, xray):
    import cxrviz.data.uploads as uploads

    def exhausted(data, name):
        raise MemoryError

    monkeypatch.setattr(uploads, "decode_picture", exhausted)
    with pytest.raises(UploadError, match=r"big\.png \(0\.0 MB\) needs more memory"):
        uploads.decode_upload(b"\x89PNG", "big.png")


@pytest.mark.parametrize(
    "extra, note",
    [
        ({"WindowCenter": 2048, "WindowWidth": 0}, "WindowWidth 0.0 is not a usable window"),
        ({"WindowCenter": 2048, "WindowWidth": -400}, "WindowWidth -400.0 is not a usable window"),
        ({"WindowCenter": "NaN", "WindowWidth": 400}, "WindowCenter NaN"),
        ({"RescaleSlope": "NaN", "RescaleIntercept": 0}, "RescaleSlope NaN"),
        ({"RescaleSlope": 1, "RescaleIntercept": "inf"}, "RescaleIntercept inf"),
        ({"RescaleSlope": 0, "RescaleIntercept": 0}, "RescaleSlope 0.0"),
    ],
)
def test_bad_dicom_windows_fall_back_to_min_max_with_a_note(xray, extra, note):
    stored = np.round(xray * 4095).astype(np.uint16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns that NaN/inf are not valid DS values: that is the point
        decoded = decode_upload(make_dicom(stored, extra=extra), "odd.dcm")
    assert np.isfinite(decoded.gray).all() and decoded.gray.min() == 0.0 and decoded.gray.max() == 1.0
    assert note in decoded.details["note"]
    assert np.corrcoef(decoded.gray.ravel(), stored.ravel())[0, 1] > 0.999


def test_a_valid_window_with_a_rescale_is_still_applied(xray):
    stored = np.round(xray * 4095).astype(np.uint16)
    # the window is in rescaled units: 3072 ± 512 after +1024 is stored 1536..2560
    decoded = decode_upload(make_dicom(stored, window=(3072, 1024), extra={"RescaleSlope": 1, "RescaleIntercept": 1024}),
                            "ok.dcm")
    assert "note" not in decoded.details
    assert decoded.gray[stored <= 1500].max() == pytest.approx(0.0, abs=1e-3)
    assert decoded.gray[stored >= 2600].min() == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    "size, phrase",
    [
        ((8, 8), r"8×8 pixels; the minimum is 64 px on each side.*no chest anatomy"),
        ((63, 200), r"63×200 pixels; the minimum is 64 px"),
        ((2000, 300), r"2000×300 pixels, an aspect ratio of 6\.7:1; the limit is 3:1\. A chest film is never that shape"),
    ],
)
def test_tiny_and_strip_images_are_refused(tmp_path, size, phrase):
    path = tmp_path / "small.png"
    Image.new("L", size, 128).save(path)
    with pytest.raises(UploadError, match=phrase):
        decode_upload(path.read_bytes(), "small.png")
    stored = np.full(size[::-1], 1000, dtype=np.uint16)
    with pytest.raises(UploadError, match=phrase):
        decode_upload(make_dicom(stored), "small.png")


def test_the_smallest_and_narrowest_accepted_images(tmp_path):
    for size in ((64, 64), (192, 64), (64, 192)):
        decoded = decode_upload(_png(np.full(size[::-1], 7, dtype=np.uint8)), "edge.png")
        assert decoded.gray.shape == size[::-1]


def test_normal_1024_png_and_dicom_still_decode(nih_images):
    png = decode_upload((nih_images / BOXED_1024).read_bytes(), BOXED_1024)
    assert png.kind == "PNG" and png.gray.shape == (1024, 1024) and png.details["size"] == "1024×1024"
    stored = np.round(png.gray * 4095).astype(np.uint16)
    dicom = decode_upload(make_dicom(stored), "chest.dcm")
    assert dicom.gray.shape == (1024, 1024) and np.corrcoef(dicom.gray.ravel(), png.gray.ravel())[0, 1] > 0.999


def test_large_images_are_shrunk_to_the_working_size(tmp_path):
    rng = np.random.default_rng(1)
    big = rng.integers(0, 256, (4100, 5000), dtype=np.uint8)
    decoded = decode_upload(_png(big), "big.png")
    factor = 3  # ceil(5000 / 2048)
    assert max(decoded.gray.shape) <= MAX_SIDE and decoded.gray.shape == (4100 // factor, 5000 // factor)
    assert decoded.details["size"] == "5000×4100, shown at 1666×1366"
    expected = big[: 1366 * 3, : 1666 * 3].reshape(1366, 3, 1666, 3).mean(axis=(1, 3)) / 255
    np.testing.assert_allclose(decoded.gray, expected, atol=1e-5)
    jpeg = io.BytesIO()
    Image.fromarray(big).convert("RGB").save(jpeg, format="JPEG", quality=90)
    assert max(decode_upload(jpeg.getvalue(), "big.jpg").gray.shape) <= MAX_SIDE


def test_a_session_keeps_one_decoded_upload(xray):
    store: dict = {}
    calls = []

    def data(payload):
        def read():
            calls.append(1)
            return payload
        return read

    first = _png((xray * 255).astype(np.uint8))
    one = decode_once(store, "id-1", data(first), "one.png")
    assert decode_once(store, "id-1", data(first), "one.png") is one and len(calls) == 1  # not decoded again
    two = decode_once(store, "id-2", data(make_dicom(np.round(xray * 4095).astype(np.uint16))), "two.dcm")
    assert two.kind == "DICOM" and list(store.values()) == [("id-2", two)]  # the first one is gone
    with pytest.raises(UploadError):
        decode_once(store, "id-3", b"not an image", "three.png")
    assert store == {}  # a refused file leaves nothing, and the previous one was dropped first
    decode_once(store, "id-1", first, "one.png")
    forget_upload(store)
    assert store == {}
