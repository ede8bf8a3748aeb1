"""The measurements option of `export` (--measurements FILE.csv), kept apart so `export` carries
only a few lines for it. Columns: `review.measurements.measurements_csv`."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.commands._common import check_writable
from cxrviz.errors import CxrvizError


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--measurements", type=Path, default=None, metavar="FILE.csv",
                        help="write the readers' measurements (lengths in mm or px, cardiothoracic ratios) as CSV")


def export_measurements(args: argparse.Namespace, store, reader: str | None) -> None:
    """Every measurement for the operator (no --as); with --as, what that reader may see."""
    from cxrviz.review.measurements import measurements_csv
    from cxrviz.review.store import team
    from cxrviz.review.store.measurements import list_measurements

    check_writable(args.measurements)
    found = list_measurements(store) if reader is None else team.visible_measurements(store, reader)
    try:
        args.measurements.write_bytes(measurements_csv(found))
    except OSError as exc:
        raise CxrvizError(f"{args.measurements} cannot be written ({exc.strerror or exc}); choose another output path.") from exc
    print(f"exported {len(found)} measurements to {args.measurements}")
