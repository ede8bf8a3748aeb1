"""`export`: the reviews as a corrections CSV and a corrected Data_Entry_2017.csv (and reviewer boxes).
With `--as NAME` the files hold only what NAME may see (`store.team.shared_with`: no other reader's
work on a blind-campaign image NAME has not read yet); without it, everything, for the operator
who runs it on the database itself."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.commands import _boxes, _measurements, _pacs, _reports
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
    parser.add_argument("--as", dest="as_reader", default=None, metavar="NAME",
                        help="export only what this reader may see (blind campaigns; their role is read from the store)")
    _boxes.add_export_arguments(parser)  # reviewer boxes: --boxes, --coco
    _reports.add_export_arguments(parser, settings.images)  # signed reports: --reports DIR, --format, --images
    _measurements.add_export_arguments(parser)  # --measurements FILE.csv
    _pacs.add_stow_arguments(parser, settings)  # --stow URL --stow-file PATH: DICOM objects into a PACS


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.stow is not None and args.reports is None:  # DICOM objects into a PACS, nothing else
        return _pacs.run_stow(args, settings)
    from cxrviz.data.metadata import load_metadata
    from cxrviz.review.identity import display_name
    from cxrviz.review.store import Store, team
    from cxrviz.review.store.measurements import list_measurements

    reader = display_name(args.as_reader) if args.as_reader is not None else None
    stowed = 0  # with --reports … --stow: 1 when the PACS refused an object
    store = Store(args.db, settings.db_timeout)
    shared = team.shared_with(store, reader, operator=reader is None)  # read once: labels and boxes agree
    if reader is not None:
        role = team.role_of(store, reader)
        print(f"exporting as {reader} ({role or 'no role'})" + (f": {shared.notice()}" if shared.notice() else ""))
    if args.reports is not None:  # through the same gate as the reviews
        from cxrviz.review.store.reports import signed_reports

        measurements = list_measurements(store) if reader is None else team.visible_measurements(store, reader)
        url = args.stow or settings.dicomweb
        pacs = _pacs.connect(url, settings) if url else None
        signed = signed_reports(store, reader, operator=reader is None)
        sources = _reports.sources(args, load_metadata(args.metadata), shared.boxes, measurements, pacs)
        _reports.export_reports(args, signed, sources)
        if args.stow is not None:  # and store each signed report's SR (with an NIH image's Secondary Capture)
            from cxrviz.review.report_files import sr_datasets

            stowed = _pacs.run_stow(args, settings, [ds for report in signed for ds in sr_datasets(report, sources)])
    if args.measurements is not None:
        _measurements.export_measurements(args, store, reader)
    if args.boxes is not None or args.coco is not None:
        _boxes.export_boxes(args, store, shared.boxes)
    only = (args.reports, args.boxes, args.coco, args.measurements)  # only these, unless label files are asked for too
    if any(o is not None for o in only) and args.corrections is None and args.data_entry is None:
        return stowed
    corrections = output_path(args.corrections, "corrections.csv")
    data_entry = output_path(args.data_entry, "Data_Entry_2017_corrected.csv")
    for path in (corrections, data_entry):
        check_writable(path)
    reviews = shared.reviews
    metadata = load_metadata(args.metadata)
    for path, data in ((corrections, shared.corrections_csv(metadata)), (data_entry, shared.data_entry_csv(metadata))):
        try:
            path.write_bytes(data)
        except OSError as exc:  # checked above, but a disk can fill or a folder change meanwhile
            raise CxrvizError(f"{path} cannot be written ({exc.strerror or exc}); choose another output path.") from exc
    print(f"exported {len(reviews)} reviews to {corrections} and {data_entry}")
    return stowed
