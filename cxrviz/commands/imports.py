"""`import`: a corrections CSV into the review store."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.config import Settings
from cxrviz.errors import CxrvizError

NAME = "import"
HELP = "import a corrections CSV into the store"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument("csv", type=Path, nargs="?", help="a corrections CSV written by `export` or the Review page")
    parser.add_argument("--db", default=settings.db, help="review store: SQLite path or postgresql:// URL (default: CXRVIZ_DB)")
    parser.add_argument("--boxes", type=Path, default=None, help="a reviewer-box CSV written by `export --boxes`")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.review.export import import_corrections
    from cxrviz.review.store import Store

    if args.boxes is not None:  # reviewer boxes
        from cxrviz.commands._boxes import import_boxes

        import_boxes(args, Store(args.db, settings.db_timeout))
        if args.csv is None:
            return 0
    if args.csv is None:
        raise CxrvizError("Give a corrections CSV to import, or --boxes FILE.")
    count = import_corrections(Store(args.db, settings.db_timeout), args.csv)
    print(f"imported {count} reviews into {args.db}")
    return 0
