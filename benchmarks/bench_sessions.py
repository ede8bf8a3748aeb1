"""Server memory per session: the app server's RSS with 0, 1, 4 and 8 browser sessions saving reviews.

Starts the app on the shared NIH images (as tests/e2e/conftest.py does), warms it with two
sessions one after the other (metadata, image index, model and caches loaded: what every session
shares), closes them and reads the server's RSS: the "0 sessions" figure. Then opens sessions one
by one in headless Chromium (each its own browser context, so its own Streamlit session and
reviewer), each on the Review page saving `--saves` reviews with Ctrl+Enter, and keeps them open,
reading the server's RSS (psutil where installed, else /proc/PID/status VmRSS) once it settles
after each. Prints RSS at 0 and at each of `--sessions`, the increment per session (least-squares
slope over every count 0..N: the allocator returns and takes memory in steps of tens of MB, so two
end points alone mislead), and how many sessions a 24 GB machine holds (its memory less 2 GB for
the system, less the 0-session RSS, over the increment). It asserts nothing.

    .venv/bin/python benchmarks/bench_sessions.py [--sessions 1,4,8] [--saves 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from _common import NIH_IMAGES, start_app

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
MACHINE_GB = 24
SYSTEM_GB = 2  # the operating system, the database, a browser on the server: not for sessions


def rss_mb(pid: int) -> float:
    try:
        import psutil
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")
    return psutil.Process(pid).memory_info().rss / 2**20


def _settled_rss(pid: int, seconds: float = 4.0) -> float:
    """The RSS once the server is idle: the last of readings over `seconds` (runs finish, caches fill)."""
    end, value = time.time() + seconds, rss_mb(pid)
    while time.time() < end:
        time.sleep(0.5)
        value = rss_mb(pid)
    return value


def _save_reviews(page, url: str, reviewer: str, saves: int) -> None:
    page.goto(f"{url}/review?reviewer={reviewer}")
    page.get_by_role("button", name="Save and next").wait_for()
    for _ in range(saves):
        current = page.url.split("image=")[1].split("&")[0]
        page.locator(f".st-key-save_{current.replace('.', '-')}").wait_for()
        page.keyboard.press("Control+Enter")
        page.get_by_text(f"Saved {current}").first.wait_for()
        page.wait_for_function(f"() => !document.querySelector('.st-key-save_{current.replace('.', '-')}')")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="1,4,8", help="session counts to read the RSS at (default 1,4,8)")
    parser.add_argument("--saves", type=int, default=3, help="reviews each session saves (default 3)")
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.sessions.split(",")})

    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="cxrviz-sessions-"))
    server, url = start_app(NIH_IMAGES, work)
    try:
        print(f"server pid {server.pid}; RSS just started: {rss_mb(server.pid):.0f} MB; CPU cores {os.cpu_count()}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS, headless=True)
            for warm_up in range(2):
                warm = browser.new_context(viewport={"width": 1400, "height": 1000})
                warm_page = warm.new_page()
                warm_page.set_default_timeout(300_000)
                started = time.perf_counter()
                _save_reviews(warm_page, url, f"Warm{warm_up}", args.saves)
                print(f"warm-up session {warm_up + 1} ({args.saves} saves): {time.perf_counter() - started:.1f} s, "
                      f"RSS {rss_mb(server.pid):.0f} MB")
                warm.close()
            time.sleep(5)
            base = _settled_rss(server.pid, 10)
            print(f"RSS at 0 sessions (warm, the warm-up session closed): {base:.0f} MB")
            contexts, figures = [], {0: base}
            for count in range(1, max(counts) + 1):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(300_000)
                started = time.perf_counter()
                _save_reviews(page, url, f"Reader{count}", args.saves)
                contexts.append(context)
                figures[count] = _settled_rss(server.pid)
                if count in counts:
                    print(f"RSS at {count} sessions: {figures[count]:.0f} MB (the last session's {args.saves} saves took "
                          f"{time.perf_counter() - started:.1f} s)")
            top = max(counts)
            xs, ys = list(figures), list(figures.values())
            mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
            per_session = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)
            print("RSS after each session: " + ", ".join(f"{n}: {v:.0f}" for n, v in figures.items()) + " MB")
            print(f"per session: {per_session:.1f} MB (slope over 0..{top} sessions); end points: "
                  f"{(figures[top] - base) / top:.1f} MB ((RSS at {top} - RSS at 0) / {top})")
            if per_session > 0:
                holds = int((MACHINE_GB * 1024 - SYSTEM_GB * 1024 - base) / per_session)
                print(f"a {MACHINE_GB} GB machine ({SYSTEM_GB} GB kept for the system, {base:.0f} MB for the warm server) "
                      f"holds about {holds} such sessions in one server process")
            for context in contexts:
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
