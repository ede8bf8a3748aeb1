"""The report options of `export` (--reports DIR, --format text|fhir|sr): one file per signed report
version, written by the format's writer (`review/report_files.WRITERS`, shared with the Review page)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.errors import CxrvizError
from cxrviz.review.report_files import WRITERS, ReportSources
from cxrviz.review.reports import ReportVersion, file_name


def add_export_arguments(parser: argparse.ArgumentParser, images: Path | None = None) -> None:
    parser.add_argument("--reports", type=Path, default=None, metavar="DIR",
                        help="write every signed report version into DIR, one file each (IMAGE__READER__vN)")
    parser.add_argument("--format", dest="report_format", choices=sorted(WRITERS), default="text",
                        help="format of the --reports files (default: text)")
    parser.add_argument("--images", type=Path, default=images, metavar="DIR",
                        help="the images folder, for --format sr (the SR references each image's Secondary "
                             "Capture, made from the PNG; default: CXRVIZ_IMAGES)")


def sources(args: argparse.Namespace, metadata, boxes, measurements, pacs=None) -> ReportSources:
    """What the writers need beside the report: the images folder is scanned once, and only for a
    format that needs the pixels (sr); a PACS image's header is read from `pacs` (a
    `data.dicomweb.Pacs`), which its SR then references."""
    folder = args.images
    index = None

    def source_of(name: str):
        from cxrviz.data.dicomweb import is_sop_uid

        return pacs.instance_header(name) if pacs is not None and is_sop_uid(name) else None

    def image_path(name: str):
        nonlocal index
        if folder is None:
            return None
        if index is None:
            from cxrviz.data.image_index import scan_images

            index = scan_images(Path(folder))
        return index.path_of(name)

    return ReportSources(metadata, tuple(boxes), tuple(measurements), image_path, source_of)


def export_reports(args: argparse.Namespace, reports: list[ReportVersion], sources: ReportSources) -> None:
    """`reports`: the signed versions the export may hold (`store.reports.signed_reports`)."""
    folder: Path = args.reports
    if folder.exists() and not folder.is_dir():
        raise CxrvizError(f"{folder} is a file; give --reports a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CxrvizError(f"The folder {folder} cannot be created ({exc.strerror or exc}); choose another.") from exc
    suffix, _, writer = WRITERS[args.report_format]
    for report in reports:
        path = folder / file_name(report, suffix)
        try:
            path.write_bytes(writer(report, sources))
        except OSError as exc:
            raise CxrvizError(f"{path} cannot be written ({exc.strerror or exc}); choose another folder.") from exc
    print(f"exported {len(reports)} signed reports as {args.report_format} to {folder}")
