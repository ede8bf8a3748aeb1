"""`publish`: install a trained checkpoint as the bundled model, with its model card."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from cxrviz.commands._common import data_arguments, labelled_data, scores
from cxrviz.config import Settings

NAME = "publish"
HELP = "install a trained checkpoint as the bundled model, with its model card"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    data_arguments(parser, settings)
    parser.add_argument("checkpoint", type=Path, help="a checkpoint written by `python -m cxrviz train`")
    parser.add_argument("--models-dir", type=Path, default=None, help="where the bundled model lives (default: the repository's models/)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.findings import FINDINGS
    from cxrviz.model.evaluation import auroc_table
    from cxrviz.model.model_card import publish
    from cxrviz.model.registry import MODELS_DIR, from_training_checkpoint
    from cxrviz.model.weights import read_checkpoint

    checkpoint = read_checkpoint(args.checkpoint)
    data = labelled_data(args)
    val = data.subset(np.isin(data.names, checkpoint["val_images"]))
    table = auroc_table(val.targets, scores(from_training_checkpoint(checkpoint), val), FINDINGS)
    command = "python -m cxrviz " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["publish"] else "python -m cxrviz publish"
    card = publish(args.checkpoint, table, command, args.models_dir or MODELS_DIR)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"mean validation AUROC {table['auroc'].mean():.4f}; wrote {card}")
    return 0
