"""`train`: fine-tune an EfficientNet-Lite0 on local images; with `--folds K`, one model per
patient fold and the cross-validated mean AUROC over every image (the honest figure for a few
hundred images), the out-of-fold probabilities written beside the fold models and stored in
the review store, where `audit` with the same recipe reuses them instead of training again."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.commands._common import check_writable, data_arguments, labelled_data, recipe_arguments, recipe_config
from cxrviz.config import Settings

NAME = "train"
HELP = "train an EfficientNet-Lite0 on local images"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    from cxrviz.model.training import TrainConfig

    defaults = TrainConfig(output=Path("unused"))
    data_arguments(parser, settings)
    parser.add_argument("--out", type=Path, required=True, help="checkpoint file to write (with --folds: a folder)")
    parser.add_argument("--folds", type=int, default=None,
                        help="train one model per patient fold (e.g. 5) and report the cross-validated mean AUROC")
    parser.add_argument("--db", default=settings.db, help="with --folds: review store for the out-of-fold probabilities (default: CXRVIZ_DB)")
    parser.add_argument("--max-images", type=int, default=defaults.max_images, help="train on a random subset (smoke tests)")
    recipe_arguments(parser, settings)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.model.training import train

    if args.folds is not None:
        return _run_folds(args, settings)
    from cxrviz.commands._common import labels_digest
    from cxrviz.model.crossval import recipe_name

    check_writable(args.out)
    config = recipe_config(args, args.out, args.max_images)
    config.labels_digest = labels_digest(args)
    config.recipe = recipe_name(config, config.labels_digest)  # `ensemble` matches it with the recipe's --folds run
    checkpoint = train(labelled_data(args), config)
    print(f"best epoch {checkpoint['best_epoch']}: validation mean AUROC {checkpoint['val_mean_auroc']:.4f}; wrote {args.out}")
    return 0


def _run_folds(args: argparse.Namespace, settings: Settings) -> int:
    import json

    import pandas as pd
    from tqdm import tqdm

    from cxrviz.commands._common import follow, labels_digest, subsample
    from cxrviz.errors import CxrvizError
    from cxrviz.findings import FINDINGS
    from cxrviz.model.crossval import cross_validated_auroc
    from cxrviz.review.audit_run import stored_out_of_fold
    from cxrviz.review.store import Store

    out = args.out
    if out.exists() and not out.is_dir():
        raise CxrvizError(f"With --folds, --out names a folder (fold models, oof.csv, cv_report.json); {out} is a file.")
    check_writable(out / "oof.csv" if out.is_dir() else out)  # a folder still to make: its parent must be writable
    out.mkdir(exist_ok=True)
    data = subsample(labelled_data(args), args.max_images, args.seed)
    config = recipe_config(args, out / "unused.pt", args.max_images)
    store = Store(args.db, settings.db_timeout)
    with tqdm(total=args.folds, desc="folds") as bar:
        oof = stored_out_of_fold(data, config, store, out, k=args.folds, seed=args.seed, progress=follow(bar),
                                 labels_digest=labels_digest(args))
    cv = cross_validated_auroc(data.targets, oof.probabilities, FINDINGS, seed=args.seed)
    table = pd.DataFrame({"image": data.names, "patient": data.patient_ids, "fold": oof.folds})
    for j, finding in enumerate(FINDINGS):
        table[finding] = oof.probabilities[:, j]
    table.to_csv(out / "oof.csv", index=False)
    report = {"model": oof.model, "scheme": oof.scheme, "images": len(data), "folds": args.folds,
              "mean_auroc": cv.mean, "ci_low": cv.low, "ci_high": cv.high,
              "per_finding": cv.per_finding.to_dict("records")}
    (out / "cv_report.json").write_text(json.dumps(_json_safe(report), indent=2, allow_nan=False))
    print(cv.per_finding.round(3).to_string(index=False))
    print(f"{len(data)} images, {args.folds} patient folds ({oof.scheme}, recipe {oof.model}): trained {oof.trained_folds} "
          f"fold(s), reused stored out-of-fold probabilities for {oof.reused_images} image(s)")
    print(f"cross-validated mean AUROC {cv.mean:.3f} (95% bootstrap interval {cv.low:.3f}-{cv.high:.3f}); "
          f"wrote {out / 'oof.csv'}, {out / 'cv_report.json'} and the out-of-fold rows to {store.where}")
    return 0


def _json_safe(value):
    """NaN (a finding without positives has no AUROC) as null: strict JSON readers refuse NaN."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value
