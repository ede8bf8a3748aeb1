"""What each `python -m cxrviz` command does, given parsed arguments."""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np
from tqdm import tqdm

from cxrviz.data.image_index import scan_images
from cxrviz.data.labelled import LabelledSet, labelled_set
from cxrviz.data.metadata import load_metadata
from cxrviz.model.devices import pick_device


def _follow(bar: tqdm):
    """A (done, total) progress callback that moves a tqdm bar."""
    def update(done: int, total: int) -> None:
        bar.total, bar.n = total, done
        bar.refresh()

    return update


def _data(args: argparse.Namespace) -> LabelledSet:
    index = scan_images(args.images)
    if len(index) == 0:
        from cxrviz.errors import CxrvizError

        raise CxrvizError(f"No NIH images (NNNNNNNN_NNN.png) found under {args.images}.")
    return labelled_set(load_metadata(args.metadata), index, args.labels)


def run_train(args: argparse.Namespace) -> int:
    from cxrviz.model.training import TrainConfig, train

    config = TrainConfig(
        output=args.out, seed=args.seed, epochs=args.epochs, input_size=args.input_size,
        freeze_blocks=args.freeze_blocks, max_images=args.max_images, device=pick_device(args.device),
        lr=args.lr, ema_decay=args.ema_decay,
    )
    checkpoint = train(_data(args), config)
    print(f"best epoch {checkpoint['best_epoch']}: validation mean AUROC {checkpoint['val_mean_auroc']:.4f}; wrote {args.out}")
    return 0


def _model(args: argparse.Namespace):
    from cxrviz.model.registry import find_spec, load_model

    return load_model(find_spec(args.model, args.weights), pick_device(args.device))


def _scores(model, data: LabelledSet, batch_size: int = 16) -> np.ndarray:
    from cxrviz.model.batch import iter_predictions

    scores = np.zeros((len(data), 14), dtype=np.float32)
    with tqdm(total=len(data), desc="predicting") as bar:
        for indices, probs, _ in iter_predictions(model, data.paths, batch_size):
            scores[indices] = probs
            bar.update(len(indices))
    return scores


def run_evaluate(args: argparse.Namespace) -> int:
    from cxrviz.findings import FINDINGS
    from cxrviz.model.evaluation import auroc_table

    model = _model(args)
    data = _data(args)
    if args.exclude_training and model.spec.source == "bundled":
        import json

        from cxrviz.model.registry import bundled_spec

        trained = set(json.loads((bundled_spec().weights.with_suffix(".json")).read_text())["train_images"])
        data = data.subset(np.array([n not in trained for n in data.names]))
        print(f"evaluating on {len(data)} images the model never trained on")
    table = auroc_table(data.targets, _scores(model, data), FINDINGS)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"mean AUROC: {table['auroc'].mean():.4f}")
    table.to_csv(args.out, index=False)
    print(f"wrote {args.out}")
    return 0


def run_publish(args: argparse.Namespace) -> int:
    import torch

    from cxrviz.findings import FINDINGS
    from cxrviz.model.evaluation import auroc_table
    from cxrviz.model.model_card import publish
    from cxrviz.model.registry import MODELS_DIR

    checkpoint = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    data = _data(args)
    val = data.subset(np.isin(data.names, checkpoint["val_images"]))
    from cxrviz.model.registry import from_training_checkpoint

    table = auroc_table(val.targets, _scores(from_training_checkpoint(checkpoint), val), FINDINGS)
    command = "python -m cxrviz " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["publish"] else "python -m cxrviz publish"
    card = publish(args.checkpoint, table, command, args.models_dir or MODELS_DIR)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"mean validation AUROC {table['auroc'].mean():.4f}; wrote {card}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from cxrviz.model.batch import predict_to_csv

    model = _model(args)
    index = scan_images(args.images)
    names = sorted(index.paths)
    with tqdm(total=len(names), desc="predicting") as bar:
        added = predict_to_csv(model, names, [index.paths[n] for n in names], args.out, args.batch_size, args.workers, _follow(bar))
    print(f"added {added} rows to {args.out} ({len(names) - added} already there)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from cxrviz.review.export import corrections_csv, data_entry_csv
    from cxrviz.review.store import Store

    store = Store(args.db)
    reviews = store.reviews()
    metadata = load_metadata(args.metadata)
    args.corrections.write_bytes(corrections_csv(reviews, metadata))
    args.data_entry.write_bytes(data_entry_csv(reviews, metadata))
    print(f"exported {len(reviews)} reviews to {args.corrections} and {args.data_entry}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from cxrviz.review.export import import_corrections
    from cxrviz.review.store import Store

    count = import_corrections(Store(args.db), args.csv)
    print(f"imported {count} reviews into {args.db}")
    return 0


def run_localize(args: argparse.Namespace) -> int:
    from cxrviz.data.boxes import load_boxes
    from cxrviz.explain.localization import accuracy_table, box_scores

    model = _model(args)
    index = scan_images(args.images)
    boxes = load_boxes(args.bbox)
    count = int(boxes["image"].isin(list(index.paths)).sum())
    print(f"{count} ground-truth boxes on images present under {args.images}; model {model.spec.name}, {args.method}")
    with tqdm(total=count, desc="localising") as bar:
        scores = box_scores(model, boxes, index, args.method, args.fraction, _follow(bar))
    print(accuracy_table(scores).to_string(float_format=lambda v: f"{v:.2f}"))
    return 0
