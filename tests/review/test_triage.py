import csv
import subprocess
import sys

import pandas as pd
import pytest

from cxrviz.data.image_index import scan_images
from cxrviz.findings import FINDINGS
from cxrviz.model.registry import bundled_spec, load_model
from cxrviz.review.store import Store
from cxrviz.review.triage import disagreement, predict_missing, prediction_frame, ranked
from tests.conftest import REPO


@pytest.fixture(scope="module")
def model():
    return load_model(bundled_spec(), "cpu")


def test_disagreement_and_ranking(metadata):
    # 00000001_000.png is labelled Cardiomegaly only; 00000001_001.png Cardiomegaly|Emphysema
    probs = pd.DataFrame([[0.1] * 14, [0.1] * 14], index=["00000001_000.png", "00000001_001.png"], columns=list(FINDINGS))
    probs.loc["00000001_000.png", "Mass"] = 0.95  # the model sees a mass the label lacks
    scores = disagreement(metadata, probs)
    assert scores["00000001_000.png"] == pytest.approx(0.95)
    assert scores["00000001_001.png"] == pytest.approx(0.9)  # Cardiomegaly and Emphysema at 0.1
    assert ranked(metadata, probs, "disagreement") == ["00000001_000.png", "00000001_001.png"]
    assert ranked(metadata, probs, "Mass", minimum=0.5) == ["00000001_000.png"]


def test_batch_predictions_are_cached_per_model_and_weights(tmp_path, model, nih_images):
    index = scan_images(nih_images)
    names = sorted(index.paths)[:20]
    store = Store(str(tmp_path / "r.sqlite"))
    seen = []
    assert predict_missing(store, model, names[:12], [index.paths[n] for n in names[:12]], lambda d, t: seen.append((d, t))) == 12
    assert seen[-1] == (12, 12)
    assert predict_missing(store, model, names, [index.paths[n] for n in names]) == 8  # only the new ones
    frame = prediction_frame(store, model, names)
    assert list(frame.columns) == list(FINDINGS) and len(frame) == 20
    assert ((frame.to_numpy() >= 0) & (frame.to_numpy() <= 1)).all()


def test_predict_command_is_resumable(tmp_path, nih_images):
    subset = tmp_path / "imgs"
    subset.mkdir()
    for source in sorted(nih_images.iterdir())[:6]:
        (subset / source.name).write_bytes(source.read_bytes())
    out = tmp_path / "preds.csv"
    run = [sys.executable, "-m", "cxrviz", "predict", "--images", str(subset), "--out", str(out), "--workers", "0"]
    first = subprocess.run(run, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-1500:]
    assert "added 6 rows" in first.stdout
    (subset / "99999999_000.png").write_bytes(b"corrupt")
    second = subprocess.run(run, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "added 1 rows" in second.stdout and "(6 already there)" in second.stdout
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 7
    broken = next(r for r in rows if r["Image Index"] == "99999999_000.png")
    assert broken["error"] and broken["Mass"] == ""
    assert all(0 <= float(r["Mass"]) <= 1 for r in rows if not r["error"])
