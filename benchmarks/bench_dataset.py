"""Dataset-layer speed on this machine: cold metadata load, a filter change on all rows, one
page of 24 cached thumbnails. Run: .venv/bin/python benchmarks/bench_dataset.py"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import NIH_IMAGES, REPO, report, timed

from cxrviz.app.gallery import page_tiles
from cxrviz.data.filters import Filter, apply_filter
from cxrviz.data.image_index import scan_images
from cxrviz.data.metadata import load_metadata
from cxrviz.findings import FINDINGS


def cold_load() -> None:
    """A new process each time: nothing cached, the file read and parsed from scratch."""
    code = "import time; t=time.perf_counter(); from cxrviz.data.metadata import load_metadata; m=load_metadata(); print(time.perf_counter()-t)"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True)


def main() -> None:
    report("cold metadata load, new process incl. imports", timed(cold_load, repeat=5), target=1.5)
    report("metadata load, warm imports (112,120 rows)", timed(load_metadata, repeat=5), target=1.5)
    metadata = load_metadata()
    rng = np.random.default_rng(0)
    present = np.zeros(len(metadata), dtype=bool)
    present[rng.choice(len(metadata), 452, replace=False)] = True
    specs = [
        Filter(findings=tuple(rng.choice(FINDINGS, 2, replace=False)), match=m, genders=("F",), views=("PA",),
               age_min=20, age_max=60, include_unknown_age=False, has_image=bool(i % 2))
        for i, m in enumerate(["any of", "all of", "exactly these"] * 10)
    ]
    state = {"i": 0}

    def one_filter() -> None:
        apply_filter(metadata, specs[state["i"] % len(specs)], present)
        state["i"] += 1

    report("filter change on all 112,120 rows", timed(one_filter, repeat=30), target=0.1)
    index = scan_images(NIH_IMAGES)
    report(f"image index scan ({len(index)} files)", timed(lambda: scan_images(NIH_IMAGES), repeat=5))
    rows = np.flatnonzero(metadata.table["image"].isin(list(index.paths)).to_numpy())
    with tempfile.TemporaryDirectory() as cache:
        cache_dir = Path(cache)
        report("page of 24 thumbnails, cold (decode + write)", timed(lambda: page_tiles(metadata, rows, index, cache_dir, 2), repeat=1, warmup=0))

        def cached_page() -> None:
            for tile in page_tiles(metadata, rows, index, cache_dir, 1):
                tile.thumbnail.read_bytes()  # what st.image then sends

        report("page of 24 cached thumbnails (tiles + bytes)", timed(cached_page, repeat=10), target=0.3)


if __name__ == "__main__":
    main()
