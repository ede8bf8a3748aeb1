"""Real DICOM files built with pydicom from a real NIH image, for the upload tests, and the hostile
ones (deflate bombs, many frames, nonsense windows) that the upload checks must refuse."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

PIXEL_DATA_TAG = struct.pack("<HH", 0x7FE0, 0x0010)


def _dataset(pixels: np.ndarray | None, photometric: str, window, age: str, sex: str, frames: int,
             extra: dict | None) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.PatientAge, ds.PatientSex, ds.ViewPosition = age, sex, "PA"
    if pixels is not None:
        ds.Rows, ds.Columns = pixels.shape[-2:]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        if frames > 1:
            ds.NumberOfFrames = frames
        ds.PixelData = pixels.astype(np.uint16).tobytes() * (frames if pixels.ndim == 2 and frames > 1 else 1)
        if window:
            ds.WindowCenter, ds.WindowWidth = window
    for keyword, value in (extra or {}).items():
        setattr(ds, keyword, value)
    return ds


def make_dicom(pixels: np.ndarray | None, photometric: str = "MONOCHROME2", window: tuple[float, float] | None = None,
               age: str = "058Y", sex: str = "F", frames: int = 1, extra: dict | None = None) -> bytes:
    """An Explicit VR Little Endian file; `frames` > 1 repeats a 2-D `pixels` that many times;
    `extra` sets any other element by keyword (e.g. RescaleSlope, WindowWidth, even nonsense)."""
    ds = _dataset(pixels, photometric, window, age, sex, frames, extra)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def make_rle_dicom(frame: np.ndarray, frames: int) -> bytes:
    """An RLE Lossless file of `frames` copies of one 2-D frame: small on disk, huge decoded."""
    ds = _dataset(frame, "MONOCHROME2", None, "058Y", "F", 1, None)
    ds.compress(RLELossless, frame.astype(np.uint16))
    from pydicom.encaps import generate_frames

    encoded = next(generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate([encoded] * frames)
    ds["PixelData"].is_undefined_length = True
    if frames > 1:
        ds.NumberOfFrames = frames
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _private_element_header(length: int) -> bytes:
    creator = b"CXRVIZ BOMB "  # LO, even length
    return (
        struct.pack("<HH2sH", 0x0029, 0x0010, b"LO", len(creator)) + creator
        + struct.pack("<HH2sHI", 0x0029, 0x1010, b"OB", 0, length)
    )


def make_deflated_dicom(pixels: np.ndarray, private_bytes: int = 0, chunk: int = 16 * 2**20) -> bytes:
    """A Deflated Explicit VR Little Endian file, with an optional private OB element of
    `private_bytes` zeros before the pixel data; the zeros are deflated in chunks, so a file of a
    few MB that inflates to gigabytes is made without holding them."""
    ds = _dataset(pixels, "MONOCHROME2", None, "058Y", "F", 1, None)
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, False
    write_dataset(body, ds)
    raw = body.getvalue()
    split = raw.index(PIXEL_DATA_TAG)
    meta = ds.file_meta
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head = DicomBytesIO()
    head.is_little_endian, head.is_implicit_VR = True, False
    write_file_meta_info(head, meta)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = [b"\x00" * 128, b"DICM", head.getvalue(), deflater.compress(raw[:split])]
    if private_bytes:
        parts.append(deflater.compress(_private_element_header(private_bytes)))
        zeros, left = bytes(min(chunk, private_bytes)), private_bytes
        while left:
            parts.append(deflater.compress(zeros[: min(left, len(zeros))]))
            left -= min(left, len(zeros))
    parts += [deflater.compress(raw[split:]), deflater.flush()]
    return b"".join(parts)
