"""The app served against a PACS: `streamlit run app.py` with CXRVIZ_DICOMWEB set and the PACS's
credentials in a secrets file of its own (`--secrets.files`), on a free loopback port. For the
browser test and `benchmarks/bench_pacs.py`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


@contextmanager
def pacs_app(work: Path, dicomweb: str, auth: tuple[str, str], images: Path):
    """Yields the app's base URL; its cache and review store are in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    secrets = work / "secrets.toml"
    secrets.write_text(f'[dicomweb]\nusername = "{auth[0]}"\npassword = "{auth[1]}"\n')
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CXRVIZ_IMAGES": str(images), "CXRVIZ_CACHE": str(work / "cache"),
           "CXRVIZ_DB": str(work / "reviews.sqlite"), "CXRVIZ_DEVICE": "cpu", "CXRVIZ_DICOMWEB": dicomweb}
    log = open(work / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false", "--secrets.files", str(secrets)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the app did not start: {(work / 'server.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
