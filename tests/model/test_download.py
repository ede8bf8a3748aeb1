"""The weight download: from a local HTTP server on 127.0.0.1, verified, atomic, failing fast."""

from __future__ import annotations

import hashlib
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cxrviz.cli import main
from cxrviz.errors import ModelUnavailableError, WeightsError
from cxrviz.model import download, registry
from cxrviz.model.download import WeightDownload, fetch, xrv_download

NIH = "densenet121-res224-nih"
NIH_FILE = "nih-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture()
def server(tmp_path):
    """A folder served on 127.0.0.1, holding a fake weight file under torchxrayvision's name."""
    served = tmp_path / "served"
    served.mkdir()
    payload = bytes(range(256)) * 1000 + b"tail"
    (served / NIH_FILE).write_bytes(payload)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", payload
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_writes_the_verified_file_with_progress(server, tmp_path):
    base, payload = server
    item = xrv_download(NIH, base, tmp_path / "cache")
    assert item.url == f"{base}/{NIH_FILE}"
    pinned = WeightDownload(item.name, item.url, item.destination, size=len(payload),
                            sha256=hashlib.sha256(payload).hexdigest())
    seen = []
    result = fetch(pinned, lambda done, total: seen.append((done, total)))
    assert result.path.read_bytes() == payload
    assert result.verified == ("size", "sha256") and result.unpinned == ()
    assert seen[0] == (0, len(payload)) and seen[-1] == (len(payload), len(payload))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert leftovers(tmp_path / "cache") == [NIH_FILE]  # no temporary file left beside it


def test_wrong_checksum_is_refused_and_leaves_nothing(server, tmp_path):
    base, payload = server
    item = xrv_download(NIH, base, tmp_path / "cache")
    wrong = WeightDownload(item.name, item.url, item.destination, sha256="0" * 64)
    with pytest.raises(WeightsError, match=r"sha256 [0-9a-f]{64}, not the 0{64} pinned .* refused and deleted"):
        fetch(wrong)
    assert leftovers(tmp_path / "cache") == []
    short = WeightDownload(item.name, item.url, item.destination, size=len(payload) - 1)
    with pytest.raises(WeightsError, match="larger than the .* bytes pinned"):
        fetch(short)
    assert leftovers(tmp_path / "cache") == []


def test_an_existing_file_is_kept_when_the_new_one_is_refused(server, tmp_path):
    base, _ = server
    item = xrv_download(NIH, base, tmp_path / "cache")
    item.destination.parent.mkdir()
    item.destination.write_bytes(b"the good old file")
    with pytest.raises(WeightsError):
        fetch(WeightDownload(item.name, item.url, item.destination, sha256="f" * 64))
    assert item.destination.read_bytes() == b"the good old file"
    assert leftovers(item.destination.parent) == [NIH_FILE]


def test_unreachable_host_fails_fast_saying_what_to_fetch_and_where(tmp_path):
    base = f"http://127.0.0.1:{closed_port()}/weights"
    item = xrv_download(NIH, base, tmp_path / "cache")
    with pytest.raises(ModelUnavailableError) as caught:
        fetch(item, timeout=3)
    message = str(caught.value)
    assert "Could not reach 127.0.0.1" in message
    assert f"{base}/{NIH_FILE}" in message and f"{tmp_path / 'cache'}/" in message and NIH_FILE in message
    assert not (tmp_path / "cache").exists()  # not even the folder


def test_missing_file_on_the_server_says_so(server, tmp_path):
    base, _ = server
    item = xrv_download("densenet121-res224-all", base, tmp_path / "cache")
    with pytest.raises(ModelUnavailableError, match="HTTP 404"):
        fetch(item)
    assert leftovers(tmp_path / "cache") == []


def test_registry_pins_are_checked_and_unknown_names_refused(server, tmp_path, monkeypatch):
    base, payload = server
    monkeypatch.setitem(registry.XRV_PINS, NIH, (len(payload), "ab" * 32))
    item = xrv_download(NIH, base, tmp_path / "cache")
    assert (item.size, item.sha256) == (len(payload), "ab" * 32)
    with pytest.raises(WeightsError, match="pinned in the registry"):
        fetch(item)
    assert leftovers(tmp_path / "cache") == []
    with pytest.raises(ModelUnavailableError, match="known: densenet121-res224-nih"):
        xrv_download("densenet999")
    with pytest.raises(ModelUnavailableError, match="http or https"):
        fetch(WeightDownload("x", "file:///etc/passwd", tmp_path / "x.pt"))


def test_cli_fetch_uses_cxrviz_weights_url_and_reports_unpinned_values(server, tmp_path, monkeypatch, capsys):
    base, payload = server
    monkeypatch.setenv("CXRVIZ_WEIGHTS_URL", base)
    cache = tmp_path / "cache"
    assert main(["weights", "fetch", NIH, "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert (cache / NIH_FILE).read_bytes() == payload
    assert hashlib.sha256(payload).hexdigest() in out and "not verified" in out
    assert main(["weights", "fetch", NIH, "--cache-dir", str(cache)]) == 0
    assert "already there" in capsys.readouterr().out
    monkeypatch.setenv("CXRVIZ_WEIGHTS_URL", f"http://127.0.0.1:{closed_port()}")
    assert main(["weights", "fetch", NIH, "--cache-dir", str(tmp_path / "other"), "--force"]) == 2
    assert "Could not reach" in capsys.readouterr().err


def test_nothing_downloads_without_asking(monkeypatch, tmp_path):
    """Listing and registering models never opens a connection."""
    monkeypatch.setenv("HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise AssertionError("no download without the user asking")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert main(["weights", "list"]) == 0
    specs = registry.registered_specs()
    assert all(registry.availability(s) for s in specs if s.source == "xrv")
    assert set(download.downloadable()) >= set(registry.XRV_IDS)


def test_the_pinned_densenet_all_weights_refuse_another_file(tmp_path):
    """densenet121-res224-all carries a real pin: a file of another size is refused, nothing kept."""
    all_file = "nih-pc-chex-mimic_ch-google-openi-kaggle-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt"
    served = tmp_path / "served"
    served.mkdir()
    (served / all_file).write_bytes(b"not the DenseNet weights" * 100)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        item = xrv_download("densenet121-res224-all", f"http://127.0.0.1:{httpd.server_address[1]}", tmp_path / "cache")
        assert item.size == 28_382_008 and item.sha256.startswith("56524913")
        with pytest.raises(WeightsError, match="not the 28382008 pinned"):
            fetch(item)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert leftovers(tmp_path / "cache") == []
