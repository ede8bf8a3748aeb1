"""`evaluate`: per-finding AUROC with bootstrap intervals."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from cxrviz.commands._common import check_writable, data_arguments, labelled_data, load_model, model_arguments, output_path, scores
from cxrviz.config import Settings

NAME = "evaluate"
HELP = "per-finding AUROC with bootstrap intervals"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    data_arguments(parser, settings)
    model_arguments(parser, settings)
    parser.add_argument("--out", type=Path, default=None, help="CSV of the table (default: ./evaluation.csv, announced)")
    parser.add_argument("--exclude-training", action=argparse.BooleanOptionalAction, default=True,
                        help="drop the bundled model's training images (default: on; --no-exclude-training keeps them)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.findings import FINDINGS
    from cxrviz.model.evaluation import auroc_table
    from cxrviz.model.registry import bundled_spec

    out = output_path(args.out, "evaluation.csv")
    check_writable(out)
    model = load_model(args)
    data = labelled_data(args)
    if args.exclude_training and model.spec.source == "bundled":
        trained = set(json.loads(bundled_spec().weights.with_suffix(".json").read_text())["train_images"])
        data = data.subset(np.array([n not in trained for n in data.names]))
        print(f"evaluating on {len(data)} images the model never trained on")
    table = auroc_table(data.targets, scores(model, data), FINDINGS)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"mean AUROC: {table['auroc'].mean():.4f}")
    table.to_csv(out, index=False)
    print(f"wrote {out}")
    return 0
