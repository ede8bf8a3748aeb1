"""`import`: a corrections CSV into the review store."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.config import Settings

NAME = "import"
HELP = "import a corrections CSV into the store"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument("csv", type=Path, help="a corrections CSV written by `export` or the Review page")
    parser.add_argument("--db", default=settings.db, help="review store: SQLite path or postgresql:// URL (default: CXRVIZ_DB)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.review.export import import_corrections
    from cxrviz.review.store import Store

    count = import_corrections(Store(args.db, settings.db_timeout), args.csv)
    print(f"imported {count} reviews into {args.db}")
    return 0
