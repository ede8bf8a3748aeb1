"""The PACS options the commands share (`predict --dicomweb`, `export --stow`): the DICOMweb URL,
credentials from CXRVIZ_DICOMWEB_USER/_PASSWORD or _TOKEN (never on the command line, where
`ps` shows them), and the storing of DICOM files with one line per object."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.config import Settings, dicomweb_credentials_from_env
from cxrviz.errors import CxrvizError


def connect(url: str, settings: Settings):
    from cxrviz.data.dicomweb import Credentials, Pacs

    if "@" in url.split("://", 1)[-1].split("/", 1)[0]:
        raise CxrvizError("Put the PACS user name and password in CXRVIZ_DICOMWEB_USER and CXRVIZ_DICOMWEB_PASSWORD "
                          "(or a token in CXRVIZ_DICOMWEB_TOKEN), not in the URL.")
    return Pacs(url, Credentials.from_mapping(dicomweb_credentials_from_env()), settings.dicomweb_timeout)


def add_stow_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument("--stow", metavar="URL", nargs="?", const=settings.dicomweb or "", default=None,
                        help="store DICOM objects (--stow-file: SRs, Secondary Captures) in this PACS over STOW-RS "
                             "(default URL: CXRVIZ_DICOMWEB); prints stored / already there / refused for each")
    parser.add_argument("--stow-file", type=Path, action="append", default=[], metavar="PATH",
                        help="with --stow: a DICOM file, or a folder whose *.dcm files are stored (repeatable)")


def dicom_files(paths: list[Path]) -> list[Path]:
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.dcm") if p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise CxrvizError(f"{path} does not exist.")
    return files


def run_stow(args: argparse.Namespace, settings: Settings, extra: list | None = None) -> int:
    """Store the --stow-file objects (and `extra` datasets, e.g. SRs made by the export) in the PACS."""
    from cxrviz.data.dicomweb import REFUSED, describe_results, read_dicom_files, stow

    if not args.stow:
        raise CxrvizError("--stow needs the PACS's DICOMweb URL (or set CXRVIZ_DICOMWEB).")
    datasets = read_dicom_files(dicom_files(args.stow_file)) + list(extra or [])
    if not datasets:
        raise CxrvizError("Nothing to store: name DICOM files or folders with --stow-file.")
    results = stow(connect(args.stow, settings), datasets)
    for result in results:
        print(result.describe())
    print(f"{args.stow}: {describe_results(results)}")
    return 1 if any(r.outcome == REFUSED for r in results) else 0
