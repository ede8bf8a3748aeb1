"""The report options of `export` (--reports DIR, --format): one file per signed report version,
written by the format's writer. A new format is one entry in `WRITERS` (the lead adds "fhir" and
"sr" from `review/fhir.py` and `review/dicom_sr.py`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from cxrviz.errors import CxrvizError
from cxrviz.review.reports import ReportVersion, as_text, file_name


def _text(report: ReportVersion, metadata) -> bytes:
    return as_text(report).encode("utf-8")


# format -> (file suffix, writer(signed report, metadata or None) -> the file's bytes)
WRITERS: dict[str, tuple[str, Callable[[ReportVersion, object], bytes]]] = {
    "text": (".txt", _text),
}


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reports", type=Path, default=None, metavar="DIR",
                        help="write every signed report version into DIR, one file each (IMAGE__READER__vN)")
    parser.add_argument("--format", dest="report_format", choices=sorted(WRITERS), default="text",
                        help="format of the --reports files (default: text)")


def export_reports(args: argparse.Namespace, reports: list[ReportVersion], metadata=None) -> None:
    """`reports`: the signed versions the export may hold (`store.reports.signed_reports`)."""
    folder: Path = args.reports
    if folder.exists() and not folder.is_dir():
        raise CxrvizError(f"{folder} is a file; give --reports a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CxrvizError(f"The folder {folder} cannot be created ({exc.strerror or exc}); choose another.") from exc
    suffix, writer = WRITERS[args.report_format]
    for report in reports:
        path = folder / file_name(report, suffix)
        try:
            path.write_bytes(writer(report, metadata))
        except OSError as exc:
            raise CxrvizError(f"{path} cannot be written ({exc.strerror or exc}); choose another folder.") from exc
    print(f"exported {len(reports)} signed reports as {args.report_format} to {folder}")
