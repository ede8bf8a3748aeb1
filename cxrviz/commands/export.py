"""`export`: the reviews as a corrections CSV and a corrected Data_Entry_2017.csv."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.commands import _boxes
from cxrviz.commands._common import check_writable, output_path
from cxrviz.config import Settings
from cxrviz.errors import CxrvizError

NAME = "export"
HELP = "export reviews to CSV"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument("--db", default=settings.db, help="review store: SQLite path or postgresql:// URL (default: CXRVIZ_DB)")
    parser.add_argument("--corrections", type=Path, default=None, help="corrections CSV to write (default: ./corrections.csv, announced)")
    parser.add_argument("--data-entry", type=Path, default=None, help="corrected Data_Entry_2017.csv to write (default: ./Data_Entry_2017_corrected.csv, announced)")
    parser.add_argument("--metadata", type=Path, default=settings.metadata, help="Data_Entry_2017.csv (default: CXRVIZ_METADATA, else torchxrayvision's copy)")
    _boxes.add_export_arguments(parser)  # reviewer boxes: --boxes, --coco


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.data.metadata import load_metadata
    from cxrviz.review.export import corrections_csv, data_entry_csv
    from cxrviz.review.store import Store

    if args.boxes is not None or args.coco is not None:  # boxes only, unless label files are asked for too
        _boxes.export_boxes(args, Store(args.db, settings.db_timeout))
        if args.corrections is None and args.data_entry is None:
            return 0
    corrections = output_path(args.corrections, "corrections.csv")
    data_entry = output_path(args.data_entry, "Data_Entry_2017_corrected.csv")
    for path in (corrections, data_entry):
        check_writable(path)
    store = Store(args.db, settings.db_timeout)
    reviews = store.reviews()
    metadata = load_metadata(args.metadata)
    for path, data in ((corrections, corrections_csv(reviews, metadata)), (data_entry, data_entry_csv(reviews, metadata))):
        try:
            path.write_bytes(data)
        except OSError as exc:  # checked above, but a disk can fill or a folder change meanwhile
            raise CxrvizError(f"{path} cannot be written ({exc.strerror or exc}); choose another output path.") from exc
    print(f"exported {len(reviews)} reviews to {corrections} and {data_entry}")
    return 0
