"""`pacs_view.store_button`, the widget the Review page uses to store a signed report's SR: each
object's outcome shown (stored, already there, refused with the reason), a PACS that fails said."""

from __future__ import annotations

import warnings

from streamlit.testing.v1 import AppTest

from tests.conftest import shown


def _script(sr_path: str):
    import pydicom

    from cxrviz.app import pacs_view, resources

    pacs_view.store_button(resources.settings(), lambda: [pydicom.dcmread(sr_path)])


def _sr_file(pacs_content, tmp_path, **kwargs):
    from tests.pacs.sr_files import reading_sr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sr = reading_sr(pacs_content["made"][4].dataset, "Ada^Dr", ["Nodule"], **kwargs)
    path = tmp_path / f"{sr.SOPInstanceUID}.dcm"
    sr.save_as(path, enforce_file_format=True)
    return sr, path


def _press(orthanc, path, secrets=True) -> AppTest:
    at = AppTest.from_function(_script, args=(str(path),), default_timeout=60)
    if secrets:
        at.secrets["dicomweb"] = {"username": orthanc.auth[0], "password": orthanc.auth[1]}
    at.run()
    at.button(key="pacs_stow").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_store_then_already_there_then_refused(app_env, orthanc, pacs_content, tmp_path, monkeypatch):
    monkeypatch.setenv("CXRVIZ_DICOMWEB", orthanc.dicomweb)
    sr, path = _sr_file(pacs_content, tmp_path)
    try:
        assert f"{sr.SOPInstanceUID}: stored" in shown(_press(orthanc, path).success[0].value)
        assert "already there" in shown(_press(orthanc, path).info[0].value)
    finally:
        orthanc.delete(sr.SOPInstanceUID)
    refused, refused_path = _sr_file(pacs_content, tmp_path, series_description="REFUSE ME")
    assert "refused" in shown(_press(orthanc, refused_path).warning[0].value)
    assert "401" in shown(_press(orthanc, refused_path, secrets=False).error[0].value)


def test_no_button_without_a_pacs(app_env, orthanc, pacs_content, tmp_path, monkeypatch):
    monkeypatch.delenv("CXRVIZ_DICOMWEB", raising=False)
    _, path = _sr_file(pacs_content, tmp_path)
    at = AppTest.from_function(_script, args=(str(path),), default_timeout=60)
    at.run()
    assert not at.button and not at.exception



def test_the_heatmap_overlay_goes_to_the_pacs_as_a_derived_image_of_its_study(app_env, orthanc, pacs_content, pacs, monkeypatch):
    """What the Image page's "Store the heatmap overlay in the PACS" stores: a DERIVED Secondary
    Capture of the GradCAM overlay, in the PACS image's own study, naming it as its source."""
    import requests

    from cxrviz.app import pacs_view
    from cxrviz.config import Settings
    from cxrviz.data.dicomweb import ALREADY_THERE, STORED, stow
    from cxrviz.model.registry import bundled_spec, load_model

    made = pacs_content["made"][3]
    _, decoded = pacs.open_image(made.sop_uid)
    header = pacs.instance_header(made.sop_uid)
    assert header.SOPInstanceUID == made.sop_uid and header.StudyInstanceUID == made.study_uid and "PixelData" not in header
    monkeypatch.setattr(pacs_view, "source_header", lambda config, uid: pacs.instance_header(uid))
    (capture,) = pacs_view.heatmap_capture_of(Settings.from_env(), load_model(bundled_spec(), "cpu"), made.sop_uid, decoded.gray)
    assert list(capture.ImageType[:2]) == ["DERIVED", "SECONDARY"] and capture.StudyInstanceUID == made.study_uid
    assert capture.SourceImageSequence[0].ReferencedSOPInstanceUID == made.sop_uid
    assert capture.pixel_array.shape == (*decoded.gray.shape, 3)
    colour = capture.pixel_array.astype(int)
    assert (abs(colour[..., 0] - colour[..., 2]) > 20).mean() > 0.05  # a coloured map over the film, not the film alone
    try:
        assert [r.outcome for r in stow(pacs, [capture])] == [STORED]
        assert [r.outcome for r in stow(pacs, [capture])] == [ALREADY_THERE]  # the same overlay has the same UID
        found = requests.get(f"{orthanc.dicomweb}/instances", params={"StudyInstanceUID": made.study_uid},
                             auth=orthanc.auth, timeout=10).json()
        assert capture.SOPInstanceUID in {f["00080018"]["Value"][0] for f in found}
    finally:
        orthanc.delete(capture.SOPInstanceUID)
