"""`predict`: batch predictions for a whole folder, or a PACS query (`--dicomweb URL`), resumable.

With --dicomweb the images are the PACS's CR and DX instances matching --sex/--view/--age/
--study-date (QIDO-RS, paged), each retrieved with WADO-RS when its batch is decoded; a row's
`Image Index` (`image` with --engine ray) is its SOP Instance UID. Credentials come from
CXRVIZ_DICOMWEB_USER/_PASSWORD or _TOKEN. A PACS that goes down mid-run stops the run with a
sentence; what it finished is kept, and the same command resumes it.

With --cam-summary each row also gets a `cam_summary` column: a JSON object mapping each chosen
finding to its GradCAM peak and CAM box in the original image's pixels,
{"Effusion": {"peak_x": 410, "peak_y": 655, "box_x": 300, "box_y": 520, "box_w": 230, "box_h": 260}, ...}
(the box the app's viewer draws: the largest region at or above half the peak; the peak: the
hottest pixel in that box). A finding whose map is flat maps to null; {} means no finding was
chosen; the column is empty (CSV) or null (Parquet) where `error` is set. It costs a backward
pass per chosen finding and image, so it is off by default."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from cxrviz.commands._common import data_arguments, follow, load_model, model_arguments
from cxrviz.config import Settings
from cxrviz.errors import CxrvizError

NAME = "predict"
HELP = "batch predictions for a whole folder or a PACS query (resumable)"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    data_arguments(parser, settings)
    for action in parser._actions:  # --images is not needed with --dicomweb (checked in run)
        if action.dest == "images":
            action.required = False
    model_arguments(parser, settings)
    pacs = parser.add_argument_group("PACS (instead of --images)")
    pacs.add_argument("--dicomweb", metavar="URL", nargs="?", const=settings.dicomweb or "", default=None,
                      help="predict the CR and DX instances of this PACS's DICOMweb service (default URL: CXRVIZ_DICOMWEB)")
    pacs.add_argument("--sex", action="append", default=[], choices=("F", "M", "O"), help="with --dicomweb: PatientSex (repeatable)")
    pacs.add_argument("--view", action="append", default=[], help="with --dicomweb: ViewPosition, e.g. PA (repeatable)")
    pacs.add_argument("--age", default=None, metavar="MIN-MAX", help="with --dicomweb: patient age in years, e.g. 40-70")
    pacs.add_argument("--study-date", default=None, metavar="YYYYMMDD-YYYYMMDD", help="with --dicomweb: a study date range")
    parser.add_argument("--out", type=Path, required=True, help="CSV of probabilities; images already in it are skipped")
    parser.add_argument("--batch-size", type=int, default=16, help="images per forward pass")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader processes decoding images")
    parser.add_argument("--engine", choices=("default", "ray"), default="default",
                        help="default: this machine, CSV out; ray: Ray Data (decode tasks + model actors), a Parquet folder out")
    parser.add_argument("--address", default=None, help="with --engine ray: a Ray cluster to join (default: start Ray locally)")
    parser.add_argument("--cam-summary", action="store_true",
                        help="add a cam_summary column: JSON, finding -> {peak_x, peak_y, box_x, box_y, box_w, box_h} in the "
                             "original image's pixels (GradCAM peak and the viewer's CAM box); one backward pass per finding")
    parser.add_argument("--cam-findings", default=None, metavar="threshold|all|F1,F2",
                        help="with --cam-summary: the findings summarised; threshold (default): those at or above the model's "
                             "operating threshold; all: the 14; or a comma-separated list")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.model.batch import predict_to_csv

    cam = _cam_summariser(args)
    names, paths, loader = _images(args, settings)
    if args.engine == "ray":
        return _run_ray(args, names, paths, cam, loader)
    model = load_model(args)
    extra = {"load": loader} if loader is not None else {}
    with tqdm(total=len(names), desc="predicting") as bar:
        added = predict_to_csv(model, names, paths, args.out, args.batch_size, args.workers, follow(bar), cam=cam, **extra)
    print(f"added {added} rows to {args.out} ({len(names) - added} already there)")
    return 0


def _images(args: argparse.Namespace, settings: Settings):
    """(names, what the loader reads each by, loader or None for image files)."""
    if args.dicomweb is None:
        if args.images is None:
            raise CxrvizError("Name the images: --images FOLDER (or set CXRVIZ_IMAGES), or --dicomweb URL for a PACS.")
        from cxrviz.data.image_index import scan_images

        index = scan_images(args.images)
        names = sorted(index.paths)
        return names, [index.paths[n] for n in names], None
    from cxrviz.commands._pacs import connect
    from cxrviz.config import dicomweb_credentials_from_env
    from cxrviz.data.dicomweb import Credentials, PacsSource

    if not args.dicomweb:
        raise CxrvizError("--dicomweb needs the PACS's DICOMweb URL (or set CXRVIZ_DICOMWEB).")
    source = PacsSource.query(connect(args.dicomweb, settings), pacs_query(args))
    print(f"{len(source.instances)} CR/DX instances on {args.dicomweb} match")
    return source.names, source.refs, source.loader(Credentials.from_mapping(dicomweb_credentials_from_env()))


def pacs_query(args: argparse.Namespace):
    from cxrviz.data.dicomweb import PacsQuery

    def pair(text: str | None, what: str, example: str):
        if text is None:
            return None
        low, sep, high = text.partition("-")
        if not sep or not low.strip() or not high.strip():
            raise CxrvizError(f"{what} is a range such as {example}; it is {text!r}.")
        return low.strip(), high.strip()

    ages = pair(args.age, "--age", "40-70")
    try:
        age_range = (int(ages[0]), int(ages[1])) if ages else None
    except ValueError as exc:
        raise CxrvizError(f"--age is a range of whole years such as 40-70; it is {args.age!r}.") from exc
    dates = pair(args.study_date, "--study-date", "20170101-20171231")
    if dates and not all(len(d) == 8 and d.isdigit() for d in dates):
        raise CxrvizError(f"--study-date is YYYYMMDD-YYYYMMDD, e.g. 20170101-20171231; it is {args.study_date!r}.")
    return PacsQuery(tuple(args.sex), tuple(v.upper() for v in args.view), age_range, dates)


def _cam_summariser(args: argparse.Namespace):
    if not args.cam_summary:
        if args.cam_findings is not None:
            raise CxrvizError("--cam-findings chooses the findings of --cam-summary: add --cam-summary.")
        return None
    from cxrviz.explain.cam_summary import THRESHOLD, CamSummary, parse_findings

    return CamSummary(parse_findings(args.cam_findings or THRESHOLD))


def _run_ray(args: argparse.Namespace, names: list[str], paths: list, cam=None, loader=None) -> int:
    from cxrviz.model.ray_engine import predict_with_ray
    from cxrviz.model.registry import find_spec

    spec = find_spec(args.model, args.weights, args.weights_dir)
    with tqdm(total=len(names), desc="predicting (ray)") as bar:
        summary = predict_with_ray(spec, names, paths, args.out, address=args.address, batch_size=args.batch_size,
                                   cpu_only=(args.device or "").strip().lower() == "cpu", progress=follow(bar), cam=cam,
                                   loader=loader)
    print(summary.describe())
    return 0
