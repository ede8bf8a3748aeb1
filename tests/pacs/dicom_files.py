"""DICOM files made from the shared NIH PNGs with the tags a PACS would hold: patient age and
sex, view position and pixel spacing from the NIH metadata, a study date, CR or DX; one
MONOCHROME1, one 16-bit with a VOI window. Nothing is written to the repository."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    generate_uid,
)

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
UID_ROOT = "1.2.826.0.1.3680043.10.543."  # a test-only root; UIDs made here stay under 64 characters


@dataclass(frozen=True)
class Made:
    """One file made for the PACS: what it was made from and the tags a test checks."""

    source: str  # the NIH PNG
    sop_uid: str
    study_uid: str
    series_uid: str
    modality: str
    age: int
    sex: str
    view: str
    study_date: str
    photometric: str
    bits: int
    dataset: Dataset

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.dataset.save_as(buffer, enforce_file_format=True)
        return buffer.getvalue()


def make_instance(png: Path, row, modality: str = "DX", photometric: str = "MONOCHROME2", bits: int = 8,
                  study_date: str = "20170301", syntax: str = ExplicitVRLittleEndian) -> Made:
    """`row`: the image's NIH metadata row (age, gender, view, width, spacing_x, spacing_y)."""
    pixels = np.asarray(Image.open(png).convert("L"))
    sop_class = {"CR": ComputedRadiographyImageStorage, "DX": DigitalXRayImageStorageForPresentation,
                 "CT": CT_IMAGE_STORAGE}[modality]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid(UID_ROOT)
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(UID_ROOT), generate_uid(UID_ROOT)
    ds.Modality = modality
    patient = int(png.stem.split("_")[0])
    ds.PatientID, ds.PatientName = f"NIH{patient:08d}", f"NIH^{patient}"
    age = int(row.age)
    ds.PatientAge, ds.PatientSex = f"{age:03d}Y", str(row.gender)
    ds.ViewPosition = str(row.view)
    ds.BodyPartExamined = "CHEST"
    ds.PatientBirthDate, ds.ReferringPhysicianName, ds.Manufacturer = "", "", "NIH (converted by the cxrviz tests)"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = study_date
    ds.StudyTime = ds.SeriesTime = "101500"
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 1, 1
    ds.AccessionNumber = png.stem.replace("_", "")[:16]
    ds.StudyDescription = f"Chest {row.view} ({png.name})"
    # The NIH spacing is the original film's; the shared PNG is that film resized to its width.
    scale = float(row.width) / pixels.shape[1] if row.width else 1.0
    spacing = [f"{float(row.spacing_y) * scale:.4f}", f"{float(row.spacing_x) * scale:.4f}"]
    if modality == "DX":
        ds.ImagerPixelSpacing = spacing
        ds.PresentationIntentType = "FOR PRESENTATION"
    ds.PixelSpacing = spacing
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.PixelRepresentation = 0
    values = pixels.astype(np.uint16)
    if photometric == "MONOCHROME1":
        values = 255 - values
    if bits == 16:
        values = values * 16 + 8  # 12-bit data in 16 bits, as detectors write it
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        ds.WindowCenter, ds.WindowWidth = 2048, 4096
        data = values.astype("<u2").tobytes()
    else:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
        data = values.astype(np.uint8).tobytes()
    if syntax != ExplicitVRLittleEndian:  # a compressed syntax: bytes in its frame, never decoded by the tests
        ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(64)])
        ds["PixelData"].is_undefined_length = True
    else:
        ds.PixelData = data
    when = dt.datetime.strptime(study_date, "%Y%m%d").date().isoformat()
    return Made(png.name, ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID, modality, age, str(row.gender),
                str(row.view), when, photometric, bits, ds)


def make_set(images: Path, metadata, names: list[str]) -> list[Made]:
    """The test PACS's content, one study per NIH image: CR and DX (the first MONOCHROME1, the
    second 16-bit), dates spread over 2017, and one CT that an X-ray search must not list."""
    made = []
    for i, name in enumerate(names):
        row = metadata.table.iloc[metadata.row_of(name)]
        made.append(make_instance(images / name, row, modality="CR" if i % 2 else "DX",
                                  photometric="MONOCHROME1" if i == 0 else "MONOCHROME2", bits=16 if i == 1 else 8,
                                  study_date=f"2017{1 + i % 12:02d}{1 + i % 28:02d}"))
    return made
