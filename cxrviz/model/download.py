"""Downloading a torchxrayvision weight file, only when a user asks (`python -m cxrviz weights
fetch NAME`, the sidebar's button).

The file goes to torchxrayvision's own cache folder (`~/.torchxrayvision/models_data/`), where the
registry and torchxrayvision look for it. It is written to a hidden temporary file in that folder
and renamed into place only once its size and sha256 match what the registry pins (and its size
matches what the server announced), so an interrupted or tampered download never leaves a file
that looks like weights. Without a network the attempt fails within seconds with a message saying
what to download and where to put it.

`CXRVIZ_WEIGHTS_URL` (a folder URL) replaces torchxrayvision's release folder: a local mirror, or
the tests' HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cxrviz.errors import ModelUnavailableError, WeightsError

log = logging.getLogger(__name__)

CHUNK = 1 << 16
CONNECT_TIMEOUT = 10.0  # seconds to wait for the server (and then for each chunk)

Progress = Callable[[int, "int | None"], None]  # (bytes received, bytes expected or None)


@dataclass(frozen=True)
class WeightDownload:
    """One file to download: where from, where to, and what it must be."""

    name: str
    url: str
    destination: Path
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    sha256: str
    verified: tuple[str, ...]  # what was checked against a pinned value: "size", "sha256"

    @property
    def unpinned(self) -> tuple[str, ...]:
        return tuple(v for v in ("size", "sha256") if v not in self.verified)


def downloadable() -> tuple[str, ...]:
    """The torchxrayvision weight ids a user may download."""
    from cxrviz.model.registry import XRV_PINS

    return tuple(XRV_PINS)


def xrv_download(xrv_id: str, base_url: str | None = None, cache_dir: Path | None = None) -> WeightDownload:
    """The download of torchxrayvision's weight file `xrv_id`: its release URL (or the same file
    name under `base_url`), to its cache folder (or `cache_dir`), with the registry's pinned values."""
    import torchxrayvision as xrv

    from cxrviz.model.registry import XRV_PINS, xrv_cache_dir

    if xrv_id not in XRV_PINS:
        raise ModelUnavailableError(f"No downloadable weights named {xrv_id!r}; known: {', '.join(XRV_PINS)}.")
    url = xrv.models.model_urls[xrv_id]["weights_url"]
    filename = Path(urllib.parse.urlsplit(url).path).name
    if base_url:
        url = base_url.rstrip("/") + "/" + urllib.parse.quote(filename)
    size, sha256 = XRV_PINS[xrv_id]
    folder = Path(cache_dir) if cache_dir is not None else xrv_cache_dir()
    return WeightDownload(name=xrv_id, url=url, destination=folder / filename, size=size, sha256=sha256)


def _by_hand(item: WeightDownload) -> str:
    return (f"Download {item.url} on a machine with internet and put it in {item.destination.parent}/ "
            f"as {item.destination.name}.")


def fetch(item: WeightDownload, progress: Progress | None = None, timeout: float = CONNECT_TIMEOUT) -> Downloaded:
    """Download `item` to its destination, verified, atomically; returns what was written.

    Raises `ModelUnavailableError` (with what to download and where to put it) when the server
    cannot be reached or answers with an error, and `WeightsError` when the file received is not
    the one pinned (no file is left behind in either case).
    """
    scheme = urllib.parse.urlsplit(item.url).scheme
    if scheme not in ("http", "https"):
        raise ModelUnavailableError(f"The weights URL for {item.name} must be http or https; it is {item.url!r}.")
    request = urllib.request.Request(item.url, headers={"User-Agent": "cxrviz"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) only, checked above
    except urllib.error.HTTPError as exc:
        raise ModelUnavailableError(f"The server refused {item.url} (HTTP {exc.code}). {_by_hand(item)}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        log.info("weights download of %s failed: %s", item.url, reason)
        raise ModelUnavailableError(f"Could not reach {urllib.parse.urlsplit(item.url).netloc} ({reason}); "
                                    f"this machine may have no internet. {_by_hand(item)}") from None
    folder = item.destination.parent
    try:  # only once the server answered: a failed attempt leaves no trace
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        response.close()
        raise ModelUnavailableError(f"The folder {folder} cannot be created ({exc.strerror}). {_by_hand(item)}") from None
    digest = hashlib.sha256()
    received = 0
    announced = response.headers.get("Content-Length")
    expected = item.size if item.size is not None else (int(announced) if announced and announced.isdigit() else None)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{item.destination.name}.", suffix=".part", delete=False)
    partial = Path(handle.name)
    try:
        with response, handle:
            if progress:
                progress(0, expected)
            while True:
                try:
                    chunk = response.read(CHUNK)
                except OSError as exc:
                    raise ModelUnavailableError(f"The download of {item.name} was cut off after {received} bytes "
                                                f"({exc}). {_by_hand(item)}") from None
                if not chunk:
                    break
                handle.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if item.size is not None and received > item.size:
                    raise WeightsError(f"The file served for {item.name} is larger than the {item.size} bytes pinned "
                                       f"in the registry; it was refused and deleted. {_by_hand(item)}")
                if progress:
                    progress(received, expected)
            handle.flush()
            os.fsync(handle.fileno())
        verified = _verify(item, received, digest.hexdigest(), announced)
        os.replace(partial, item.destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    log.info("downloaded %s (%d bytes, sha256 %s) to %s", item.url, received, digest.hexdigest(), item.destination)
    return Downloaded(path=item.destination, size=received, sha256=digest.hexdigest(), verified=verified)


def _verify(item: WeightDownload, received: int, sha256: str, announced: str | None) -> tuple[str, ...]:
    verified = []
    if announced and announced.isdigit() and int(announced) != received:
        raise ModelUnavailableError(f"The download of {item.name} stopped after {received} of {announced} bytes; "
                                    f"nothing was kept. {_by_hand(item)}")
    if item.size is not None:
        if received != item.size:
            raise WeightsError(f"The file served for {item.name} has {received} bytes, not the {item.size} pinned "
                               f"in the registry; it was refused and deleted. {_by_hand(item)}")
        verified.append("size")
    if item.sha256 is not None:
        if sha256 != item.sha256.lower():
            raise WeightsError(f"The file served for {item.name} has sha256 {sha256}, not the {item.sha256} pinned "
                               f"in the registry (a damaged or different file); it was refused and deleted. "
                               f"{_by_hand(item)}")
        verified.append("sha256")
    return tuple(verified)
