"""Explanation speed: one Grad-CAM of one image with a warm model, the image page's first paint
with a warm model (AppTest, server-side), and batch prediction throughput into the store.
Run: .venv/bin/python benchmarks/bench_cam.py"""

from __future__ import annotations

import os
import tempfile
import time

from _common import NIH_IMAGES, REPO, report, timed

from cxrviz.data.image_index import scan_images
from cxrviz.data.imaging import load_gray
from cxrviz.explain.cam import heatmap
from cxrviz.model.registry import bundled_spec, ensemble_spec, load_model
from cxrviz.review.store import Store
from cxrviz.review.triage import predict_missing


def main() -> None:
    model = load_model(bundled_spec(), "cpu")
    gray = load_gray(NIH_IMAGES / "00009745_000.png")  # a 1024-px original
    for method in ("GradCAM", "GradCAM++", "EigenCAM"):
        report(f"{method}, one 1024-px image, warm model", timed(lambda: heatmap(model, gray, 1, method), repeat=5),
               target=0.5 if method == "GradCAM" else None)
    report("ScoreCAM, one image, warm model", timed(lambda: heatmap(model, gray, 1, "ScoreCAM"), repeat=1, warmup=0))
    if ensemble_spec() is not None:  # every member's layer is hooked: about one CAM per member
        members = load_model(ensemble_spec(), "cpu")
        for method in ("GradCAM", "GradCAM++", "EigenCAM"):
            report(f"{method}, ensemble of {len(members.spec.member_sizes)}, warm", timed(lambda: heatmap(members, gray, 1, method), repeat=5),
                   target=0.5 if method == "GradCAM" else None)

    with tempfile.TemporaryDirectory() as home:
        os.environ.update(CXRVIZ_IMAGES=str(NIH_IMAGES), CXRVIZ_CACHE=f"{home}/cache", CXRVIZ_DB=f"{home}/r.sqlite", CXRVIZ_DEVICE="cpu")
        from streamlit.testing.v1 import AppTest

        def first_paint(image: str) -> None:
            at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
            at.query_params["image"] = image
            at.switch_page("pages/image.py")
            at.run()
            assert not at.exception

        first_paint("00000100_000.png")  # warms the model, metadata and boxes caches
        names = ["00001369_000.png", "00013125_000.png", "00008386_000.png", "00001933_000.png", "00004296_000.png"]
        state = {"i": 0}

        def next_image() -> None:
            first_paint(names[state["i"] % len(names)])
            state["i"] += 1

        report("image page first paint, warm model (new image)", timed(next_image, repeat=5, warmup=0), target=2.0)

        index = scan_images(NIH_IMAGES)
        chosen = sorted(index.paths)[:96]
        store = Store(f"{home}/batch.sqlite")
        start = time.perf_counter()
        predict_missing(store, model, chosen, [index.paths[n] for n in chosen])
        elapsed = time.perf_counter() - start
        print(f"{'batch prediction into the store (96 images)':<48} {len(chosen) / elapsed:8.1f} img/s")
        start = time.perf_counter()
        predict_missing(store, model, chosen, [index.paths[n] for n in chosen])
        print(f"{'the same batch again (cached)':<48} {time.perf_counter() - start:8.4f} s")


if __name__ == "__main__":
    main()
