"""`evaluate`: per-finding AUROC with bootstrap intervals; with `--baseline`, the metadata-only
baseline beside it; with `--report`, also calibration and thresholds, written as the JSON the Model
page reads (`models/NAME.report.json` for the bundled model)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

from cxrviz.commands._common import check_writable, data_arguments, labelled_data, load_model, model_arguments, output_path, scores
from cxrviz.config import Settings

NAME = "evaluate"
HELP = "per-finding AUROC with bootstrap intervals (and the metadata-only baseline, calibration, --report)"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    data_arguments(parser, settings)
    model_arguments(parser, settings)
    parser.add_argument("--out", type=Path, default=None, help="CSV of the table (default: ./evaluation.csv, announced)")
    parser.add_argument("--exclude-training", action=argparse.BooleanOptionalAction, default=True,
                        help="drop the bundled model's training images (default: on; --no-exclude-training keeps them)")
    parser.add_argument("--baseline", action="store_true",
                        help="also fit the metadata-only baseline (age, sex, view, follow-up) on the NIH table "
                             "without these images' patients, and show it beside the model")
    parser.add_argument("--report", type=Path, nargs="?", const=Path("-"), default=None,
                        help="write the full report (baseline, calibration, thresholds) as JSON; without a path: "
                             "models/NAME.report.json for the bundled model (implies --baseline)")
    parser.add_argument("--calibration", default="platt", choices=("temperature", "platt", "isotonic"),
                        help="calibration map fitted per finding for the report (default: platt)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.errors import CxrvizError
    from cxrviz.findings import FINDINGS
    from cxrviz.model.evaluation import auroc_table
    from cxrviz.model.model_report import report_path_for

    out = output_path(args.out, "evaluation.csv")
    check_writable(out)
    model = load_model(args)
    report_path = _report_path(args.report, model)
    if report_path is not None:
        check_writable(report_path)
        if (not args.exclude_training and model.spec.source == "bundled"
                and report_path.resolve() == report_path_for(model.spec.name).resolve()):
            raise CxrvizError(f"--no-exclude-training scores {model.spec.name} on images it trained on; that would replace "
                              f"the report the app reads ({report_path.name}) with optimistic figures. Give --report "
                              "another file name.")
    everything = data = labelled_data(args)
    evaluated_on = f"all {len(data)} labelled images under the image folder"
    if args.exclude_training and model.spec.source == "bundled":
        trained = set(json.loads(model.spec.weights.with_suffix(".json").read_text())["train_images"])
        data = data.subset(np.array([n not in trained for n in data.names]))
        if len(data) == 0:
            raise CxrvizError(f"{model.spec.name} trained on every labelled image here, so none is left to evaluate it on. "
                              f"Its honest figures are the out-of-fold ones in {report_path_for(model.spec.name)} "
                              "(`python -m cxrviz ensemble` writes them); --no-exclude-training scores it on its own "
                              "training images (optimistic).")
        evaluated_on = f"{len(data)} labelled images the model never trained on (its validation patients)"
        print(f"evaluating on {len(data)} images the model never trained on")
    probabilities = scores(model, data)
    table = auroc_table(data.targets, probabilities, FINDINGS)
    if args.baseline or report_path is not None:
        from cxrviz.data.metadata import load_metadata
        from cxrviz.model.baseline import FEATURES, fit_baseline, rows_of

        metadata = load_metadata(args.metadata)
        baseline = fit_baseline(metadata, exclude_patients=np.unique(everything.patient_ids))
        print(f"metadata-only baseline: logistic regression on {', '.join(FEATURES)}, fitted on {baseline.n_train} "
              f"rows of {baseline.n_train_patients} patients (none of the {len(np.unique(everything.patient_ids))} "
              "patients under the image folder)")
        base_scores = baseline.predict(rows_of(metadata, data.names))
        base = auroc_table(data.targets, base_scores, FINDINGS)
        table["baseline_auroc"], table["baseline_low"], table["baseline_high"] = base["auroc"], base["ci_low"], base["ci_high"]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"mean AUROC: {table['auroc'].mean():.4f}")
    if "baseline_auroc" in table:
        print(f"mean metadata-only baseline AUROC: {table['baseline_auroc'].mean():.4f}")
    table.to_csv(out, index=False)
    print(f"wrote {out}")
    if report_path is not None:
        from cxrviz.model.model_report import build_report, write_report

        command = "python -m cxrviz " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["evaluate"] else "python -m cxrviz evaluate --report"
        report = build_report(
            model_name=model.spec.name, weights_sha256=model.weights_sha256, labels=FINDINGS, targets=data.targets,
            scores=probabilities, baseline_scores=base_scores, thresholds=model.thresholds,
            patient_ids=data.patient_ids, evaluated_on=evaluated_on, command=command, method=args.calibration,
            baseline_info={"features": list(FEATURES), "train_rows": baseline.n_train,
                           "train_patients": baseline.n_train_patients,
                           "excluded_patients": int(len(np.unique(everything.patient_ids)))},
        )
        write_report(report, report_path)
        mean = report["mean"]
        print(f"mean ECE {mean['ece_raw']:.4f} raw, {mean['ece_calibrated']:.4f} after {args.calibration} calibration "
              f"(cross-fitted); wrote {report_path}")
    return 0


def _report_path(given: Path | None, model) -> Path | None:
    from cxrviz.errors import CxrvizError
    from cxrviz.model.model_report import report_path_for

    if given is None:
        return None
    if str(given) != "-":
        return given
    if model.spec.source != "bundled":
        raise CxrvizError("Give --report a file name for a model other than the bundled one.")
    return report_path_for(model.spec.name)
