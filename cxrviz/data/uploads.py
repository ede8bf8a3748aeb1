"""Decoding an uploaded file (PNG, JPEG or DICOM) in memory, refusing what is unsafe or unusable.

Nothing here writes pixels to disk. DICOM goes through pydicom: Modality/VOI LUT or the stored
window, MONOCHROME1 inverted, any transfer syntax pydicom can decode here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from cxrviz.data.imaging import MAX_PIXELS, normalise_intensity, open_checked, to_unit_gray
from cxrviz.errors import ImageLoadError, UploadError

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
DICOM_MAGIC_OFFSET = 128


@dataclass(frozen=True)
class DecodedUpload:
    name: str
    gray: np.ndarray  # float32 (H, W) in [0, 1]
    kind: str  # PNG | JPEG | DICOM | ...
    details: dict[str, str] = field(default_factory=dict)


def is_dicom(data: bytes) -> bool:
    return len(data) > DICOM_MAGIC_OFFSET + 4 and data[DICOM_MAGIC_OFFSET : DICOM_MAGIC_OFFSET + 4] == b"DICM"


def decode_dicom(data: bytes, name: str) -> DecodedUpload:
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    try:
        dataset = pydicom.dcmread(io.BytesIO(data), force=False)
    except (InvalidDicomError, EOFError, ValueError, OSError) as exc:
        raise UploadError(f"{name} is not a readable DICOM file: {exc}") from exc
    if "PixelData" not in dataset:
        raise UploadError(f"{name} is a DICOM file without pixel data (a report or structured object?).")
    rows, cols = int(dataset.get("Rows", 0)), int(dataset.get("Columns", 0))
    if rows * cols > MAX_PIXELS:
        raise UploadError(f"{name} is {cols}×{rows}; the limit is {MAX_PIXELS / 1e6:.0f} megapixels.")
    try:
        pixels = dataset.pixel_array
    except Exception as exc:  # pydicom raises many types for missing codecs and bad data
        syntax = getattr(dataset.file_meta, "TransferSyntaxUID", "unknown") if hasattr(dataset, "file_meta") else "unknown"
        raise UploadError(f"{name}: pixel data cannot be decoded here (transfer syntax {syntax}): {exc}") from exc
    if pixels.ndim == 3 and dataset.get("SamplesPerPixel", 1) == 1:
        pixels = pixels[0]  # multi-frame: the first frame
    if pixels.ndim == 3:
        pixels = pixels[..., :3].mean(axis=2)
    values = apply_modality_lut(pixels, dataset)
    if "WindowCenter" in dataset or "VOILUTSequence" in dataset:
        values = apply_voi_lut(values, dataset)
    gray = normalise_intensity(np.asarray(values, dtype=np.float32))
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2"))
    if photometric == "MONOCHROME1":
        gray = 1.0 - gray
    details = {
        "photometric": photometric,
        "age": str(dataset.get("PatientAge", "") or "unknown"),
        "sex": str(dataset.get("PatientSex", "") or "unknown"),
        "view": str(dataset.get("ViewPosition", "") or "unknown"),
        "size": f"{gray.shape[1]}×{gray.shape[0]}",
    }
    return DecodedUpload(name=name, gray=gray, kind="DICOM", details=details)


def decode_upload(data: bytes, name: str, max_bytes: int = MAX_UPLOAD_BYTES) -> DecodedUpload:
    """Decode an upload or raise `UploadError` with a message for the page."""
    if not data:
        raise UploadError(f"{name} is empty.")
    if len(data) > max_bytes:
        raise UploadError(f"{name} is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    if is_dicom(data) or name.lower().endswith((".dcm", ".dicom")):
        return decode_dicom(data, name)
    try:
        image = open_checked(io.BytesIO(data), name)
    except ImageLoadError as exc:
        raise UploadError(str(exc)) from exc
    if image.format not in ("PNG", "JPEG", "MPO"):
        raise UploadError(f"{name} is a {image.format} image; upload PNG, JPEG or DICOM.")
    gray = to_unit_gray(image)
    details = {"size": f"{gray.shape[1]}×{gray.shape[0]}", "mode": image.mode}
    return DecodedUpload(name=name, gray=gray, kind="JPEG" if image.format == "MPO" else image.format, details=details)
