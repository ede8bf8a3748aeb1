"""`predict`: batch predictions for a whole folder, resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from cxrviz.commands._common import data_arguments, follow, load_model, model_arguments
from cxrviz.config import Settings

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


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.data.image_index import scan_images
    from cxrviz.model.batch import predict_to_csv

    index = scan_images(args.images)
    names = sorted(index.paths)
    if args.engine == "ray":
        return _run_ray(args, names, [index.paths[n] for n in names])
    model = load_model(args)
    with tqdm(total=len(names), desc="predicting") as bar:
        added = predict_to_csv(model, names, [index.paths[n] for n in names], args.out, args.batch_size, args.workers, follow(bar))
    print(f"added {added} rows to {args.out} ({len(names) - added} already there)")
    return 0


def _run_ray(args: argparse.Namespace, names: list[str], paths: list[Path]) -> int:
    from cxrviz.model.ray_engine import predict_with_ray
    from cxrviz.model.registry import find_spec

    spec = find_spec(args.model, args.weights, args.weights_dir)
    with tqdm(total=len(names), desc="predicting (ray)") as bar:
        summary = predict_with_ray(spec, names, paths, args.out, address=args.address, batch_size=args.batch_size,
                                   cpu_only=(args.device or "").strip().lower() == "cpu", progress=follow(bar))
    print(summary.describe())
    return 0
