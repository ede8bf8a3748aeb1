"""CXRVIZ_DICOMWEB and its timeout: a plain http(s) URL, never one holding credentials; the CLI's
credentials come from their own variables and never appear among the settings shown."""

from __future__ import annotations

import pytest

from cxrviz.config import Settings, dicomweb_credentials_from_env
from cxrviz.errors import ConfigError


def test_url_and_timeout(monkeypatch):
    monkeypatch.setenv("CXRVIZ_DICOMWEB", "http://127.0.0.1:8042/dicom-web/")
    monkeypatch.setenv("CXRVIZ_DICOMWEB_TIMEOUT", "2.5")
    settings = Settings.from_env()
    assert (settings.dicomweb, settings.dicomweb_timeout) == ("http://127.0.0.1:8042/dicom-web", 2.5)
    monkeypatch.delenv("CXRVIZ_DICOMWEB")
    monkeypatch.delenv("CXRVIZ_DICOMWEB_TIMEOUT")
    assert (Settings.from_env().dicomweb, Settings.from_env().dicomweb_timeout) == (None, 10.0)


@pytest.mark.parametrize("value, said", [
    ("http://orthanc:pw-9f3k@pacs.example/dicom-web", "secrets.toml"),
    ("ftp://pacs.example/dicom-web", "http://"),
    ("ftp://orthanc:pw-9f3k@pacs.example/dicom-web", "secrets.toml"),
    ("pacs.example/dicom-web", "http://"),
])
def test_bad_urls_are_refused_without_echoing_a_password(monkeypatch, value, said):
    monkeypatch.setenv("CXRVIZ_DICOMWEB", value)
    with pytest.raises(ConfigError, match=said) as caught:
        Settings.from_env()
    assert "pw-9f3k" not in str(caught.value)


def test_bad_timeout(monkeypatch):
    monkeypatch.setenv("CXRVIZ_DICOMWEB_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="CXRVIZ_DICOMWEB_TIMEOUT"):
        Settings.from_env()


def test_cli_credentials_stay_out_of_the_settings_shown(monkeypatch):
    monkeypatch.setenv("CXRVIZ_DICOMWEB_USER", "ada")
    monkeypatch.setenv("CXRVIZ_DICOMWEB_PASSWORD", "s3cret")
    assert dicomweb_credentials_from_env() == {"username": "ada", "password": "s3cret"}
    assert "s3cret" not in repr(Settings.from_env().as_rows())
