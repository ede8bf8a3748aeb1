"""The sidebar's download button beside an unavailable torchxrayvision model."""

from __future__ import annotations

import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, shown

NIH = "densenet121-res224-nih"
NIH_FILE = "nih-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def mirror(app_env, monkeypatch):
    """An empty torchxrayvision cache (HOME in tmp_path) and a local server holding the file."""
    import torchxrayvision as xrv

    monkeypatch.setenv("HOME", str(app_env / "home"))
    served = app_env / "served"
    served.mkdir()
    torch.save(xrv.models.DenseNet(num_classes=18), served / NIH_FILE)  # the format torchxrayvision publishes
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _pick_nih(monkeypatch, url: str) -> AppTest:
    monkeypatch.setenv("CXRVIZ_WEIGHTS_URL", url)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.switch_page("pages/upload.py").run()
    at.selectbox(key="model_name").select(NIH).run()
    assert not at.exception
    assert any("is unavailable" in shown(w.value) for w in at.sidebar.warning)
    return at


def test_download_button_fetches_the_weights_and_the_model_loads(mirror, app_env, monkeypatch):
    at = _pick_nih(monkeypatch, mirror)
    assert not (app_env / "home/.torchxrayvision/models_data" / NIH_FILE).exists()  # nothing before the click
    at.button(key=f"download_{NIH}").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert (app_env / "home/.torchxrayvision/models_data" / NIH_FILE).is_file()
    assert not any("is unavailable" in shown(w.value) for w in at.sidebar.warning)
    assert any("torchxrayvision densenet121-res224-nih" in t.value for t in at.sidebar.text)


def test_download_button_without_network_says_what_to_fetch(app_env, monkeypatch):
    monkeypatch.setenv("HOME", str(app_env / "home"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    at = _pick_nih(monkeypatch, f"http://127.0.0.1:{port}")
    at.button(key=f"download_{NIH}").click().run()
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert any("Could not reach 127.0.0.1" in e and NIH_FILE in e and ".torchxrayvision/models_data/" in e
               for e in errors), errors
    assert not (app_env / "home/.torchxrayvision/models_data" / NIH_FILE).exists()
