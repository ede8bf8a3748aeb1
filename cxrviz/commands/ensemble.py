"""`ensemble`: pack models trained on every local image into the bundled ensemble, with figures
measured out of fold: the recipes' `train --folds` runs (same folds) give each image the mean
probability of the fold models that never saw it; AUROC with its interval, the metadata-only
baseline beside it, thresholds and calibration all come from those, never from the members."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from cxrviz.commands._common import data_arguments, labelled_data
from cxrviz.config import Settings

NAME = "ensemble"
HELP = "pack models trained on every image into the bundled ensemble, measured on cross-validated runs"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    data_arguments(parser, settings)
    parser.add_argument("--member", type=Path, action="append", required=True,
                        help="a checkpoint of `train` on every image here (repeat; one per --cv, same order)")
    parser.add_argument("--cv", type=Path, action="append", required=True,
                        help="the `train --folds K --out DIR` folder of that member's recipe (same folds and seed for all)")
    parser.add_argument("--models-dir", type=Path, default=None, help="where to write (default: the repository's models/)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for every interval (default: 1000)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    import json

    import numpy as np
    import pandas as pd

    from cxrviz.commands._common import labels_digest
    from cxrviz.data.metadata import load_metadata
    from cxrviz.errors import CxrvizError
    from cxrviz.findings import FINDINGS
    from cxrviz.model.baseline import FEATURES, fit_baseline, rows_of
    from cxrviz.model.crossval import cross_validated_auroc
    from cxrviz.model.ensemble import averaged_out_of_fold, check_member, check_sizes, held_out_thresholds, pack, read_run
    from cxrviz.model.evaluation import youden_thresholds
    from cxrviz.model.model_report import build_report, report_path_for, write_report
    from cxrviz.model.registry import ENSEMBLE_NAME, MODELS_DIR
    from cxrviz.model.weights import read_checkpoint, sha256_of

    if len(args.member) != len(args.cv):
        raise CxrvizError(f"Give one --cv folder per --member ({len(args.member)} members, {len(args.cv)} folders).")
    models_dir = args.models_dir or MODELS_DIR
    if not models_dir.is_dir():
        raise CxrvizError(f"The folder {models_dir} does not exist.")
    data = labelled_data(args)
    names = list(data.names)
    runs = [read_run(folder) for folder in args.cv]
    check_sizes(runs)
    checkpoints = [read_checkpoint(path) for path in args.member]
    digest_of_labels = labels_digest(args)
    for path, checkpoint, run_ in zip(args.member, checkpoints, runs):
        check_member(checkpoint, run_, names, path.name, digest_of_labels)
    oof, folds = averaged_out_of_fold(runs, names)
    oof = oof.round(6)  # as written to the .oof.csv, so every figure can be recomputed from that file
    thresholds = youden_thresholds(data.targets, oof)
    cv = cross_validated_auroc(data.targets, oof, FINDINGS, n_resamples=args.bootstrap)
    metadata = load_metadata(args.metadata)
    baseline = fit_baseline(metadata, exclude_patients=np.unique(data.patient_ids))

    # the members are checked and the figures computed: now the files, the weights renamed into place last
    weights = models_dir / f"{ENSEMBLE_NAME}.pt"
    partial = weights.with_suffix(".partial")
    try:
        pack(checkpoints, [r.recipe for r in runs], partial)
        digest = sha256_of(partial)
        command = ("python -m cxrviz " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == [NAME]
                   else "python -m cxrviz ensemble")
        report = build_report(
            model_name=ENSEMBLE_NAME, weights_sha256=digest, labels=FINDINGS, targets=data.targets, scores=oof,
            baseline_scores=baseline.predict(rows_of(metadata, names)), thresholds=thresholds,
            held_out_thresholds=held_out_thresholds(data.targets, oof, folds), patient_ids=data.patient_ids,
            command=command, n_bootstrap=args.bootstrap,
            evaluated_on=(f"all {len(names)} labelled images, each scored out of fold (mean of the {len(runs)} recipes' "
                          f"fold models that never saw it; {runs[0].scheme})"),
            baseline_info={"features": list(FEATURES), "train_rows": baseline.n_train,
                           "train_patients": baseline.n_train_patients,
                           "excluded_patients": int(len(np.unique(data.patient_ids)))},
        )
        info = {
            "name": ENSEMBLE_NAME,
            "description": (f"{len(runs)} EfficientNet-Lite0 models averaged, trained on {len(names)} NIH images "
                            f"(cross-validated mean AUROC {cv.mean:.3f}; demonstration only)"),
            "weights": weights.name, "sha256": digest, "normalisation": checkpoints[0]["normalisation"],
            "labels": list(FINDINGS), "thresholds": [float(t) for t in thresholds],
            "members": [{"input_size": r.input_size, "recipe": r.recipe, "cv_folder": r.folder.name} for r in runs],
            "cross_validated": {"scheme": runs[0].scheme, "images": len(names), "mean_auroc": cv.mean, "ci_low": cv.low,
                                "ci_high": cv.high},
            "train_images": names,
        }
        table = pd.DataFrame({"image": names, "patient": data.patient_ids, "fold": folds})
        for j, finding in enumerate(FINDINGS):
            table[finding] = oof[:, j]
        report_path = write_report(report, report_path_for(ENSEMBLE_NAME, models_dir))
        table.to_csv(models_dir / f"{ENSEMBLE_NAME}.oof.csv", index=False)  # what every figure was computed from
        (models_dir / f"{ENSEMBLE_NAME}.json").write_text(json.dumps(info, indent=1) + "\n")
        partial.replace(weights)
    finally:
        partial.unlink(missing_ok=True)

    shown = cv.per_finding.merge(
        pd.DataFrame([{"finding": r["finding"], "baseline": r["baseline_auroc"], "difference": r["difference"],
                       "difference_low": r["difference_low"], "difference_high": r["difference_high"],
                       "sensitivity": r["sensitivity"], "specificity": r["specificity"]} for r in report["findings"]]),
        on="finding")
    print(shown.round(3).to_string(index=False))
    print(f"{len(runs)} members; cross-validated mean AUROC {cv.mean:.3f} (95% bootstrap interval {cv.low:.3f}-{cv.high:.3f}) "
          f"against {report['mean']['baseline_auroc']:.3f} for the metadata-only baseline on the same {len(names)} images; "
          f"ECE {report['mean']['ece_raw']:.3f} raw, {report['mean']['ece_calibrated']:.3f} calibrated (cross-fitted)")
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.1f} MB, sha256 {digest[:12]}…), "
          f"{models_dir / (ENSEMBLE_NAME + '.json')}, its out-of-fold probabilities "
          f"{models_dir / (ENSEMBLE_NAME + '.oof.csv')} and {report_path}")
    return 0
