"""Shared fixtures: the real NIH images in ../shared/nih, the real metadata, isolated settings."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NIH_IMAGES = (REPO.parent / "shared" / "nih" / "images").resolve()
BOXED_1024 = "00009745_000.png"  # boxed Cardiomegaly, a 1024-px original in ../shared/nih
RGBA_1024 = "00001369_000.png"  # boxed too, and one of the RGBA originals
SMALL_512 = "00000282_000.png"


@pytest.fixture(scope="session")
def nih_images() -> Path:
    if not NIH_IMAGES.is_dir():
        pytest.fail(f"the real NIH images are expected in {NIH_IMAGES} (see ../shared/nih/README.md)")
    return NIH_IMAGES


@pytest.fixture(scope="session")
def metadata():
    from cxrviz.data.metadata import load_metadata

    return load_metadata()


@pytest.fixture(scope="session")
def boxes():
    from cxrviz.data.boxes import load_boxes

    return load_boxes()


@pytest.fixture()
def app_env(tmp_path, monkeypatch, nih_images):
    """Settings for an app run that touches nothing outside tmp_path."""
    monkeypatch.setenv("CXRVIZ_IMAGES", str(nih_images))
    monkeypatch.setenv("CXRVIZ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CXRVIZ_DB", str(tmp_path / "reviews.sqlite"))
    monkeypatch.setenv("CXRVIZ_WEIGHTS_DIR", str(tmp_path / "weights"))
    for name in ("CXRVIZ_METADATA", "CXRVIZ_BBOX", "CXRVIZ_WEIGHTS", "CXRVIZ_MODEL", "CXRVIZ_DICOMWEB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CXRVIZ_DEVICE", "cpu")
    return tmp_path


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL server on a free loopback port, for the whole session."""
    from tests.postgres_server import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    """A review-store target: a fresh SQLite file, or the session's PostgreSQL with a clean schema."""
    if request.param == "sqlite":
        return str(tmp_path / "reviews.sqlite")
    url = request.getfixturevalue("postgres_url")
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # a clean schema per test
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return url


def shown(value: str) -> str:
    """What a reader sees of a message that went through `app.text.escape_markdown`."""
    import re

    return re.sub(r"\\(.)", r"\1", value).replace("\u2060", "")


@pytest.fixture(autouse=True)
def _batch_commands_keep_the_test_runners_priority(monkeypatch):
    """A batch command run in-process (`cli.main(["evaluate", ...])`) would lower the CPU priority of
    the pytest process itself, for every test after it; the command-line tests that check the
    lowering run their commands in a subprocess (tests/test_priority.py)."""
    from cxrviz import priority

    monkeypatch.setattr(priority, "lower", lambda by: None)
