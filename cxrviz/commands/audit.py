"""`audit`: find the labels most likely wrong. Trains one model per patient fold (or reuses the
out-of-fold probabilities stored by an earlier, possibly interrupted run), ranks every
(image, finding) label with cleanlab, writes the suspects to a CSV and to the review store
(the Label audit page shows them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from cxrviz.commands._common import (
    check_writable,
    data_arguments,
    follow,
    labelled_data,
    labels_digest,
    output_path,
    recipe_arguments,
    recipe_config,
    subsample,
)
from cxrviz.config import Settings

NAME = "audit"
HELP = "rank likely wrong labels with cleanlab on out-of-fold predictions"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    from cxrviz.model.crossval import DEFAULT_FOLDS
    from cxrviz.review.audit_run import DEFAULT_TOP

    data_arguments(parser, settings)
    parser.add_argument("--out", type=Path, default=None, help="CSV of suspect labels (default: label_issues.csv here)")
    parser.add_argument("--db", default=settings.db, help="review store: SQLite path or postgresql:// URL (default: CXRVIZ_DB)")
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS, help="patient folds (one model each)")
    parser.add_argument("--top", type=int, default=DEFAULT_TOP, help="keep the N most suspect pairs besides the flagged ones")
    parser.add_argument("--workdir", type=Path, default=None, help="where fold checkpoints go (default: CXRVIZ_CACHE/audit)")
    parser.add_argument("--max-images", type=int, default=None, help="audit a random subset (smoke tests)")
    parser.add_argument("--expert", type=Path, default=None, help="Google 2019 expert labels CSV (default: torchxrayvision's copy)")
    recipe_arguments(parser, settings, "most epochs per fold (early stopping may end sooner)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.data.expert import ExpertLabelsError, load_expert_labels
    from cxrviz.review.audit_run import audit_labels
    from cxrviz.review.store import Store

    out = output_path(args.out, "label_issues.csv")
    check_writable(out)
    data = subsample(labelled_data(args), args.max_images, args.seed)
    try:
        expert = load_expert_labels(args.expert)
    except ExpertLabelsError as error:
        print(f"warning: {error} The audit goes on without expert labels.")
        expert = None
    config = recipe_config(args)
    workdir = args.workdir or settings.cache / "audit"
    store = Store(args.db, settings.db_timeout)
    with tqdm(total=args.folds, desc="folds") as bar:
        result = audit_labels(data, config, store, workdir, k=args.folds, seed=args.seed, top=args.top, expert=expert,
                              progress=follow(bar), labels_digest=labels_digest(args))
    result.table.to_csv(out, index=False)
    print(f"{len(data)} images, {args.folds} patient folds ({result.scheme}, model {result.model}): trained "
          f"{result.trained_folds} fold(s), reused stored out-of-fold probabilities for {result.reused_images} image(s)")
    print(f"cleanlab flags {result.flagged} (image, finding) labels; wrote {len(result.table)} suspects to {out} and {store.where}")
    return 0
