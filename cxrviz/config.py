"""Settings read from environment variables, so the app, CLI and tests agree on them."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import platformdirs

from cxrviz.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# (variable, what it holds) — the README and the sidebar list these.
ENV_VARS: dict[str, str] = {
    "CXRVIZ_IMAGES": "folder of NIH images (flat, images_0NN/images/, or Kaggle sample/images)",
    "CXRVIZ_METADATA": "your Data_Entry_2017.csv (default: the copy inside torchxrayvision)",
    "CXRVIZ_BBOX": "your BBox_List_2017.csv (default: the copy inside torchxrayvision)",
    "CXRVIZ_CACHE": "folder for thumbnails and the image index (default: user cache folder)",
    "CXRVIZ_MODEL": "model shown by default (default: the bundled model)",
    "CXRVIZ_WEIGHTS": "a DenseNet-121 checkpoint (CheXNet-style state dict) to register",
    "CXRVIZ_WEIGHTS_DIR": "folder whose *.pt, *.pth and *.safetensors DenseNet-121 checkpoints users may pick "
                          "(default: weights/ in the user data folder)",
    "CXRVIZ_WEIGHTS_URL": "folder URL the torchxrayvision weight files are downloaded from when a user asks "
                          "(`weights fetch`, the sidebar button; default: torchxrayvision's GitHub release)",
    "CXRVIZ_DEVICE": "cuda, mps or cpu (default: the best one present)",
    "CXRVIZ_DB": "review store: a SQLite path or a postgresql:// URL",
    "CXRVIZ_DB_TIMEOUT": "seconds a save waits for a busy database before saying so (default 5)",
    "CXRVIZ_DICOMWEB": "a PACS's DICOMweb base URL, e.g. http://127.0.0.1:8042/dicom-web, added as an image source "
                       "(credentials: [dicomweb] username/password or token in .streamlit/secrets.toml)",
    "CXRVIZ_DICOMWEB_TIMEOUT": "seconds a PACS request may take before the page says the PACS is slow (default 10)",
    "CXRVIZ_DICOMWEB_USER": "the CLI's PACS user name (with CXRVIZ_DICOMWEB_PASSWORD), or CXRVIZ_DICOMWEB_TOKEN: a bearer "
                            "token; the app reads [dicomweb] in .streamlit/secrets.toml instead",
    "CXRVIZ_ALLOW_ANONYMOUS": "1 lets a team store (PostgreSQL) be used without sign-in: anyone can type any name "
                              "(default: refused unless [auth] is configured)",
}


def _path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        seconds = float(value) if value else default
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise ConfigError(f"{name} must be a number of seconds between 0 and 3600; it is {value!r}.")
    return seconds


def _url(name: str) -> str | None:
    """An http(s) base URL without credentials in it (those come from secrets, never the URL)."""
    from urllib.parse import urlsplit

    value = os.environ.get(name, "").strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if "@" in parts.netloc:  # checked first: a message never repeats a password
        raise ConfigError(f"{name} must not hold a user name or password; put them in .streamlit/secrets.toml "
                          "under [dicomweb] (username, password or token).")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http:// or https:// URL such as http://127.0.0.1:8042/dicom-web; it is {value!r}.")
    return value


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ConfigError(f"{name} must be 1 or 0; it is {value!r}.")


@dataclass(frozen=True)
class Settings:
    """A snapshot of the configuration; build one with `Settings.from_env()`."""

    images: Path | None
    metadata: Path | None
    bbox: Path | None
    cache: Path
    model: str | None
    weights: Path | None
    weights_dir: Path
    device: str | None
    db: str
    db_timeout: float = 5.0
    weights_url: str | None = None
    allow_anonymous: bool = False
    dicomweb: str | None = None
    dicomweb_timeout: float = 10.0

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(platformdirs.user_data_dir("cxrviz"))
        cache = _path("CXRVIZ_CACHE") or Path(platformdirs.user_cache_dir("cxrviz"))
        return cls(
            images=_path("CXRVIZ_IMAGES"),
            metadata=_path("CXRVIZ_METADATA"),
            bbox=_path("CXRVIZ_BBOX"),
            cache=cache,
            model=os.environ.get("CXRVIZ_MODEL") or None,
            weights=_path("CXRVIZ_WEIGHTS"),
            weights_dir=_path("CXRVIZ_WEIGHTS_DIR") or data_dir / "weights",
            device=os.environ.get("CXRVIZ_DEVICE") or None,
            db=os.environ.get("CXRVIZ_DB") or str(data_dir / "reviews.sqlite"),
            db_timeout=_seconds("CXRVIZ_DB_TIMEOUT", 5.0),
            weights_url=os.environ.get("CXRVIZ_WEIGHTS_URL", "").strip() or None,
            allow_anonymous=_flag("CXRVIZ_ALLOW_ANONYMOUS"),
            dicomweb=_url("CXRVIZ_DICOMWEB"),
            dicomweb_timeout=_seconds("CXRVIZ_DICOMWEB_TIMEOUT", 10.0),
        )

    @property
    def team_mode(self) -> bool:
        """A PostgreSQL store is shared by a team: who saved what must be trustworthy."""
        return self.db.split("://", 1)[0].lower().startswith(("postgresql", "postgres")) if "://" in self.db else False

    def as_rows(self) -> list[tuple[str, str]]:
        """(variable, value) pairs for the read-only sidebar display."""
        rows = []
        for field in fields(self):
            value = getattr(self, field.name)
            rows.append((f"CXRVIZ_{field.name.upper()}", "(default)" if value is None else str(value)))
        return rows


def dicomweb_credentials_from_env() -> dict[str, str]:
    """The CLI's PACS credentials (CXRVIZ_DICOMWEB_USER / _PASSWORD / _TOKEN); kept out of `Settings`
    so that no settings display ever shows them."""
    names = {"username": "CXRVIZ_DICOMWEB_USER", "password": "CXRVIZ_DICOMWEB_PASSWORD", "token": "CXRVIZ_DICOMWEB_TOKEN"}
    return {key: os.environ[name] for key, name in names.items() if os.environ.get(name)}
