"""Arguments and helpers several commands share."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from cxrviz.config import Settings
from cxrviz.errors import CxrvizError


def data_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    parser.add_argument("--images", type=Path, default=settings.images, required=settings.images is None,
                        help="image folder in any supported layout (default: CXRVIZ_IMAGES)")
    parser.add_argument("--metadata", type=Path, default=settings.metadata,
                        help="Data_Entry_2017.csv (default: CXRVIZ_METADATA, else torchxrayvision's copy)")
    parser.add_argument("--labels", type=Path, default=None,
                        help="labels CSV overriding the metadata (Image Index + Finding Labels or Corrected Labels)")


def recipe_arguments(parser: argparse.ArgumentParser, settings: Settings, epochs_help: str = "most epochs (early stopping may end sooner)") -> None:
    """The training recipe's options, one set for `train` and `audit`: both store out-of-fold rows
    under the recipe's name, and each reuses the other's only for the very same recipe."""
    from cxrviz.model.training import TrainConfig

    defaults = TrainConfig(output=Path("unused"))
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed for the folds, the split, augmentation and initialisation")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help=epochs_help)
    parser.add_argument("--input-size", type=int, default=defaults.input_size, help="square input size in pixels")
    parser.add_argument("--freeze-blocks", type=int, default=defaults.freeze_blocks, help="EfficientNet blocks kept at their ImageNet weights")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="AdamW learning rate")
    parser.add_argument("--layer-decay", type=float, default=defaults.layer_decay,
                        help="layer-wise learning-rate decay: block i of 16 learns at lr * decay^(16 - i), e.g. 0.8")
    parser.add_argument("--ema-decay", type=float, default=defaults.ema_decay, help="keep an exponential moving average of the weights (e.g. 0.97)")
    parser.add_argument("--device", default=settings.device, help="cuda, mps or cpu (default: CXRVIZ_DEVICE, else the best available)")


def recipe_config(args: argparse.Namespace, output: Path = Path("unused"), max_images: int | None = None):
    """The `TrainConfig` of `recipe_arguments`."""
    from cxrviz.model.devices import pick_device
    from cxrviz.model.training import TrainConfig

    return TrainConfig(output=output, seed=args.seed, epochs=args.epochs, input_size=args.input_size,
                       freeze_blocks=args.freeze_blocks, max_images=max_images, device=pick_device(args.device),
                       lr=args.lr, ema_decay=args.ema_decay, layer_decay=args.layer_decay)


def model_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    from cxrviz.model.registry import BUNDLED_NAME

    parser.add_argument("--model", default=settings.model or BUNDLED_NAME, help="registered model name (default: CXRVIZ_MODEL, else the bundled model)")
    parser.add_argument("--weights", type=Path, default=settings.weights, help="a DenseNet-121 checkpoint to register (default: CXRVIZ_WEIGHTS)")
    parser.add_argument("--weights-dir", type=Path, default=settings.weights_dir,
                        help="folder whose checkpoints are offered as folder:NAME models (default: CXRVIZ_WEIGHTS_DIR)")
    parser.add_argument("--device", default=settings.device, help="cuda, mps or cpu (default: CXRVIZ_DEVICE, else the best available)")


def output_path(given: Path | None, default_name: str) -> Path:
    """Where a command writes: the user's `--out`, else `default_name` in the current folder, announced."""
    if given is not None:
        return given
    chosen = Path.cwd() / default_name
    print(f"no --out given: writing {chosen}")
    return chosen


def check_writable(path: Path) -> None:
    """Fail before the work, not after it, when an output file cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise CxrvizError(f"{path} is a folder; give a file name.")
    if not folder.is_dir():
        raise CxrvizError(f"The folder {folder} does not exist; create it or choose another output path.")
    import os

    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CxrvizError(f"{path} cannot be written (permission denied); choose another output path.")


def follow(bar: tqdm):
    """A (done, total) progress callback that moves a tqdm bar."""
    def update(done: int, total: int) -> None:
        bar.total, bar.n = total, done
        bar.refresh()

    return update


def labelled_data(args: argparse.Namespace):
    from cxrviz.data.image_index import scan_images
    from cxrviz.data.labelled import labelled_set
    from cxrviz.data.metadata import load_metadata

    index = scan_images(args.images)
    if len(index) == 0:
        raise CxrvizError(f"No NIH images (NNNNNNNN_NNN.png) found under {args.images}.")
    return labelled_set(load_metadata(args.metadata), index, args.labels)


def labels_digest(args: argparse.Namespace) -> str | None:
    """sha256 of the `--labels` file that overrides the NIH labels (part of a stored recipe's name), or None."""
    if getattr(args, "labels", None) is None:
        return None
    import hashlib

    try:
        return hashlib.sha256(Path(args.labels).read_bytes()).hexdigest()
    except OSError as error:
        raise CxrvizError(f"The labels file {args.labels} cannot be read: {error.strerror or error}.") from error


def subsample(data, max_images: int | None, seed: int):
    """A seeded random subset of `max_images` images of a labelled set (smoke runs), else all of it."""
    import numpy as np

    if max_images is None or max_images >= len(data):
        return data
    keep = np.random.default_rng(seed).permutation(len(data))[:max_images]
    return data.subset(np.isin(np.arange(len(data)), keep))


def load_model(args: argparse.Namespace):
    from cxrviz.model.devices import pick_device
    from cxrviz.model.registry import find_spec, load_model

    return load_model(find_spec(args.model, args.weights, args.weights_dir), pick_device(args.device))


def scores(model, data, batch_size: int = 16):
    """(N, 14) probabilities for a labelled set, with a progress bar."""
    import numpy as np

    from cxrviz.model.batch import iter_predictions

    result = np.zeros((len(data), 14), dtype=np.float32)
    with tqdm(total=len(data), desc="predicting") as bar:
        for indices, probs, _ in iter_predictions(model, data.paths, batch_size):
            result[indices] = probs
            bar.update(len(indices))
    return result
