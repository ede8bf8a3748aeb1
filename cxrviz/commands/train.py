"""`train`: fine-tune an EfficientNet-Lite0 on local images."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.commands._common import check_writable, data_arguments, labelled_data
from cxrviz.config import Settings

NAME = "train"
HELP = "train an EfficientNet-Lite0 on local images"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    from cxrviz.model.training import TrainConfig

    defaults = TrainConfig(output=Path("unused"))
    data_arguments(parser, settings)
    parser.add_argument("--out", type=Path, required=True, help="checkpoint file to write")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed for the split, augmentation and initialisation")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="most epochs (early stopping may end sooner)")
    parser.add_argument("--input-size", type=int, default=defaults.input_size, help="square input size in pixels")
    parser.add_argument("--freeze-blocks", type=int, default=defaults.freeze_blocks, help="EfficientNet blocks kept at their ImageNet weights")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="AdamW learning rate")
    parser.add_argument("--ema-decay", type=float, default=defaults.ema_decay, help="keep an exponential moving average of the weights (e.g. 0.97)")
    parser.add_argument("--max-images", type=int, default=defaults.max_images, help="train on a random subset (smoke tests)")
    parser.add_argument("--device", default=settings.device, help="cuda, mps or cpu (default: CXRVIZ_DEVICE, else the best available)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.model.devices import pick_device
    from cxrviz.model.training import TrainConfig, train

    check_writable(args.out)
    config = TrainConfig(
        output=args.out, seed=args.seed, epochs=args.epochs, input_size=args.input_size,
        freeze_blocks=args.freeze_blocks, max_images=args.max_images, device=pick_device(args.device),
        lr=args.lr, ema_decay=args.ema_decay,
    )
    checkpoint = train(labelled_data(args), config)
    print(f"best epoch {checkpoint['best_epoch']}: validation mean AUROC {checkpoint['val_mean_auroc']:.4f}; wrote {args.out}")
    return 0
