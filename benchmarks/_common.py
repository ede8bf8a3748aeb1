"""Small helpers shared by the benchmarks: timing with medians, and where the data is."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
NIH_IMAGES = Path(os.environ.get("CXRVIZ_IMAGES") or REPO.parent / "shared" / "nih" / "images")


def timed(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> tuple[float, float, float]:
    """(min, median, max) seconds of `repeat` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs), statistics.median(runs), max(runs)


def report(name: str, figures: tuple[float, float, float], target: float | None = None, unit: str = "s") -> None:
    low, median, high = figures
    verdict = "" if target is None else (f"  (target < {target} {unit}: {'met' if median < target else 'MISSED'})")
    print(f"{name:<48} median {median:8.4f} {unit}  [min {low:.4f}, max {high:.4f}]{verdict}")


def start_app(images: Path, work: Path):
    """Start `streamlit run app.py` on a free loopback port over `images`, with its cache and review
    store in `work`, and wait for its health check; returns (process, base URL). Stop it yourself."""
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CXRVIZ_IMAGES": str(images), "CXRVIZ_CACHE": str(work / "cache"),
           "CXRVIZ_DB": str(work / "reviews.sqlite"), "CXRVIZ_DEVICE": os.environ.get("CXRVIZ_DEVICE", "cpu")}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                              cwd=REPO, env=env, stdout=open(work / "server.log", "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return server, url
