import subprocess
import sys

import numpy as np
import pytest
import torch

from cxrviz.model.training import wang_loss_weights, weighted_bce
from tests.conftest import REPO


def test_wang_weights_balance_positives_and_negatives():
    targets = np.array([[1, 0], [0, 0], [0, 0], [0, 1]], dtype=np.float32)
    beta_p, beta_n = wang_loss_weights(targets)
    assert beta_p.tolist() == [4.0, 4.0]
    assert torch.allclose(beta_n, torch.tensor([4 / 3, 4 / 3]))
    logits = torch.zeros(4, 2)
    loss = weighted_bce(logits, torch.tensor(targets), beta_p, beta_n)
    assert loss.item() > torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(targets)).item()


def test_train_command_end_to_end_writes_a_loadable_checkpoint(tmp_path, nih_images):
    out = tmp_path / "smoke.pt"
    labels = tmp_path / "labels.csv"
    labels.write_text("Image Index,Finding Labels\n00000282_000.png,Hernia\n")
    result = subprocess.run(
        [sys.executable, "-m", "cxrviz", "train", "--images", str(nih_images), "--labels", str(labels), "--out", str(out),
         "--epochs", "1", "--max-images", "48", "--input-size", "128", "--freeze-blocks", "10", "--seed", "3"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "validation mean AUROC" in result.stdout
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint["input_size"] == 128 and len(checkpoint["thresholds"]) == 14
    assert len(checkpoint["train_images"]) + len(checkpoint["val_images"]) == 48
    from cxrviz.model.inference import predict_gray
    from cxrviz.model.registry import from_training_checkpoint

    probs = predict_gray(from_training_checkpoint(checkpoint), np.random.default_rng(0).random((200, 200), dtype=np.float32))
    assert probs.shape == (14,) and ((0 <= probs) & (probs <= 1)).all()


def test_evaluate_command_runs_on_unseen_images(tmp_path, nih_images):
    out = tmp_path / "eval.csv"
    result = subprocess.run([sys.executable, "-m", "cxrviz", "evaluate", "--images", str(nih_images), "--out", str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "never trained on" in result.stdout and "mean AUROC" in result.stdout
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table.columns) == ["finding", "positives", "auroc", "ci_low", "ci_high"] and len(table) == 14
    assert (table["ci_low"] <= table["auroc"]).all() and (table["auroc"] <= table["ci_high"]).all()


def test_cli_reports_user_errors_without_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cxrviz", "evaluate", "--images", str(tmp_path)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "error: No NIH images" in result.stderr and "Traceback" not in result.stderr


def test_layer_wise_learning_rates():
    from cxrviz.model.architectures import efficientnet_lite0
    from cxrviz.model.crossval import recipe_name
    from cxrviz.model.training import TrainConfig, parameter_groups

    model = efficientnet_lite0(14, pretrained_imagenet=False)
    for block in model.backbone._blocks[:4]:
        block.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    [flat] = parameter_groups(model, 1e-3, None)
    assert sum(p.numel() for p in flat["params"]) == trainable and flat["lr"] == 1e-3
    groups = parameter_groups(model, 1e-3, 0.5)
    assert sum(p.numel() for g in groups for p in g["params"]) == trainable  # frozen blocks left out, nothing twice
    lrs = [g["lr"] for g in groups]
    assert lrs == sorted(lrs) and lrs[-1] == 1e-3  # the head learns fastest
    assert lrs[0] == pytest.approx(1e-3 * 0.5 ** 17)  # the stem (the recipe freezes blocks 0-3, not the stem)
    assert lrs[1] == pytest.approx(1e-3 * 0.5 ** (16 - 4))  # block 4, the first trainable block
    head = {id(p) for p in model.backbone._fc.parameters()}
    assert head <= {id(p) for p in groups[-1]["params"]}
    base = recipe_name(TrainConfig(output=None))
    assert base.startswith("efficientnet_lite0-s256-e30-f4-") and base == recipe_name(TrainConfig(output=None))
    # stored out-of-fold rows are reused only for the very same recipe and labels
    others = [recipe_name(TrainConfig(output=None, layer_decay=0.8)), recipe_name(TrainConfig(output=None, lr=1e-3)),
              recipe_name(TrainConfig(output=None, ema_decay=0.97)), recipe_name(TrainConfig(output=None), "sha of a labels CSV")]
    assert len({base, *others}) == 5
