"""Which NIH images are present locally, and where, in the folder layouts people really have.

Layouts: a flat folder; the full download's `images_001/images/ … images_012/images/`; Kaggle's
5% sample (`sample/images` beside `sample_labels.csv`). The scan lists directories only (no
per-file stat) and its result is keyed by the folders' mtimes, so reruns reuse it.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

NIH_NAME = re.compile(r"^\d{8}_\d{3}\.png$", re.IGNORECASE)
MAX_DEPTH = 3


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageIndex:
    """File name -> path for every NIH image found under `root`."""

    root: Path | None
    paths: dict[str, Path] = field(default_factory=dict)
    layout: str = "none"
    sample_labels: Path | None = None

    def __len__(self) -> int:
        return len(self.paths)

    @cached_property
    def sorted_names(self) -> tuple[str, ...]:
        """Every image name, sorted once per index (a queue over 112,120 images is rebuilt each run)."""
        return tuple(sorted(self.paths))

    def __contains__(self, name: object) -> bool:
        return name in self.paths

    def path_of(self, name: str) -> Path | None:
        return self.paths.get(name)


def _image_dirs(root: Path, mtimes: dict[Path, int] | None = None) -> list[Path]:
    """Folders under root (to MAX_DEPTH) that may hold images, root first.

    A symlinked folder is followed once: a link back into a folder already visited (a loop, or
    30 links to `.`) is skipped, so a scan never walks the same folder twice. With `mtimes`, each
    folder's mtime is recorded there before the folder is listed (see `folder_signature`)."""
    found = [root]
    frontier = [root]
    seen = set()
    try:
        seen.add(_identity(root))
    except OSError:
        return found
    for _ in range(MAX_DEPTH):
        nxt = []
        for folder in frontier:
            try:
                if mtimes is not None:
                    mtimes[folder] = os.stat(folder).st_mtime_ns
                with os.scandir(folder) as entries:
                    for entry in sorted(entries, key=lambda e: e.name):
                        if not entry.is_dir(follow_symlinks=True):
                            continue
                        identity = _identity(Path(entry.path))
                        if identity not in seen:
                            seen.add(identity)
                            nxt.append(Path(entry.path))
            except OSError:
                continue
        found.extend(nxt)
        frontier = nxt
    return found


def _identity(folder: Path) -> tuple[int, int]:
    info = os.stat(folder)  # follows links: two paths to one folder share (device, inode)
    return info.st_dev, info.st_ino


_last_signatures: dict[str, tuple[tuple[str, int], ...]] = {}
SETTLE_NS = 2_000_000_000  # folders changed in the last 2 s are walked again on the next call


def _signature_of(folders) -> tuple[tuple[str, int], ...]:
    signature = []
    for folder in folders:
        try:
            signature.append((str(folder), os.stat(folder).st_mtime_ns))
        except OSError:
            continue
    return tuple(signature)


def folder_signature(root: Path) -> tuple[tuple[str, int], ...]:
    """The folders' paths and mtimes: changes whenever a file is added or removed in them.

    Finding the folders lists every entry of every folder (112,120 files in the full layout:
    ~0.1 s, on every page run). A folder's mtime changes whenever an entry of it, file or
    sub-folder, is added, removed or renamed; so while the folders found last time all keep
    their mtimes no folder can have appeared, and their stats (13 in the full layout) suffice."""
    last = _last_signatures.get(str(root))
    if last and _signature_of(folder for folder, _ in last) == last:
        return last
    before_listing: dict[Path, int] = {}
    folders = _image_dirs(root, before_listing)
    # mtimes read before each listing: a folder created while the walk ran moves its parent's
    # mtime after that reading, so the next call sees the change and walks again
    signature = _signature_of(folders)
    signature = tuple((name, before_listing.get(Path(name), mtime)) for name, mtime in signature)
    # a folder changed within the file system's timestamp granularity of this walk may change
    # again without its mtime moving ("racy" mtimes): trust the result only once they are settled
    settled = all(time.time_ns() - mtime > SETTLE_NS for _, mtime in signature)
    _last_signatures[str(root)] = signature if settled else ()
    return signature


def _layout_of(root: Path, dirs_with_images: set[Path]) -> str:
    names = {d.relative_to(root).as_posix() for d in dirs_with_images}
    if any(re.fullmatch(r"images_\d{3}/images", n) for n in names):
        return "nih-full"
    if any(n.endswith("images") and (root / n).parent.joinpath("sample_labels.csv").exists() for n in names):
        return "kaggle-sample"
    if (root / "sample_labels.csv").exists() or (root.parent / "sample_labels.csv").exists():
        return "kaggle-sample"
    return "flat" if names <= {"."} else "nested"


def scan_images(root: Path | None) -> ImageIndex:
    """Index every `NNNNNNNN_NNN.png` under root; an absent root gives an empty index."""
    if root is None or not root.is_dir():
        return ImageIndex(root=root)
    paths: dict[str, Path] = {}
    with_images: set[Path] = set()
    for folder in _image_dirs(root):
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if NIH_NAME.match(entry.name) and entry.name not in paths:
                        paths[entry.name] = Path(entry.path)
                        with_images.add(folder)
        except OSError:
            continue
    sample = next((p for p in (root / "sample_labels.csv", root.parent / "sample_labels.csv") if p.exists()), None)
    index = ImageIndex(root=root, paths=paths, layout=_layout_of(root, with_images), sample_labels=sample)
    log.info("Indexed %d images under %s (%s layout)", len(paths), root, index.layout)
    return index
