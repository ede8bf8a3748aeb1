"""`weights`: list the torchxrayvision weight files cxrviz can use, and download one when you ask.

    python -m cxrviz weights list
    python -m cxrviz weights fetch densenet121-res224-nih

The file goes to torchxrayvision's cache folder (~/.torchxrayvision/models_data/), verified against
the size and sha256 the registry pins, written whole or not at all. `--url` (or CXRVIZ_WEIGHTS_URL)
names another folder URL holding the same file names, such as a local mirror.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from cxrviz.config import Settings

NAME = "weights"
HELP = "list torchxrayvision weight files, or download one (weights fetch NAME)"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    from cxrviz.model.download import downloadable

    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("list", help="the downloadable weight files, where they go and whether they are present")
    fetch = sub.add_parser("fetch", help="download one weight file (only when you run this)")
    fetch.add_argument("name", choices=downloadable(), help="torchxrayvision weight id")
    fetch.add_argument("--url", default=settings.weights_url,
                       help="folder URL to download from (default: CXRVIZ_WEIGHTS_URL, else torchxrayvision's release)")
    fetch.add_argument("--cache-dir", type=Path, default=None, help="where to put it (default: torchxrayvision's cache folder)")
    fetch.add_argument("--force", action="store_true", help="download again even if the file is already there")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.model.download import downloadable, fetch, xrv_download

    if args.action == "list":
        for name in downloadable():
            item = xrv_download(name, settings.weights_url)
            state = "present" if item.destination.is_file() else "absent"
            print(f"{name}: {state} · {item.destination} · from {item.url}")
        return 0
    item = xrv_download(args.name, args.url, args.cache_dir)
    if item.destination.is_file() and not args.force:
        print(f"{item.destination} is already there (--force downloads it again)")
        return 0
    print(f"downloading {item.url}\n         to {item.destination}")
    with tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc=args.name) as bar:
        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = fetch(item, progress)
    print(f"wrote {result.path} ({result.size} bytes, sha256 {result.sha256})")
    if result.unpinned:
        print(f"not verified: the registry pins no {' or '.join(result.unpinned)} for {args.name} "
              "(torchxrayvision publishes none); compare the sha256 above with a trusted copy")
    return 0
