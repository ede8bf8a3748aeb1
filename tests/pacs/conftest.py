"""A real Orthanc (DICOMweb plugin, basic auth) for the whole session, loaded with DICOM files
made from the shared NIH PNGs; tests that store into it clean up after themselves."""

from __future__ import annotations

import pytest

from tests.pacs.dicom_files import make_instance, make_set
from tests.pacs.orthanc_server import orthanc_server

# Shared NIH images (1024-px and 512-px originals, one RGBA, both sexes).
PACS_IMAGES = ["00000100_000.png", "00000282_000.png", "00000353_000.png", "00009745_000.png", "00001369_000.png",
               "00000404_000.png", "00000427_000.png", "00000442_000.png"]


@pytest.fixture(scope="session")
def orthanc():
    with orthanc_server() as server:
        yield server


@pytest.fixture(scope="session")
def pacs_content(orthanc, nih_images, metadata):
    """What the session's Orthanc holds: the X-rays (`made`, in order), and one CT that no X-ray
    search may list."""
    names = [n for n in PACS_IMAGES if (nih_images / n).is_file() and metadata.row_of(n) is not None]
    made = make_set(nih_images, metadata, names)
    ct = make_instance(nih_images / names[0], metadata.table.iloc[metadata.row_of(names[0])], modality="CT",
                       study_date="20170615")
    for item in [*made, ct]:
        orthanc.upload(item.to_bytes())
    return {"made": made, "ct": ct}


@pytest.fixture()
def pacs(orthanc, pacs_content):
    from cxrviz.data.dicomweb import Credentials, Pacs

    return Pacs(orthanc.dicomweb, Credentials(*orthanc.auth), timeout=10)
