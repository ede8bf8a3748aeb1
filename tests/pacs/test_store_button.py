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
