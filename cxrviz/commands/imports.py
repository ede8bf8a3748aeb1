"""`import`: a corrections CSV into the review store (or reviewer boxes, DICOM SRs, batch predictions).

Every row is checked first; one bad row and nothing is written (each problem is listed with its
row and column). Rows older than the store's review of the same image by the same reviewer are
skipped unless --replace-newer; identical rows change nothing, so running an import twice is
harmless. Every change is audited as an "import" by the user named with --as.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from cxrviz.config import Settings
from cxrviz.errors import CxrvizError

NAME = "import"
HELP = "import a corrections CSV into the store"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in this environment (no USER variable, no passwd entry)
        return "unknown"


def _require_admin_in_team_mode(store, importer: str, dry_run: bool, what: str = "reviews") -> None:
    from cxrviz.review.imports import require_admin_in_team_mode

    if not dry_run:
        try:
            require_admin_in_team_mode(store, importer, what)
        except CxrvizError as error:
            raise CxrvizError(f"{error} Run the import with --as ADMIN (the admin's signed-in name).") from None


def _import_sr(args: argparse.Namespace, settings: Settings) -> int:
    """`import --sr FILE...`: every file checked, then one transaction; a refusal lists each problem
    per file and returns 2, having written nothing."""
    from cxrviz.data.image_index import scan_images
    from cxrviz.data.metadata import load_metadata
    from cxrviz.review.identity import display_name
    from cxrviz.review.sr_import import SrImportRefusedError, import_srs
    from cxrviz.review.store import Store

    if args.csv is not None or args.boxes is not None or args.predictions is not None:
        raise CxrvizError("Import SRs on their own: --sr cannot be combined with a corrections CSV, --boxes or --predictions.")
    if args.images is None:
        raise CxrvizError("An SR import needs the NIH images folder (--images or CXRVIZ_IMAGES) to know each image's size.")
    store = Store(args.db, settings.db_timeout)
    importer = display_name(args.imported_by if args.imported_by is not None else _os_user())
    _require_admin_in_team_mode(store, importer, args.dry_run, "SR readings")
    try:
        report = import_srs(store, args.sr, load_metadata(args.metadata), scan_images(args.images), importer, dry_run=args.dry_run)
    except SrImportRefusedError as error:
        print(f"error: {str(error).split(chr(10), 1)[0]}", file=sys.stderr)
        for source, why in error.problems:
            print(f"  {source}: {why}", file=sys.stderr)
        return 2
    print(f"{report.summary()} into {store.where}" + (" (dry run: nothing written)" if args.dry_run else f", as {importer}"))
    return 0


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument("csv", type=Path, nargs="?", help="a corrections CSV written by `export` or the Review page")
    parser.add_argument("--predictions", type=Path, default=None,
                        help="a Parquet file or folder from `predict --engine ray`, into the prediction cache")
    parser.add_argument("--db", default=settings.db, help="review store: SQLite path or postgresql:// URL (default: CXRVIZ_DB)")
    parser.add_argument("--metadata", type=Path, default=settings.metadata,
                        help="Data_Entry_2017.csv whose images the rows must name (default: CXRVIZ_METADATA, else torchxrayvision's copy)")
    parser.add_argument("--as", dest="imported_by", default=None, metavar="NAME",
                        help="who is importing, recorded in the audit log (default: the login name)")
    parser.add_argument("--replace-newer", action="store_true",
                        help="let a row replace a review made at the same time or later (default: such rows are skipped)")
    parser.add_argument("--dry-run", action="store_true", help="check the file and print what would change; write nothing")
    parser.add_argument("--boxes", type=Path, default=None,
                        help="a reviewer-box CSV written by `export --boxes` (at most 250,000 rows and 64 MiB; all rows or none are written)")
    parser.add_argument("--sr", type=Path, nargs="+", default=None, metavar="FILE",
                        help="DICOM SRs (TID 1500, from cxrviz, OHIF or highdicom): each observer's regions become their boxes "
                             "and findings on the referenced NIH images (all files checked first; all or nothing is written)")
    parser.add_argument("--images", type=Path, default=settings.images,
                        help="the NIH images folder, for the size of the images an SR references (default: CXRVIZ_IMAGES)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.data.metadata import load_metadata
    from cxrviz.review.identity import display_name
    from cxrviz.review.imports import ImportRefusedError, import_corrections
    from cxrviz.review.prediction_import import import_predictions
    from cxrviz.review.store import Store

    if args.sr is not None:  # DICOM SRs
        return _import_sr(args, settings)
    if args.boxes is not None:  # reviewer boxes
        from cxrviz.commands._boxes import import_boxes

        store = Store(args.db, settings.db_timeout)
        importer = display_name(args.imported_by if args.imported_by is not None else _os_user())
        _require_admin_in_team_mode(store, importer, args.dry_run, "boxes")
        if import_boxes(args, store, load_metadata(args.metadata), importer) != 0:
            return 2
    if args.predictions is not None:  # batch predictions (predict --engine ray) into the cache
        done = import_predictions(Store(args.db, settings.db_timeout), args.predictions)
        print(f"cached {done.imported} predictions ({', '.join(done.models) or 'no model'}) in {args.db}; {done.skipped} rows skipped")
    if args.csv is None:
        if args.boxes is not None or args.predictions is not None:
            return 0
        raise CxrvizError("Give a corrections CSV to import, --boxes FILE, --sr FILE... or --predictions PARQUET.")
    importer = display_name(args.imported_by if args.imported_by is not None else _os_user())
    metadata = load_metadata(args.metadata)
    store = Store(args.db, settings.db_timeout)
    _require_admin_in_team_mode(store, importer, args.dry_run)
    try:
        report = import_corrections(store, args.csv, metadata, importer, replace_newer=args.replace_newer, dry_run=args.dry_run)
    except ImportRefusedError as error:
        head = str(error).split("\n", 1)[0]  # the message lists the first problems only; print them all
        print(f"error: {head}", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    if args.dry_run:
        for line in report.lines():
            print(line)
    print(f"{report.summary()} into {store.where}" + (" (dry run: nothing written)" if args.dry_run else f", as {importer}"))
    return 0
