"""Where one "Save and next" page run spends its time, on the server, over a full-size tree.

Runs the Review page in-process (Streamlit's AppTest, which runs the same script as the server)
over the 112,120-link folder, warms it, then profiles N save-and-next runs with cProfile and prints
the median wall time per run and the functions with the most cumulative time.

    .venv/bin/python benchmarks/profile_review.py [--steps 8] [--images DIR] [--top 40]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.fulltree import build_full_tree  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--images", type=Path, help="an existing image folder (default: build the 112,120-link tree)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds a reader looks at an image before saving")
    parser.add_argument("--page", choices=["review", "image"], default="review",
                        help="image: profile the Image page's first run in a new session (warm server) instead")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cxrviz-prof-", dir=os.environ.get("TMPDIR")))
    images = args.images or build_full_tree(work / "nih")
    os.environ.update({"CXRVIZ_IMAGES": str(images), "CXRVIZ_CACHE": str(work / "cache"),
                       "CXRVIZ_DB": str(work / "reviews.sqlite"), "CXRVIZ_DEVICE": "cpu"})
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    profile, active = cProfile.Profile(), [False]
    original = script_runner.exec_func_with_error_handling

    def profiled(func, ctx):  # the script runs in its own thread: profile it there
        if not active[0]:
            return original(func, ctx)
        profile.enable()
        try:
            return original(func, ctx)
        finally:
            profile.disable()

    script_runner.exec_func_with_error_handling = profiled

    if args.page == "image":
        _image_page(args, active, profile)
        return
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    at.switch_page("pages/review.py")
    at.run()
    at.text_input(key="reviewer").input("Prof").run()
    for _ in range(2):  # warm: the model, the first heatmaps, the caches
        at.button(key=f"save_{at.session_state['image']}").click().run()
    times = []
    active[0] = True
    for _ in range(args.steps):
        button = at.button(key=f"save_{at.session_state['image']}")
        time.sleep(args.pause)  # the prefetch of the next image finishes, as it does while a reader looks
        started = time.perf_counter()
        button.click().run()
        times.append(time.perf_counter() - started)
        assert not at.exception, [e.value for e in at.exception]
    print(f"save-and-next page run (in-process, no browser): median {statistics.median(times):.3f} s "
          f"over {len(times)} [min {min(times):.3f}, max {max(times):.3f}]")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(r"cxrviz|pages", args.top)
    print(out.getvalue())


def _image_page(args, active: list, profile: cProfile.Profile) -> None:
    from streamlit.testing.v1 import AppTest

    from cxrviz.data.image_index import scan_images

    names = scan_images(Path(os.environ["CXRVIZ_IMAGES"])).sorted_names
    times = []
    for i in range(args.steps + 1):  # the first warms the server (metadata, index, model)
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
        at.query_params["image"] = names[1000]  # as the browser benchmark: a reload of one image, caches warm
        at.switch_page("pages/image.py")
        active[0] = i > 0
        started = time.perf_counter()
        at.run()
        if i:
            times.append(time.perf_counter() - started)
        assert not at.exception, [e.value for e in at.exception]
    print(f"Image page first run (new session, in-process): median {statistics.median(times):.3f} s over {len(times)}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(r"cxrviz|pages", args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
