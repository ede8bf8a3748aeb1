"""A full-size NIH image folder for benchmarks: 112,120 hard links in the release's layout.

`images_001/images/ … images_012/images/`, file names from the metadata (sorted, split as the
release splits them: 4,999 in the first folder, 10,000 in each of the next ten, the rest in the
last), each a hard link to one of the real images in ../shared/nih/images (a symlink where the
filesystem refuses hard links). Made in a temporary folder in a few seconds; nothing is copied.

    python benchmarks/fulltree.py /tmp/nih-full      # build it by hand (prints the time)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import NIH_IMAGES  # noqa: E402

FOLDER_SIZES = [4999] + [10000] * 10 + [7121]  # 112,120 in all, as in the NIH release


def build_full_tree(root: Path, source: Path = NIH_IMAGES, names: list[str] | None = None) -> Path:
    """Fill `root` with the NIH layout; returns `root`. Existing links are kept (re-runs are cheap)."""
    from cxrviz.data.metadata import load_metadata

    sources = sorted(p for p in Path(source).glob("*.png"))
    if not sources:
        raise SystemExit(f"no images in {source}: the benchmarks need ../shared/nih/images")
    names = sorted(names if names is not None else load_metadata().table["image"].tolist())
    link = os.link
    start = 0
    for number, size in enumerate(FOLDER_SIZES, start=1):
        folder = root / f"images_{number:03d}" / "images"
        folder.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(names[start : start + size], start=start):
            target = folder / name
            if target.exists():
                continue
            try:
                link(sources[i % len(sources)], target)
            except OSError:  # another filesystem, or hard links refused
                link = os.symlink
                link(sources[i % len(sources)], target)
        start += size
    return root


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/cxrviz-nih-full")
    began = time.perf_counter()
    build_full_tree(out)
    count = sum(1 for _ in out.glob("images_*/images/*.png"))
    print(f"{count:,} files under {out} in {time.perf_counter() - began:.1f} s")
