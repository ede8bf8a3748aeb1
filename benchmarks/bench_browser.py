"""What a reviewer waits for, measured in a real browser over a full-size (112,120-image) folder.

Builds the NIH layout of hard links in a temporary folder (benchmarks/fulltree.py), starts the app
on it, warms the model, then drives headless Chromium:
- "Save and next" (Ctrl+Enter) until the next image is on screen, N times, keyboard only: the
  picture the browser was sent ahead and shows at the key press (`review_keys.next_picture`), or
  the page's own image where none was ready; the page's own image is timed too, and when its form
  is there ("keys reach the new form": keys pressed before are held and applied to it);
- a viewer control (window level, one arrow-key step) until the re-rendered image is on screen;
- a new GradCAM (next finding in "Finding to explain") until its image is on screen;
- the Image page's first paint with a warm model (navigation to the X-ray on screen).
Each wait is timed in the page itself (`performance.now()` on every animation frame), so the
figure is what a person sees, not a polling interval. Prints p50 and p95 of each; it asserts nothing.
With --load it measures everything again with a CPU-bound job running beside the server and prints
each p95 under load over the quiet one: `numpy` (default), one busy numpy process per core at the
normal priority; `predict`, the real batch command (`python -m cxrviz predict` over the same
folder), at the lower priority batch commands take by default (`--nice 10`); `predict-normal`, the
same at the normal priority (`--nice 0`).

    .venv/bin/python benchmarks/bench_browser.py [--steps 30] [--images DIR] [--glance 0.3] [--load [numpy|predict|predict-normal]]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import start_app  # noqa: E402
from benchmarks.fulltree import build_full_tree  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

# The page's X-ray <img> (not the next one, sent hidden with it: `review_keys.next_picture`).
MAIN = """(() => [...document.querySelectorAll('[data-testid="stImage"] img')].find((i) => !i.closest('.st-key-review_next_picture')))"""

# Resolves once an X-ray other than `old` is on screen and decoded: the page's own <img>, or (with
# `ahead`) the next picture the browser put over it at Ctrl+Enter (`review_keys`).
NEW_IMAGE = """([old, t0, ahead]) => new Promise((resolve, reject) => {
  const check = () => {
    const img = %s();
    if (img && img.src !== old && img.complete && img.naturalWidth > 0) { resolve(performance.now() - t0); return; }
    const next = ahead && document.getElementById("cxrviz-next-picture");
    if (next && next.src !== old && next.complete && next.naturalWidth > 0 && next.isConnected) { resolve(performance.now() - t0); return; }
    if (performance.now() - t0 > 120000) { reject(new Error("no new image within 120 s")); return; }
    requestAnimationFrame(check);
  };
  check();
})""" % MAIN


def _src(page) -> str:
    return page.evaluate(f"() => {{ const i = {MAIN}(); return i ? i.src : ''; }}")


def _timed(page, action, ahead: bool = False, own: list | None = None) -> float:
    """Seconds from `action()` (a key press or click) until a new X-ray image is on screen (`ahead`:
    the next picture the browser shows at Ctrl+Enter counts; `own` gets the seconds until the page's own)."""
    old = _src(page)
    t0 = page.evaluate("performance.now()")
    action()
    try:
        seen = page.evaluate(NEW_IMAGE, [old, t0, ahead]) / 1000
        if own is not None:
            own.append(page.evaluate(NEW_IMAGE, [old, t0, False]) / 1000)
        return seen
    except Exception:
        shot = Path(tempfile.gettempdir()) / "bench_browser_stuck.png"
        page.screenshot(path=str(shot))
        print(f"no new image after the last action; screenshot: {shot}")
        raise


def _rss_mb(pid: int) -> float:
    """Resident memory of the app server (Streamlit turns its post-run gc.collect off here: watch it)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _report(name: str, seconds: list[float]) -> None:
    values = np.array(seconds)
    print(f"{name:<42} n={len(values):>3}  p50 {np.percentile(values, 50):6.3f} s  p95 {np.percentile(values, 95):6.3f} s  "
          f"max {values.max():6.3f} s")


def _measure(page, url: str, steps: int, work: Path, server, start: str | None = None,
             glance: float = 0.3) -> tuple[dict[str, list[float]], str]:
    """One pass of every measurement, from the Review queue's image `start` (None: its first) on;
    seconds per wait, and the image the pass left the review at (where the next pass starts)."""
    page.goto(f"{url}/review?reviewer=Bench" + (f"&image={start}" if start else ""))  # the first pass warms metadata, index, model
    page.wait_for_function("() => document.querySelector('[data-testid=\"stImage\"] img')")
    page.wait_for_timeout(3000)
    page.screenshot(path=str(work.parent / "bench_review_first.png"))
    rss_before = _rss_mb(server.pid)
    save, own, ready = [], [], []
    for _ in range(steps):
        before = page.url.split("image=")[1].split("&")[0]
        started = time.perf_counter()
        save.append(_timed(page, lambda: page.keyboard.press("Control+Enter"), ahead=True, own=own))
        # keys reach the new form once the page run ends and the old form is gone
        page.wait_for_function(f"() => !document.querySelector('.st-key-save_{before.replace('.', '-')}')", polling="raf")
        ready.append(time.perf_counter() - started)
        page.wait_for_timeout(glance * 1000)  # a reader glances at the new image (--glance)
    last = page.url.split("image=")[1].split("&")[0]
    print(f"server memory: {rss_before:.0f} MB before the steps, {_rss_mb(server.pid):.0f} MB after {steps}")

    box = page.evaluate(f"() => {{ const r = {MAIN}().getBoundingClientRect(); return {{width: r.width, height: r.height, y: r.top}}; }}")
    print(f"X-ray on screen: {box['width']:.0f}x{box['height']:.0f} px at y={box['y']:.0f} "
          f"({100 * min(box['height'], 1000 - box['y']) / 1000:.0f}% of the window height visible)")

    page.goto(f"{url}/image?image={page.url.split('image=')[1].split('&')[0]}")
    page.wait_for_function("() => document.querySelector('[data-testid=\"stImage\"] img')")
    page.wait_for_timeout(2000)
    page.get_by_role("button", name="Adjust view").click()
    level = page.get_by_role("slider", name="Window level")
    level.focus()
    control = []
    for _ in range(15):
        control.append(_timed(page, lambda: page.keyboard.press("ArrowRight")))
        page.wait_for_timeout(200)
    page.keyboard.press("Escape")

    page.wait_for_timeout(1000)
    cams = []
    finding = page.locator('[data-testid="stSelectbox"]').filter(has_text="Finding to explain").locator('[role="combobox"], input').first
    from cxrviz.findings import FINDINGS

    shown = page.locator('[data-testid="stSelectbox"]').filter(has_text="Finding to explain").inner_text()
    for other in [f for f in FINDINGS if f not in shown][:10]:
        def pick(other=other):
            finding.click()
            page.keyboard.type(other)
            page.wait_for_timeout(150)
            page.keyboard.press("Enter")
        cams.append(_timed(page, pick) - 0.15)  # the pause for the list to filter is not the app's
        page.wait_for_timeout(300)

    first_paint = []
    names = page.evaluate("() => location.search")
    for _ in range(5):
        t0 = time.perf_counter()
        page.goto(f"{url}/image{names}")
        page.wait_for_function("() => { const i = document.querySelector('[data-testid=\"stImage\"] img');"
                               " return i && i.complete && i.naturalWidth > 0; }", polling="raf")
        first_paint.append(time.perf_counter() - t0)
    return {"Review: save and next -> next image": save, "Review: save and next -> the page's own image": own,
            "Review: save and next -> keys reach the new form": ready,
            "Viewer: window level step -> new image": control, "Viewer: new GradCAM (next finding) -> image": cams,
            "Image page: first paint, warm model": first_paint}, last


LOAD = """
import numpy as np
a = np.random.default_rng(0).random((300, 300))
while True:
    a = np.tanh(a @ a.T / 300)
"""


def _start_load(kind: str, images: Path, work: Path) -> list:
    """A CPU-bound job beside the server: one busy numpy process per core (one BLAS thread each), or
    the batch predict command over `images` (its own priority, or --nice 0)."""
    import subprocess

    if kind.startswith("predict"):
        command = [sys.executable, "-m", "cxrviz", "predict", "--images", str(images), "--out", str(work / "batch.csv"),
                   "--workers", "1", *(["--nice", "0"] if kind == "predict-normal" else [])]
        env = {**os.environ, "CXRVIZ_CACHE": str(work / "cache"), "CXRVIZ_DEVICE": "cpu"}
        batch = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=open(work / "batch.log", "w"))
        time.sleep(20)  # the model loaded and the first batches running before the measurements start
        if batch.poll() is not None:
            raise SystemExit(f"the batch predict stopped (rc {batch.returncode}); see {work / 'batch.log'}")
        return [batch]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return [subprocess.Popen([sys.executable, "-c", LOAD], env=env) for _ in range(os.cpu_count() or 1)]


def _stop_load(processes: list) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30, help="save-and-next steps (default 30)")
    parser.add_argument("--images", type=Path, help="an existing image folder (default: build the 112,120-link tree)")
    parser.add_argument("--glance", type=float, default=0.3,
                        help="seconds between the next image on screen and the next save (default 0.3; readers take seconds)")
    parser.add_argument("--load", nargs="?", const="numpy", choices=("numpy", "predict", "predict-normal"), default=None,
                        help="measure again with a CPU-bound job beside the server (numpy: a busy process per core; predict: "
                             "the batch predict command at its default priority; predict-normal: with --nice 0); prints p95 load / quiet")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="cxrviz-bench-", dir=os.environ.get("TMPDIR")))
    try:
        images = args.images
        if images is None:
            started = time.perf_counter()
            images = build_full_tree(work / "nih")
            print(f"full-size tree: 112,120 links in {time.perf_counter() - started:.1f} s")
        server, url = start_app(images, work)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                                     args=FLAGS, headless=True)
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.set_default_timeout(300_000)
                print(f"CPU cores: {os.cpu_count()}; window 1600x1000")

                figures, last = _measure(page, url, args.steps, work, server, glance=args.glance)
                for name, values in figures.items():
                    _report(name, values)
                if args.load:
                    load = _start_load(args.load, images, work)
                    try:
                        print("with a CPU-bound job beside it: " + {
                            "numpy": f"{os.cpu_count()} busy numpy workers, one per core, normal priority",
                            "predict": "python -m cxrviz predict over the same folder, at its default lower priority (--nice 10)",
                            "predict-normal": "python -m cxrviz predict over the same folder, --nice 0 (normal priority)"}[args.load])
                        loaded, _ = _measure(page, url, args.steps, work, server, start=last, glance=args.glance)  # images not seen yet
                    finally:
                        _stop_load(load)
                    for name, values in loaded.items():
                        _report(name + " (load)", values)
                    print(f"{'p95 under load / quiet':<42} " + "  ".join(
                        f"{short}: {np.percentile(loaded[name], 95) / np.percentile(figures[name], 95):.2f}x"
                        for name, short in zip(figures, ("save", "page", "keys", "window", "cam", "paint"))))
                print(f"server memory at the end: {_rss_mb(server.pid):.0f} MB")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
