"""Command-line entry points; each command is a thin shell over a `cxrviz` module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxrviz.config import Settings
from cxrviz.errors import CxrvizError


def _common_data(parser: argparse.ArgumentParser) -> None:
    settings = Settings.from_env()
    parser.add_argument("--images", type=Path, default=settings.images, required=settings.images is None, help="image folder (any supported layout)")
    parser.add_argument("--metadata", type=Path, default=settings.metadata, help="Data_Entry_2017.csv (default: torchxrayvision's copy)")
    parser.add_argument("--labels", type=Path, default=None, help="labels CSV overriding the metadata (Image Index + Finding Labels or Corrected Labels)")


def _model_arg(parser: argparse.ArgumentParser) -> None:
    from cxrviz.model.registry import BUNDLED_NAME

    parser.add_argument("--model", default=BUNDLED_NAME, help="registered model name")
    parser.add_argument("--weights", type=Path, default=Settings.from_env().weights, help="a DenseNet-121 checkpoint to register")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cxrviz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train an EfficientNet-Lite0 on local images")
    _common_data(train)
    train.add_argument("--out", type=Path, required=True, help="checkpoint to write")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--input-size", type=int, default=256)
    train.add_argument("--freeze-blocks", type=int, default=4, help="EfficientNet blocks kept at their ImageNet weights")
    train.add_argument("--lr", type=float, default=5e-4)
    train.add_argument("--ema-decay", type=float, default=None, help="keep an exponential moving average of the weights (e.g. 0.97)")
    train.add_argument("--max-images", type=int, default=None, help="train on a random subset (smoke tests)")
    train.add_argument("--device", default=None)

    publish = sub.add_parser("publish", help="install a trained checkpoint as the bundled model, with its model card")
    _common_data(publish)
    publish.add_argument("checkpoint", type=Path)
    publish.add_argument("--models-dir", type=Path, default=None)

    evaluate = sub.add_parser("evaluate", help="per-finding AUROC with bootstrap intervals")
    _common_data(evaluate)
    _model_arg(evaluate)
    evaluate.add_argument("--out", type=Path, default=Path("evaluation.csv"))
    evaluate.add_argument("--exclude-training", action="store_true", default=True, help="drop the bundled model's training images (default)")
    evaluate.add_argument("--include-training", dest="exclude_training", action="store_false")

    predict = sub.add_parser("predict", help="batch predictions for a whole folder (resumable)")
    _common_data(predict)
    _model_arg(predict)
    predict.add_argument("--out", type=Path, required=True, help="CSV of probabilities; rows already there are skipped")
    predict.add_argument("--batch-size", type=int, default=16)
    predict.add_argument("--workers", type=int, default=2)

    localize = sub.add_parser("localize", help="localisation accuracy at IoBB thresholds (Wang et al. 2017, table 3)")
    _common_data(localize)
    _model_arg(localize)
    localize.add_argument("--method", default="GradCAM")
    localize.add_argument("--bbox", type=Path, default=Settings.from_env().bbox)
    localize.add_argument("--fraction", type=float, default=0.5, help="heatmap threshold as a fraction of its peak")

    export = sub.add_parser("export", help="export reviews to CSV")
    export.add_argument("--db", default=Settings.from_env().db)
    export.add_argument("--corrections", type=Path, default=Path("corrections.csv"))
    export.add_argument("--data-entry", type=Path, default=Path("Data_Entry_2017_corrected.csv"))
    export.add_argument("--metadata", type=Path, default=Settings.from_env().metadata)

    importer = sub.add_parser("import", help="import a corrections CSV into the store")
    importer.add_argument("csv", type=Path)
    importer.add_argument("--db", default=Settings.from_env().db)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from cxrviz import commands

    try:
        return getattr(commands, f"run_{args.command}")(args)
    except CxrvizError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
