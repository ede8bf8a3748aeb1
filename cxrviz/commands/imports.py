"""`import`: a corrections CSV into the review store."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.config import Settings

NAME = "import"
HELP = "import a corrections CSV into the store"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument("csv", type=Path, nargs="?", help="a corrections CSV written by `export` or the Review page")
    parser.add_argument("--predictions", type=Path, default=None,
                        help="a Parquet file or folder from `predict --engine ray`, into the prediction cache")
    parser.add_argument("--db", default=settings.db, help="review store: SQLite path or postgresql:// URL (default: CXRVIZ_DB)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.predictions is not None:
        from cxrviz.review.prediction_import import import_predictions
        from cxrviz.review.store import Store

        done = import_predictions(Store(args.db, settings.db_timeout), args.predictions)
        print(f"cached {done.imported} predictions ({', '.join(done.models) or 'no model'}) in {args.db}; {done.skipped} rows skipped")
        if args.csv is None:
            return 0
    elif args.csv is None:
        from cxrviz.errors import CxrvizError

        raise CxrvizError("Give a corrections CSV, or --predictions PARQUET.")
    from cxrviz.review.export import import_corrections
    from cxrviz.review.store import Store

    count = import_corrections(Store(args.db, settings.db_timeout), args.csv)
    print(f"imported {count} reviews into {args.db}")
    return 0
