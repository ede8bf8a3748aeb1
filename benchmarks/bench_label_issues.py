"""Does cleanlab find wrong labels better than today's |p - label| triage? Flip a known fraction
of (image, finding) labels on the local NIH images (seeded), compute out-of-fold probabilities by
patient k-fold on the flipped labels (the models learn from the noise, as they would in use),
then compare the two rankings: precision at 25/50/100 and the AUROC of separating flipped from
untouched pairs.
Run: .venv/bin/python benchmarks/bench_label_issues.py [--folds 5 --epochs 3 --input-size 128 --device cuda]"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import NIH_IMAGES
from sklearn.metrics import roc_auc_score

from cxrviz.data.image_index import scan_images
from cxrviz.data.labelled import LabelledSet, labelled_set
from cxrviz.data.metadata import load_metadata
from cxrviz.model.crossval import out_of_fold, patient_folds
from cxrviz.model.devices import pick_device
from cxrviz.model.training import TrainConfig
from cxrviz.review.label_issues import find_label_issues, naive_pair_scores


def flipped_copy(data: LabelledSet, fraction: float, seed: int) -> tuple[LabelledSet, np.ndarray]:
    rng = np.random.default_rng(seed)
    flips = np.zeros(data.targets.shape, dtype=bool)
    flips.flat[rng.choice(flips.size, size=int(round(fraction * flips.size)), replace=False)] = True
    targets = np.where(flips, 1 - data.targets, data.targets).astype(np.float32)
    return LabelledSet(data.names, data.paths, targets, data.patient_ids), flips


def precision_at(order: np.ndarray, flips: np.ndarray, k: int) -> float:
    return float(flips.ravel()[order[:k]].mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=Path, default=NIH_IMAGES)
    parser.add_argument("--flip", type=float, default=0.10, help="fraction of (image, finding) pairs flipped")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--input-size", type=int, default=128)
    parser.add_argument("--freeze-blocks", type=int, default=4)
    parser.add_argument("--device", default=None)
    parser.add_argument("--save", type=Path, default=None, help="also save the out-of-fold probabilities and flips (.npz)")
    args = parser.parse_args()

    data = labelled_set(load_metadata(), scan_images(args.images))
    noisy, flips = flipped_copy(data, args.flip, args.seed)
    config = TrainConfig(output=Path("unused"), seed=args.seed, epochs=args.epochs, input_size=args.input_size,
                         freeze_blocks=args.freeze_blocks, device=pick_device(args.device))
    started = time.time()
    folds = patient_folds(noisy.patient_ids, args.folds, args.seed, noisy.targets)
    with tempfile.TemporaryDirectory() as workdir:
        probs = out_of_fold(noisy, config, folds, Path(workdir))
    seconds = time.time() - started
    if args.save is not None:
        np.savez(args.save, probs=probs, given=noisy.targets, flips=flips, names=np.array(data.names))
    given = noisy.targets.astype(int)
    issues = find_label_issues(given, probs)
    scores = {
        "cleanlab": issues.pair_scores.ravel(),  # what the audit ranks by (adjust_pred_probs=True)
        "cleanlab image": np.repeat(issues.image_scores, given.shape[1]),  # the image's score for each of its pairs
        "|p - label|": naive_pair_scores(given, probs).ravel(),
        "label only": 1.0 - given.ravel(),  # "every present label is suspect": a prior, no model
    }
    flagged = issues.flagged
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"{len(data)} images, {flips.sum()} of {flips.size} (image, finding) pairs flipped "
          f"({int((flips & (data.targets == 0)).sum())} absent->present, {int((flips & (data.targets == 1)).sum())} present->absent); "
          f"{args.folds} patient folds, {args.epochs} epochs at {args.input_size} px on {config.device}: {seconds:.0f} s")
    print(f"{'ranking':<16}{'P@25':>8}{'P@50':>8}{'P@100':>8}{'AUROC':>8}")
    for name, score in scores.items():
        order = np.argsort(score, kind="stable")  # low quality = suspect first
        auroc = roc_auc_score(flips.ravel(), -score)
        print(f"{name:<16}" + "".join(f"{precision_at(order, flips, k):8.2f}" for k in (25, 50, 100)) + f"{auroc:8.3f}")
    hits = int((flagged & flips).sum())
    print(f"cleanlab flags {int(flagged.sum())} pairs: precision {hits / max(int(flagged.sum()), 1):.2f}, recall {hits / flips.sum():.2f} "
          f"(base rate {flips.mean():.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
