"""STOW-RS into the real Orthanc: an SR made with highdicom from a PACS image is stored, found again
with QIDO, reported "already there" the second time, and refused (with the PACS's reason) when a
rule on the PACS drops it; `export --stow` does the same from the command line."""

from __future__ import annotations

import warnings

import pytest

from cxrviz.data import dicomweb
from tests.pacs.sr_files import reading_sr


@pytest.fixture()
def image(pacs_content):
    return pacs_content["made"][2]


def _sr(image, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reading_sr(image.dataset, "Lovelace^Ada", ["Effusion", "Cardiomegaly"], **kwargs)


def test_stored_then_already_there_then_found_with_qido(pacs, orthanc, image):
    sr = _sr(image)
    try:
        first = dicomweb.stow(pacs, [sr])
        assert [(r.sop_uid, r.outcome) for r in first] == [(sr.SOPInstanceUID, dicomweb.STORED)]
        again = dicomweb.stow(pacs, [sr])
        assert [r.outcome for r in again] == [dicomweb.ALREADY_THERE]
        found = pacs.find_sr(image.study_uid)
        assert [dicomweb.instance_from_json(f).sop_uid for f in found] == [sr.SOPInstanceUID]
        with pytest.raises(dicomweb.PacsNotFoundError, match="holds no image"):  # a study's report is not an image
            pacs.open_image(sr.SOPInstanceUID)
        assert sr.SOPInstanceUID not in {i.sop_uid for i in dicomweb.PacsSource.query(pacs).instances}  # X-rays only
    finally:
        orthanc.delete(sr.SOPInstanceUID)


def test_a_refused_object_is_said_with_the_reason_and_the_rest_is_stored(pacs, orthanc, image):
    good, bad = _sr(image), _sr(image, series_description="REFUSE ME")  # the test Orthanc's Lua filter drops this one
    try:
        results = dicomweb.stow(pacs, [good, bad])
        assert [r.outcome for r in results] == [dicomweb.STORED, dicomweb.REFUSED]
        assert "does not hold it" in results[1].reason
        assert dicomweb.describe_results(results) == "1 object stored, 1 object refused"
    finally:
        orthanc.delete(good.SOPInstanceUID)


def test_stow_response_failures_are_parsed():
    from pydicom.dataset import Dataset

    response = Dataset()
    ok, dup, bad = Dataset(), Dataset(), Dataset()
    ok.ReferencedSOPInstanceUID, dup.ReferencedSOPInstanceUID, bad.ReferencedSOPInstanceUID = "1.1", "1.2", "1.3"
    dup.FailureReason, bad.FailureReason = 0x0111, 0xA700
    response.ReferencedSOPSequence, response.FailedSOPSequence = [ok], [dup, bad]
    results = dicomweb.parse_stow_response(response, ["1.1", "1.2", "1.3", "1.4"])
    assert [(r.outcome, r.reason) for r in results] == [
        ("stored", ""), ("already there", "duplicate SOP instance (0x0111)"), ("refused", "out of resources (0xA700)"),
        ("refused", "the PACS's answer does not mention it")]


def test_stow_without_credentials_is_a_401_sentence(orthanc, image):
    with pytest.raises(dicomweb.PacsAuthError, match="401"):
        dicomweb.stow(dicomweb.Pacs(orthanc.dicomweb), [_sr(image)])


def test_export_stow_from_the_command_line(orthanc, image, tmp_path, monkeypatch, capsys):
    from cxrviz.cli import main

    monkeypatch.setenv("CXRVIZ_DB", str(tmp_path / "reviews.sqlite"))
    sr = _sr(image)
    sr.save_as(tmp_path / "reading.dcm", enforce_file_format=True)
    monkeypatch.delenv("CXRVIZ_DICOMWEB_USER", raising=False)
    assert main(["export", "--stow", orthanc.dicomweb, "--stow-file", str(tmp_path)]) == 2  # no credentials: 401, said
    assert "401" in capsys.readouterr().err
    monkeypatch.setenv("CXRVIZ_DICOMWEB_USER", orthanc.auth[0])
    monkeypatch.setenv("CXRVIZ_DICOMWEB_PASSWORD", orthanc.auth[1])
    try:
        assert main(["export", "--stow", orthanc.dicomweb, "--stow-file", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert f"{sr.SOPInstanceUID}: stored" in out and "1 object stored" in out
        assert main(["export", "--stow", orthanc.dicomweb, "--stow-file", str(tmp_path / "reading.dcm")]) == 0
        assert "1 object already there" in capsys.readouterr().out
        monkeypatch.setenv("CXRVIZ_DICOMWEB", orthanc.dicomweb)  # --stow alone: the configured PACS
        assert main(["export", "--stow", "--stow-file", str(tmp_path / "reading.dcm")]) == 0
    finally:
        orthanc.delete(sr.SOPInstanceUID)
