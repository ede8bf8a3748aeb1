"""Decoding an uploaded file (PNG, JPEG or DICOM) in memory, refusing what is unsafe or unusable.

Nothing here writes pixels to disk. An upload is hostile until its header says otherwise: the
decoded size (width × height × channels × frames × bytes per sample) is read from the header and
checked against `MAX_DECODED_BYTES` *before* any pixel is decoded, so a 190 kB PNG that inflates
to 200 MB, or a 16 MB file holding 500 frames, is refused (or read one frame only) instead of
taking the server's memory. Deflated DICOM is inflated with a cap. Images too small or too
narrow to be a chest film are refused. What is decoded is then shrunk (a box average) so its
long side is at most `MAX_SIDE`: the model reads 224–512 px and the viewer shows about 1000, so
nothing downstream (probabilities, Grad-CAM, rendering, caches) ever holds a 50-megapixel array.

DICOM goes through pydicom: the Modality LUT or rescale, the VOI LUT or stored window (a window
or rescale that makes no sense falls back to the image's own min..max, with a note in
`details`), MONOCHROME1 inverted, any transfer syntax pydicom can decode here, and only the first
frame of a multi-frame file.
"""

from __future__ import annotations

import io
import logging
import math
import zlib
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from cxrviz.data.imaging import MAX_PIXELS, normalise_intensity, pil_errors, to_unit_gray
from cxrviz.errors import UploadError

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # the file as sent
MAX_DECODED_BYTES = 128 * 1024 * 1024  # its pixels once decoded (one frame), and a deflated DICOM once inflated
MAX_SIDE = 2048  # the long side of the array handed on; larger images are box-averaged down to it
MIN_SIDE = 64  # smaller images carry no readable anatomy once the model resizes them
MAX_ASPECT = 3.0  # a chest film is never narrower than 1:3
DEFER_BYTES = 1024 * 1024  # DICOM elements larger than this are read only when asked for
BAND_PIXELS = 4_000_000  # pixels processed at once when applying LUTs and shrinking
DICOM_MAGIC_OFFSET = 128
SESSION_KEY = "upload_decoded"  # where a session keeps its one decoded upload
DEFLATED_SYNTAX = "1.2.840.10008.1.2.1.99"

# Bytes per pixel that PIL holds for a mode once loaded (P/PA and 1 count what they become here).
_PIL_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 5, "PA": 5, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
_PIL_GRAY_MODES = ("L", "I", "F", "I;16", "I;16L", "I;16B", "I;16N")


@dataclass(frozen=True)
class DecodedUpload:
    name: str
    gray: np.ndarray  # float32 (H, W) in [0, 1], long side <= MAX_SIDE
    kind: str  # PNG | JPEG | DICOM | ...
    details: dict[str, str] = field(default_factory=dict)


def is_dicom(data: bytes) -> bool:
    return len(data) > DICOM_MAGIC_OFFSET + 4 and data[DICOM_MAGIC_OFFSET : DICOM_MAGIC_OFFSET + 4] == b"DICM"


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB"


def check_geometry(name: str, width: int, height: int) -> None:
    """Refuse images that cannot be a chest X-ray the model can read: tiny, strips, or too many pixels."""
    if width <= 0 or height <= 0:
        raise UploadError(f"{name} declares a size of {width}×{height} pixels: there is no image to read.")
    if width * height > MAX_PIXELS:
        raise UploadError(
            f"{name} is {width}×{height} ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels."
        )
    if min(width, height) < MIN_SIDE:
        raise UploadError(
            f"{name} is {width}×{height} pixels; the minimum is {MIN_SIDE} px on each side. The model resizes "
            "every image to its input size, and an image this small holds no chest anatomy to read."
        )
    ratio = max(width, height) / min(width, height)
    if ratio > MAX_ASPECT:
        raise UploadError(
            f"{name} is {width}×{height} pixels, an aspect ratio of {ratio:.1f}:1; the limit is "
            f"{MAX_ASPECT:.0f}:1. A chest film is never that shape: this looks like a strip, crop or banner."
        )


def check_budget(name: str, width: int, height: int, decoded: int, what: str = "") -> None:
    if decoded > MAX_DECODED_BYTES:
        raise UploadError(
            f"{name} is {width}×{height}{what}: {_mb(decoded)} once decoded; "
            f"the limit is {_mb(MAX_DECODED_BYTES)}."
        )


def shrink_factor(width: int, height: int) -> int:
    return max(1, math.ceil(max(width, height) / MAX_SIDE))


def reduce_bands(pixels: np.ndarray, factor: int, transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """`transform` (rows in, float32 2-D out, same shape) applied band by band, then box-averaged
    by `factor`: memory stays at one band, whatever the image's size. The last partial block of
    rows and columns (under `factor` pixels) is dropped."""
    height, width = pixels.shape[:2]
    out_h, out_w = height // factor, width // factor
    out = np.empty((out_h, out_w), dtype=np.float32)
    step = max(1, BAND_PIXELS // max(1, width * factor))
    for top in range(0, out_h, step):
        rows = min(step, out_h - top)
        values = np.asarray(transform(pixels[top * factor : (top + rows) * factor, : out_w * factor]), dtype=np.float32)
        if factor > 1:
            values = values.reshape(rows, factor, out_w, factor).mean(axis=(1, 3))
        out[top : top + rows] = values
    return out


def _size_detail(width: int, height: int, gray: np.ndarray) -> str:
    shown = f"{gray.shape[1]}×{gray.shape[0]}"
    return shown if (gray.shape[1], gray.shape[0]) == (width, height) else f"{width}×{height}, shown at {shown}"


# ---------------------------------------------------------------- DICOM


def _read_dicom_dataset(data: bytes, name: str):
    """The dataset with its large elements deferred; a deflated one is inflated up to the cap."""
    import pydicom
    from pydicom.dataset import FileDataset
    from pydicom.errors import InvalidDicomError
    from pydicom.filebase import DicomBytesIO
    from pydicom.filereader import _read_file_meta_info, read_dataset, read_preamble
    from pydicom.uid import ExplicitVRLittleEndian

    try:
        buffer = io.BytesIO(data)
        preamble = read_preamble(buffer, False)
        meta = _read_file_meta_info(buffer)  # private in pydicom 3.0; needed to see deflate before inflating
        syntax = str(meta.get("TransferSyntaxUID", ""))
        if syntax != DEFLATED_SYNTAX:
            return pydicom.dcmread(io.BytesIO(data), defer_size=DEFER_BYTES, force=False)
        compressed = memoryview(data)[buffer.tell() :]
        if inflated_size(compressed, MAX_DECODED_BYTES) > MAX_DECODED_BYTES:
            raise UploadError(
                f"{name} is a deflated DICOM file ({_mb(len(data))}) that inflates to more than "
                f"{_mb(MAX_DECODED_BYTES)}; the limit is {_mb(MAX_DECODED_BYTES)}."
            )
        inflated = zlib.decompressobj(-zlib.MAX_WBITS).decompress(compressed, MAX_DECODED_BYTES)
        source = DicomBytesIO(inflated)
        del inflated
        dataset = read_dataset(source, is_implicit_VR=False, is_little_endian=True, defer_size=DEFER_BYTES)
        meta.TransferSyntaxUID = ExplicitVRLittleEndian  # what the inflated bytes are
        ds = FileDataset(source, dataset, preamble, meta, False, True)
        ds.set_original_encoding(False, True, dataset._character_set)
        return ds
    except UploadError:
        raise
    except zlib.error as exc:
        raise UploadError(f"{name} is a deflated DICOM file whose data does not inflate: {exc}") from exc
    except (InvalidDicomError, EOFError, ValueError, OSError, KeyError, TypeError) as exc:
        raise UploadError(f"{name} is not a readable DICOM file: {exc}") from exc


def inflated_size(compressed: bytes | memoryview, cap: int, chunk: int = 2**20) -> int:
    """How many bytes a raw deflate stream inflates to, counted a chunk at a time and stopping once
    past `cap`: a bomb is measured without ever being held."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total, pending = 0, compressed
    while total <= cap:
        out = inflater.decompress(pending, chunk)
        total += len(out)
        pending = inflater.unconsumed_tail
        if inflater.eof or (not out and not pending):
            break
    return total


def _header_int(ds, keyword: str, default: int, name: str) -> int:
    try:
        value = ds.get(keyword, default)
        return default if value in (None, "") else int(value)
    except (TypeError, ValueError) as exc:
        raise UploadError(f"{name}: its {keyword} ({ds.get(keyword)!r}) is not a whole number.") from exc


def _finite_floats(ds, keyword: str) -> list[float] | None:
    """The element's values as floats, or None when any is missing or not a finite number."""
    from pydicom.multival import MultiValue

    try:
        value = ds.get(keyword)
        values = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
        floats = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    return floats if floats and all(math.isfinite(v) for v in floats) else None


def _monochrome_transform(ds, notes: list[str]) -> Callable[[np.ndarray], np.ndarray]:
    """Stored values -> display values: Modality LUT/rescale, then VOI LUT/window, each checked.
    What is not usable is skipped, with a note saying why."""
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    steps: list[Callable[[np.ndarray], np.ndarray]] = []
    modality_ok = True
    if ds.get("ModalityLUTSequence"):
        steps.append(lambda rows: apply_modality_lut(rows, ds))
    elif "RescaleSlope" in ds or "RescaleIntercept" in ds:
        slope = _finite_floats(ds, "RescaleSlope") if "RescaleSlope" in ds else [1.0]
        intercept = _finite_floats(ds, "RescaleIntercept") if "RescaleIntercept" in ds else [0.0]
        if slope is None or intercept is None or slope[0] == 0:
            modality_ok = False
            notes.append(
                f"RescaleSlope {ds.get('RescaleSlope')} / RescaleIntercept {ds.get('RescaleIntercept')} "
                "is not usable; stored values shown, stretched to their own range"
            )
        else:
            s, b = np.float32(slope[0]), np.float32(intercept[0])
            steps.append(lambda rows: rows.astype(np.float32) * s + b)
    has_window = "WindowCenter" in ds or "WindowWidth" in ds
    if ds.get("VOILUTSequence") or has_window:
        if not modality_ok:
            notes.append("the window is in rescaled units, so it is not applied")
        elif not ds.get("VOILUTSequence"):
            centre, width = _finite_floats(ds, "WindowCenter"), _finite_floats(ds, "WindowWidth")
            if centre is None or width is None or width[0] <= 0:
                notes.append(
                    f"WindowCenter {ds.get('WindowCenter')} / WindowWidth {ds.get('WindowWidth')} is not a "
                    "usable window; the image's own min..max is shown"
                )
            else:
                steps.append(lambda rows: apply_voi_lut(rows, ds))
        else:
            steps.append(lambda rows: apply_voi_lut(rows, ds))

    def transform(rows: np.ndarray) -> np.ndarray:
        values = rows
        for step in steps:
            values = step(values)
        return np.asarray(values, dtype=np.float32)

    return transform


def decode_dicom(data: bytes, name: str) -> DecodedUpload:
    from pydicom.pixels import pixel_array

    ds = _read_dicom_dataset(data, name)
    if "PixelData" not in ds:
        raise UploadError(f"{name} is a DICOM file without pixel data (a report or structured object?).")
    rows, cols = _header_int(ds, "Rows", 0, name), _header_int(ds, "Columns", 0, name)
    samples = _header_int(ds, "SamplesPerPixel", 1, name)
    bits = _header_int(ds, "BitsAllocated", 16, name)
    frames = _header_int(ds, "NumberOfFrames", 1, name)
    if samples not in (1, 3, 4) or bits not in (1, 8, 16, 32, 64) or frames < 1:
        raise UploadError(
            f"{name} declares {samples} samples per pixel, {bits} bits allocated and {frames} frames; "
            "that is not an image this page can read."
        )
    check_geometry(name, cols, rows)
    frame_bytes = rows * cols * samples * max(1, bits // 8)
    check_budget(name, cols, rows, frame_bytes, f"×{samples} samples at {bits} bits")
    syntax = str(ds.file_meta.get("TransferSyntaxUID", "unknown")) if hasattr(ds, "file_meta") else "unknown"
    try:
        pixels = pixel_array(ds, index=0)  # the first frame only, whatever NumberOfFrames says
    except MemoryError:
        raise
    except Exception as exc:  # pydicom raises many types for missing codecs and bad data
        raise UploadError(f"{name}: pixel data cannot be decoded here (transfer syntax {syntax}): {exc}") from exc
    if pixels.shape[:2] != (rows, cols):
        raise UploadError(f"{name}: the pixel data is {pixels.shape[:2]}, not the {rows}×{cols} its header says.")

    notes: list[str] = []
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    factor = shrink_factor(cols, rows)
    if pixels.ndim == 3:  # colour: luminance as the mean of the first three samples, no LUTs
        gray_values = reduce_bands(pixels, factor, lambda r: r[..., :3].astype(np.float32).mean(axis=2))
    else:
        try:
            gray_values = reduce_bands(pixels, factor, _monochrome_transform(ds, notes))
            usable = np.isfinite(gray_values).all()
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
            usable, gray_values = False, None
            notes.append(f"the LUTs could not be applied ({exc})")
        if not usable:
            notes.append("display values were not finite; stored values shown, stretched to their own range")
            gray_values = reduce_bands(pixels, factor, lambda r: r.astype(np.float32))
    del pixels
    if not np.isfinite(gray_values).all():
        raise UploadError(f"{name}: its pixel values are not finite numbers; there is no image to show.")
    gray = normalise_intensity(gray_values)
    if photometric == "MONOCHROME1":
        gray = 1.0 - gray
    details = {
        "photometric": photometric,
        "age": str(ds.get("PatientAge", "") or "unknown"),
        "sex": str(ds.get("PatientSex", "") or "unknown"),
        "view": str(ds.get("ViewPosition", "") or "unknown"),
        "size": _size_detail(cols, rows, gray),
    }
    if frames > 1:
        details["frames"] = f"{frames} (the first is shown)"
    if notes:
        details["note"] = "; ".join(notes)
    return DecodedUpload(name=name, gray=gray, kind="DICOM", details=details)


# ---------------------------------------------------------------- PNG / JPEG


def _open_lazily(data: bytes, name: str) -> Image.Image:
    """PIL reads the header only: format, size and mode, no pixels."""
    with pil_errors(name, UploadError):
        return Image.open(io.BytesIO(data))


def decode_picture(data: bytes, name: str) -> DecodedUpload:
    image = _open_lazily(data, name)
    if image.format not in ("PNG", "JPEG", "MPO"):
        raise UploadError(f"{name} is a {image.format} image; upload PNG, JPEG or DICOM.")
    kind = "JPEG" if image.format == "MPO" else image.format
    width, height = image.size
    mode = image.mode
    check_geometry(name, width, height)
    bands = len(image.getbands())
    factor = shrink_factor(width, height)
    if kind == "JPEG" and factor > 1:
        # libjpeg scales while decoding (1/2, 1/4, 1/8), and to luminance only: the full-size image
        # is never held. draft() only sets the decoder up; it reads no pixels.
        image.draft("L" if mode in ("L", "RGB", "YCbCr") else None, (width // factor, height // factor))
    out_w, out_h = image.size
    decoded = out_w * out_h * _PIL_BYTES_PER_PIXEL.get(image.mode, 4)
    if kind == "JPEG" and image.info.get("progressive"):
        decoded += width * height * bands * 2  # libjpeg keeps every DCT coefficient (int16)
    check_budget(name, width, height, decoded, f" {mode}{' progressive' if image.info.get('progressive') else ''}")
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadError(f"{name} is too large to open safely: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise UploadError(f"{name} is corrupt or truncated: {exc}") from exc
    if kind == "JPEG":
        image = ImageOps.exif_transpose(image)
    factor = shrink_factor(*image.size)
    if image.mode == "1":
        image = image.convert("L")
    if image.mode in _PIL_GRAY_MODES:
        array = np.asarray(image)
        image.close()
        values = reduce_bands(array, factor, lambda r: r.astype(np.float32))
        gray = values / np.float32(255.0) if array.dtype == np.uint8 else normalise_intensity(values)
        del array
    else:
        if image.mode in ("P", "PA"):
            image = image.convert("RGBA")
        if factor > 1:
            image = image.reduce(factor)
        gray = to_unit_gray(image)
    details = {"size": _size_detail(width, height, gray), "mode": mode}
    return DecodedUpload(name=name, gray=gray.astype(np.float32, copy=False), kind=kind, details=details)


def decode_upload(data: bytes, name: str, max_bytes: int = MAX_UPLOAD_BYTES) -> DecodedUpload:
    """Decode an upload or raise `UploadError` with a message for the page."""
    if not data:
        raise UploadError(f"{name} is empty.")
    if len(data) > max_bytes:
        raise UploadError(f"{name} is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    try:
        if is_dicom(data) or name.lower().endswith((".dcm", ".dicom")):
            return decode_dicom(data, name)
        return decode_picture(data, name)
    except MemoryError as exc:
        log.warning("upload %r ran out of memory while decoding", name)
        raise UploadError(
            f"{name} ({_mb(len(data))}) needs more memory to decode than this server can give it."
        ) from exc


def decode_once(store: MutableMapping, file_id: str, data: bytes | Callable[[], bytes], name: str) -> DecodedUpload:
    """The session's decoded upload: decoded once per file, and only the latest file kept.

    `store` is the session's state (any mapping). The previous upload's array is dropped *before*
    the next is decoded, so a session never holds two; a refused file leaves nothing behind.
    `data` may be a callable, so the bytes are only copied when a new file must be decoded."""
    held = store.get(SESSION_KEY)
    if held is not None and held[0] == file_id:
        return held[1]
    store.pop(SESSION_KEY, None)
    del held
    decoded = decode_upload(data() if callable(data) else data, name)
    store[SESSION_KEY] = (file_id, decoded)
    return decoded


def forget_upload(store: MutableMapping) -> None:
    """Drop the session's decoded upload (the file was removed from the uploader)."""
    store.pop(SESSION_KEY, None)
