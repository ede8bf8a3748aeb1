"""The audit command on a handful of real images (2 folds, 1 epoch, 64 px), then resumed after
an interruption that lost one fold: only that fold trains again."""

import os
import subprocess
import sys

import pandas as pd
import sqlalchemy as sa

from cxrviz.data.expert import load_expert_labels
from cxrviz.review.audit_run import queue_images, suspect_queue, with_expert
from cxrviz.review.store import Store
from cxrviz.review.store.oof import oof_probabilities, oof_runs, replace_label_issues
from tests.conftest import REPO

ARGS = ["--folds", "2", "--max-images", "40", "--epochs", "1", "--input-size", "64", "--freeze-blocks", "10", "--device", "cpu",
        "--top", "25"]


def audit(tmp_path, nih_images):
    command = [sys.executable, "-m", "cxrviz", "audit", "--images", str(nih_images), "--db", str(tmp_path / "r.sqlite"),
               "--workdir", str(tmp_path / "cv"), "--out", str(tmp_path / "issues.csv"), *ARGS]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "CXRVIZ_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_audit_command_runs_stores_and_resumes(tmp_path, nih_images):
    first = audit(tmp_path, nih_images)
    assert "40 images, 2 patient folds" in first and "trained 2 fold(s)" in first and "for 0 image(s)" in first
    table = pd.read_csv(tmp_path / "issues.csv", keep_default_na=False)
    assert list(table.columns) == ["image", "finding", "label", "direction", "score", "expert", "probability", "image_score", "flagged"]
    assert len(table) >= 25 and table["score"].is_monotonic_increasing
    assert set(table["direction"]) <= {"probably missing", "probably spurious"}
    assert ((table["label"] == 1) == (table["direction"] == "probably spurious")).all()
    store = Store(str(tmp_path / "r.sqlite"))
    [run] = oof_runs(store)
    assert run["images"] == 40 and run["folds"] == 2
    stored = suspect_queue(store)
    assert list(stored["image"]) == list(table["image"]) and list(stored["finding"]) == list(table["finding"])

    # interrupted after fold 0: fold 1's probabilities never reached the store
    with store.engine.begin() as conn:
        lost = conn.execute(sa.text("DELETE FROM oof_predictions WHERE fold = 1")).rowcount
    store.dispose()
    second = audit(tmp_path, nih_images)
    assert "trained 1 fold(s)" in second and f"for {40 - lost} image(s)" in second
    assert len(oof_probabilities(Store(str(tmp_path / "r.sqlite")), run["model"], run["scheme"])) == 40


def test_queue_with_expert_labels_and_finding_filter(tmp_path):
    store = Store(str(tmp_path / "r.sqlite"))
    row = {"label": 0, "direction": "probably missing", "image_score": 0.1, "probability": 0.9, "flagged": True}
    replace_label_issues(store, "m", "s", [
        {**row, "image": "00000013_026.png", "finding": "Pneumothorax", "label": 1, "direction": "probably spurious", "score": 0.01},
        {**row, "image": "00000013_026.png", "finding": "Mass", "score": 0.02},
        {**row, "image": "00000001_000.png", "finding": "Edema", "score": 0.03, "flagged": False},
    ])
    expert = load_expert_labels()
    queue = suspect_queue(store, expert)
    # 00000013_026 was adjudicated: Pneumothorax present, Nodule or mass absent; Edema has no expert counterpart
    assert list(queue["expert"]) == ["present", "absent", ""]
    assert queue_images(queue) == ["00000013_026.png", "00000001_000.png"]
    assert list(suspect_queue(store, expert, finding="Mass")["finding"]) == ["Mass"]
    assert len(suspect_queue(store, flagged_only=True)) == 2
    assert list(with_expert(queue.drop(columns="expert"), None)["expert"]) == ["", "", ""]


def test_train_folds_reports_cross_validated_auroc_and_audit_reuses_its_probabilities(tmp_path, nih_images):
    import json

    from cxrviz.findings import FINDINGS

    common = ARGS[: ARGS.index("--top")]
    command = [sys.executable, "-m", "cxrviz", "train", "--images", str(nih_images), "--db", str(tmp_path / "r.sqlite"),
               "--out", str(tmp_path / "cv"), *common]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "CXRVIZ_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "cross-validated mean AUROC" in result.stdout and "trained 2 fold(s)" in result.stdout
    oof = pd.read_csv(tmp_path / "cv" / "oof.csv")
    assert len(oof) == 40 and oof["image"].is_unique and set(oof["fold"]) == {0, 1}
    assert list(oof.columns) == ["image", "patient", "fold", *FINDINGS]
    assert oof.groupby("patient")["fold"].nunique().max() == 1  # a patient never in two folds
    report = json.loads((tmp_path / "cv" / "cv_report.json").read_text())
    assert report["images"] == 40 and report["ci_low"] <= report["mean_auroc"] <= report["ci_high"]
    assert {(tmp_path / "cv" / f"fold-{f}.pt").exists() for f in (0, 1)} == {True}
    # the same recipe in `audit` takes the stored probabilities instead of training again
    again = audit(tmp_path, nih_images)
    assert "trained 0 fold(s)" in again and "for 40 image(s)" in again
    stored = oof_probabilities(Store(str(tmp_path / "r.sqlite")), report["model"], report["scheme"])
    first = oof.set_index("image").loc[:, list(FINDINGS)]
    assert all(abs(first.loc[name].to_numpy() - stored[name]).max() < 1e-6 for name in first.index)


def test_train_folds_refuses_a_file_as_its_folder(tmp_path, nih_images):
    (tmp_path / "model.pt").write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "cxrviz", "train", "--images", str(nih_images), "--folds", "2",
                             "--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "model.pt")],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "names a folder" in (result.stdout + result.stderr)
