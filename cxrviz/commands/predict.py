"""`predict`: batch predictions for a whole folder, resumable.

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
HELP = "batch predictions for a whole folder (resumable)"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    data_arguments(parser, settings)
    model_arguments(parser, settings)
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
    from cxrviz.data.image_index import scan_images
    from cxrviz.model.batch import predict_to_csv

    cam = _cam_summariser(args)
    index = scan_images(args.images)
    names = sorted(index.paths)
    if args.engine == "ray":
        return _run_ray(args, names, [index.paths[n] for n in names], cam)
    model = load_model(args)
    with tqdm(total=len(names), desc="predicting") as bar:
        added = predict_to_csv(model, names, [index.paths[n] for n in names], args.out, args.batch_size, args.workers, follow(bar), cam=cam)
    print(f"added {added} rows to {args.out} ({len(names) - added} already there)")
    return 0


def _cam_summariser(args: argparse.Namespace):
    if not args.cam_summary:
        if args.cam_findings is not None:
            raise CxrvizError("--cam-findings chooses the findings of --cam-summary: add --cam-summary.")
        return None
    from cxrviz.explain.cam_summary import THRESHOLD, CamSummary, parse_findings

    return CamSummary(parse_findings(args.cam_findings or THRESHOLD))


def _run_ray(args: argparse.Namespace, names: list[str], paths: list[Path], cam=None) -> int:
    from cxrviz.model.ray_engine import predict_with_ray
    from cxrviz.model.registry import find_spec

    spec = find_spec(args.model, args.weights, args.weights_dir)
    with tqdm(total=len(names), desc="predicting (ray)") as bar:
        summary = predict_with_ray(spec, names, paths, args.out, address=args.address, batch_size=args.batch_size,
                                   cpu_only=(args.device or "").strip().lower() == "cpu", progress=follow(bar), cam=cam)
    print(summary.describe())
    return 0
