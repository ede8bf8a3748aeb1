"""The bundled ensemble: its network averages its members' probabilities, `ensemble` packs members
with figures computed out of fold (checked against an independent computation on the real labels),
the file is sha256-checked at load, and inconsistent inputs are refused with a sentence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from cxrviz.cli import main
from cxrviz.errors import WeightsError
from cxrviz.findings import FINDINGS
from cxrviz.model.architectures import EnsembleClassifier, efficientnet_lite0
from cxrviz.model.registry import ENSEMBLE_NAME, ensemble_spec, load_model

REPO = Path(__file__).resolve().parents[2]


def test_the_ensemble_outputs_the_logit_of_its_members_mean_probability():
    torch.manual_seed(0)
    members = [efficientnet_lite0(14).eval(), efficientnet_lite0(14).eval()]
    with torch.no_grad():  # members that disagree: one says yes, one says no
        members[0].backbone._fc.bias += 3
        members[1].backbone._fc.bias -= 1
    net = EnsembleClassifier(members, [64, 64]).eval()
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        expected = (torch.sigmoid(members[0](x)) + torch.sigmoid(members[1](x))) / 2
        got = torch.sigmoid(net(x))
        logit_mean = torch.sigmoid((members[0](x) + members[1](x)) / 2)
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(got, logit_mean, atol=1e-3)  # not the mean of logits
    with pytest.raises(ValueError, match="one input size"):
        EnsembleClassifier(members, [64, 48])


@pytest.fixture(scope="module")
def labelled(nih_images):
    from cxrviz.data.image_index import scan_images
    from cxrviz.data.labelled import labelled_set
    from cxrviz.data.metadata import load_metadata

    return labelled_set(load_metadata(), scan_images(nih_images))


def _member(path: Path, names, size: int, seed: int) -> Path:
    torch.manual_seed(seed)
    torch.save({"arch": "efficientnet_lite0", "labels": list(FINDINGS), "input_size": size, "normalisation": "unit2",
                "recipe": _recipe(size), "labels_digest": None,
                "state_dict": efficientnet_lite0(14).state_dict(), "train_images": list(names[:300]),
                "val_images": list(names[300:]), "best_epoch": 3, "thresholds": [0.5] * 14}, path)
    return path


def _recipe(size: int) -> str:
    return f"efficientnet_lite0-s{size}-e16-f4-abcdef12"


def _run(folder: Path, data, size: int, seed: int, folds: np.ndarray, scheme: str = "patient-5fold-seed0") -> Path:
    """A `train --folds` output with made-up out-of-fold probabilities that carry some signal."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    probs = np.clip(0.3 * data.targets + rng.random(data.targets.shape) * 0.7, 0, 1)
    table = pd.DataFrame({"image": data.names, "patient": data.patient_ids, "fold": folds})
    for j, finding in enumerate(FINDINGS):
        table[finding] = probs[:, j]
    table.to_csv(folder / "oof.csv", index=False)
    (folder / "cv_report.json").write_text(json.dumps({"model": _recipe(size),
                                                        "scheme": scheme, "images": len(data), "folds": 5}))
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory, labelled, nih_images):
    """`python -m cxrviz ensemble` run on two made-up recipes over the 452 real images."""
    root = tmp_path_factory.mktemp("ensemble")
    folds = np.arange(len(labelled)) % 5
    names = list(labelled.names)
    cv_a, cv_b = _run(root / "cv_a", labelled, 64, 1, folds), _run(root / "cv_b", labelled, 64, 2, folds)
    member_a, member_b = _member(root / "a.pt", names, 64, 1), _member(root / "b.pt", names, 64, 2)
    models = root / "models"
    models.mkdir()
    code = main(["ensemble", "--images", str(nih_images), "--member", str(member_a), "--cv", str(cv_a),
                 "--member", str(member_b), "--cv", str(cv_b), "--models-dir", str(models), "--bootstrap", "30"])
    assert code == 0
    return {"root": root, "models": models, "cv": (cv_a, cv_b), "members": (member_a, member_b), "folds": folds}


def test_ensemble_figures_are_the_mean_of_the_runs_out_of_fold_probabilities(built, labelled):
    info = json.loads((built["models"] / f"{ENSEMBLE_NAME}.json").read_text())
    runs = [pd.read_csv(folder / "oof.csv").set_index("image").loc[list(labelled.names)] for folder in built["cv"]]
    mean = ((runs[0][list(FINDINGS)].to_numpy() + runs[1][list(FINDINGS)].to_numpy()) / 2).round(6)
    aurocs = [roc_auc_score(labelled.targets[:, j], mean[:, j]) for j in range(14) if 0 < labelled.targets[:, j].sum() < len(labelled)]
    assert info["cross_validated"]["mean_auroc"] == pytest.approx(np.mean(aurocs), abs=1e-9)
    assert info["cross_validated"]["ci_low"] < info["cross_validated"]["mean_auroc"] < info["cross_validated"]["ci_high"]
    assert [m["input_size"] for m in info["members"]] == [64, 64]
    report = json.loads((built["models"] / f"{ENSEMBLE_NAME}.report.json").read_text())
    assert report["weights_sha256"] == info["sha256"]
    assert report["images"] == len(labelled) and "out of fold" in report["evaluated_on"]
    row = next(r for r in report["findings"] if r["finding"] == "Effusion")
    j = FINDINGS.index("Effusion")
    assert row["auroc"] == pytest.approx(roc_auc_score(labelled.targets[:, j], mean[:, j]), abs=1e-9)
    assert row["baseline_auroc"] is not None and row["calibrator"] is not None
    # sensitivity at thresholds chosen on the other folds (not at the shipped ones, chosen on all images)
    from cxrviz.model.evaluation import youden_thresholds

    folds, y = built["folds"], labelled.targets[:, j].astype(bool)
    flags = np.zeros(len(y), dtype=bool)
    for fold in range(5):
        held = folds == fold
        flags[held] = mean[held, j] >= youden_thresholds(labelled.targets[~held], mean[~held])[j]
    assert row["sensitivity"] == pytest.approx(flags[y].mean()) and row["specificity"] == pytest.approx((~flags[~y]).mean())
    assert "other folds" in report["operating_points"]
    # thresholds: Youden's J on the averaged out-of-fold probabilities
    flagged = mean[:, j] >= info["thresholds"][j]
    j_stat = flagged[y].mean() + (~flagged[~y]).mean() - 1
    for t in np.unique(mean[:, j])[::25]:
        other = mean[:, j] >= t
        assert j_stat >= other[y].mean() + (~other[~y]).mean() - 1 - 1e-9


def test_the_packed_ensemble_loads_checked_and_averages_its_half_precision_members(built):
    spec = ensemble_spec(built["models"])
    assert spec.member_sizes == (64, 64) and spec.input_size == 64
    model = load_model(spec)
    assert len(model.cam_layers()) == 2 and len(model.cam_layers("ScoreCAM")) == 2
    members = []
    for path in built["members"]:
        net = efficientnet_lite0(14)
        state = torch.load(path, weights_only=False)["state_dict"]
        net.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in state.items()})
        members.append(net.eval())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = torch.sigmoid(EnsembleClassifier(members, [64, 64]).eval()(x))
        assert torch.allclose(torch.sigmoid(model.module(x)), expected, atol=1e-5)
    half = sum(v.numel() * 2 for v in members[0].state_dict().values() if v.is_floating_point())
    assert (built["models"] / f"{ENSEMBLE_NAME}.pt").stat().st_size < 2 * half * 1.1  # stored at half precision

    tampered = built["root"] / "tampered"
    tampered.mkdir()
    for name in (f"{ENSEMBLE_NAME}.json", f"{ENSEMBLE_NAME}.pt"):
        (tampered / name).write_bytes((built["models"] / name).read_bytes())
    with open(tampered / f"{ENSEMBLE_NAME}.pt", "r+b") as handle:
        handle.seek(-100, 2)
        handle.write(b"\0" * 10)
    with pytest.raises(WeightsError, match="corrupt, truncated or altered"):
        load_model(ensemble_spec(tampered))


def test_the_ensemble_heatmap_hooks_every_member(built, nih_images, monkeypatch):
    from cxrviz.data.imaging import load_gray
    from cxrviz.explain import cam

    model = load_model(ensemble_spec(built["models"]))
    gray = load_gray(nih_images / "00000282_000.png")
    given = []

    class Recording(cam.GradCAM):
        def __init__(self, model, target_layers, **kwargs):
            given.append(list(target_layers))
            super().__init__(model=model, target_layers=target_layers, **kwargs)

    monkeypatch.setitem(cam.METHODS, "GradCAM", Recording)
    maps = cam.heatmap(model, gray, FINDINGS.index("Effusion"))
    assert maps.shape == gray.shape and maps.min() == 0 and maps.max() == pytest.approx(1)
    assert given == [[model.module.members[0].features, model.module.members[1].features]]
    fine = cam.heatmap(model, gray, FINDINGS.index("Effusion"), fine=True)
    assert given[-1] == [m.backbone._blocks[10] for m in model.module.members] and not np.allclose(fine, maps)


def test_inconsistent_runs_and_members_are_refused(built, labelled, nih_images, capsys):
    root = built["root"]
    cv_a, cv_b = built["cv"]
    member_a, member_b = built["members"]
    other = _run(root / "cv_other_folds", labelled, 64, 3, (np.arange(len(labelled)) + 1) % 5)
    cases = [
        (["--member", str(member_a), "--cv", str(cv_a), "--member", str(member_b), "--cv", str(other)], "other folds"),
        (["--member", str(member_a), "--cv", str(cv_a), "--member", str(member_b)], "one --cv folder per --member"),
        (["--member", str(_member(root / "c.pt", list(labelled.names), 96, 3)), "--cv", str(cv_a)], "takes 96 px"),
        (["--member", str(member_a), "--cv", str(cv_a), "--member", str(member_b),
          "--cv", str(_run(root / "cv_96", labelled, 96, 5, built["folds"]))], "one input size"),
        (["--member", str(member_a), "--cv", str(root / "missing")], "is not the output of"),
    ]
    other_scheme = _run(root / "cv_scheme", labelled, 64, 4, built["folds"], scheme="patient-3fold-seed0")
    cases.append((["--member", str(member_a), "--cv", str(cv_a), "--member", str(member_b), "--cv", str(other_scheme)],
                  "different fold schemes"))
    few = root / "few.pt"
    checkpoint = torch.load(member_a, weights_only=False)
    checkpoint["train_images"] = checkpoint["train_images"][:100]
    torch.save(checkpoint, few)
    cases.append((["--member", str(few), "--cv", str(cv_a)], "not the 452 labelled images"))
    other_recipe = root / "other_recipe.pt"
    checkpoint = torch.load(member_a, weights_only=False)
    checkpoint["recipe"] = "efficientnet_lite0-s96-e16-f4-00000000"
    torch.save(checkpoint, other_recipe)
    cases.append((["--member", str(other_recipe), "--cv", str(cv_a)], "was trained with recipe"))
    for arguments, message in cases:
        out = root / "refused"
        out.mkdir(exist_ok=True)
        assert main(["ensemble", "--images", str(nih_images), *arguments, "--models-dir", str(out)]) == 2
        assert message in capsys.readouterr().err
        assert not (out / f"{ENSEMBLE_NAME}.pt").exists()


def test_the_command_writes_the_out_of_fold_probabilities_its_figures_come_from(built, labelled):
    table = pd.read_csv(built["models"] / f"{ENSEMBLE_NAME}.oof.csv").set_index("image").loc[list(labelled.names)]
    assert (table["fold"].to_numpy() == built["folds"]).all()
    info = json.loads((built["models"] / f"{ENSEMBLE_NAME}.json").read_text())
    from cxrviz.model.evaluation import mean_auroc

    assert mean_auroc(labelled.targets, table[list(FINDINGS)].to_numpy()) == pytest.approx(info["cross_validated"]["mean_auroc"], abs=1e-12)


SHIPPED = REPO / "models"


def test_the_shipped_ensemble_loads_checked_and_its_held_out_predictions_beat_chance(labelled, nih_images):
    """The bundled ensemble's claim, recomputed from its out-of-fold probabilities and the real labels:
    above chance on the held-out folds (bootstrap interval above 0.5), calibration lowers the ECE on
    held-out images, and the file loads with its sha256 checked."""
    from cxrviz.model.calibration import cross_fitted, expected_calibration_error
    from cxrviz.model.crossval import cross_validated_auroc

    info = json.loads((SHIPPED / f"{ENSEMBLE_NAME}.json").read_text())
    oof = pd.read_csv(SHIPPED / f"{ENSEMBLE_NAME}.oof.csv").set_index("image").loc[list(labelled.names)]
    probs = oof[list(FINDINGS)].to_numpy()
    cv = cross_validated_auroc(labelled.targets, probs, FINDINGS, n_resamples=200)
    assert cv.mean == pytest.approx(info["cross_validated"]["mean_auroc"], abs=1e-9)
    assert cv.low > 0.5
    for fold in np.unique(oof["fold"]):  # each fold's held-out images on their own
        held = (oof["fold"] == fold).to_numpy()
        from cxrviz.model.evaluation import mean_auroc

        assert mean_auroc(labelled.targets[held], probs[held]) > 0.5
    j = FINDINGS.index("Effusion")
    y = labelled.targets[:, j].astype(int)
    raw = expected_calibration_error(y, probs[:, j])
    calibrated = expected_calibration_error(y, cross_fitted(probs[:, j], y, labelled.patient_ids, "platt", 5))
    assert calibrated < raw
    model = load_model(ensemble_spec(SHIPPED))
    assert model.weights_sha256 == info["sha256"] and len(model.cam_layers()) == len(info["members"])
    assert sum(f.stat().st_size for f in SHIPPED.glob("*.pt")) <= 40e6  # the budget for bundled weights, in all


def test_an_unreadable_ensemble_description_leaves_the_other_models_usable(tmp_path):
    from cxrviz.model.registry import availability

    (tmp_path / f"{ENSEMBLE_NAME}.json").write_text('{"members": [')
    spec = ensemble_spec(tmp_path)
    assert spec.name == ENSEMBLE_NAME and "unreadable" in availability(spec) and "cxrviz ensemble" in availability(spec)
    (tmp_path / f"{ENSEMBLE_NAME}.json").write_text("[]")
    assert "unreadable" in availability(ensemble_spec(tmp_path))
    assert ensemble_spec(tmp_path / "nothing") is None


def test_evaluate_will_not_overwrite_a_bundled_report_with_training_images(nih_images, capsys, tmp_path):
    assert main(["evaluate", "--images", str(nih_images), "--no-exclude-training", "--report",
                 "--out", str(tmp_path / "e.csv")]) == 2
    assert "optimistic figures" in capsys.readouterr().err
    assert not (tmp_path / "e.csv").exists()


def test_evaluate_sends_the_ensemble_to_its_out_of_fold_report(nih_images, capsys, tmp_path):
    assert main(["evaluate", "--images", str(nih_images), "--model", ENSEMBLE_NAME, "--out", str(tmp_path / "e.csv")]) == 2
    err = capsys.readouterr().err
    assert "trained on every labelled image here" in err and f"{ENSEMBLE_NAME}.report.json" in err
