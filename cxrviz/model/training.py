"""Training the bundled model: class-weighted BCE, mild affine augmentation, early stopping.

Follows what the literature uses on ChestX-ray14: the weighted cross-entropy of Wang et al.
2017 (positives weighted by |N|/|P| per finding), small rotations/shifts/scalings and no
left-right flips (the heart is on the left), model selection on validation mean AUROC.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision.transforms import v2
from tqdm import tqdm

from cxrviz.data.imaging import load_gray
from cxrviz.data.labelled import LabelledSet
from cxrviz.data.splits import is_validation
from cxrviz.findings import FINDINGS
from cxrviz.model.architectures import efficientnet_lite0
from cxrviz.model.evaluation import mean_auroc, youden_thresholds
from cxrviz.model.inference import forward_probabilities
from cxrviz.model.preprocess import normalise, resize_gray

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "cxrviz-checkpoint/1"


@dataclass
class TrainConfig:
    output: Path
    seed: int = 0
    input_size: int = 256
    epochs: int = 30
    patience: int = 6
    batch_size: int = 16
    lr: float = 5e-4
    weight_decay: float = 1e-4
    val_fraction: float = 0.25
    freeze_blocks: int = 4  # the shipped model's recipe (models/MODEL_CARD.md); the CLI default reads this
    ema_decay: float | None = None  # e.g. 0.97: evaluate and keep an exponential moving average of the weights
    layer_decay: float | None = None  # e.g. 0.8: block i of 16 learns at lr * decay ** (16 - i), the head at lr
    max_images: int | None = None
    device: str = "cpu"
    recipe: str | None = None  # `crossval.recipe_name` of this config and its labels, recorded in the checkpoint
    labels_digest: str | None = None  # sha256 of a --labels file overriding the NIH labels, recorded too
    history: list[dict] = field(default_factory=list)


def load_pixels(paths: list[Path], size: int, desc: str = "loading") -> torch.Tensor:
    """All images decoded once into one (N, 1, S, S) float tensor in [0, 1]."""
    return torch.cat([resize_gray(load_gray(p), size) for p in tqdm(paths, desc=desc, leave=False)])


def parameter_groups(model: nn.Module, lr: float, layer_decay: float | None) -> list[dict]:
    """The trainable parameters for the optimiser. With `layer_decay` (layer-wise learning-rate
    decay, for fine-tuning on little data): the head (conv_head, bn1, fc) at `lr`, block i of n at
    lr * decay ** (n - i), the stem below the first block; frozen parameters are left out."""
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if layer_decay is None:
        return [{"params": [p for _, p in trainable], "lr": lr}]
    n = len(model.backbone._blocks)

    def depth(name: str) -> int:  # n for the head, i for block i, -1 for the stem
        if name.startswith("backbone._blocks."):
            return int(name.split(".")[2])
        return -1 if name.startswith(("backbone._conv_stem", "backbone._bn0")) else n

    groups: dict[int, list] = {}
    for name, p in trainable:
        groups.setdefault(depth(name), []).append(p)
    return [{"params": ps, "lr": lr * layer_decay ** (n - d)} for d, ps in sorted(groups.items())]


def wang_loss_weights(targets: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-finding (beta_P, beta_N) = (n/|P|, n/|N|), clipped so empty classes stay finite."""
    n = len(targets)
    positives = np.clip(targets.sum(axis=0), 1, n - 1)
    return torch.tensor(n / positives, dtype=torch.float32), torch.tensor(n / (n - positives), dtype=torch.float32)


def weighted_bce(logits: torch.Tensor, targets: torch.Tensor, beta_p: torch.Tensor, beta_n: torch.Tensor) -> torch.Tensor:
    weights = targets * beta_p + (1 - targets) * beta_n
    return nn.functional.binary_cross_entropy_with_logits(logits, targets, weight=weights)


AUGMENT = v2.RandomAffine(degrees=7, translate=(0.05, 0.05), scale=(0.92, 1.08))


def augment(batch: torch.Tensor) -> torch.Tensor:
    return torch.stack([AUGMENT(image) for image in batch])


NORMALISATION = "unit2"  # EfficientNet-Lite's own: recorded in the checkpoint, read back by the registry


def predict_pixels(model: nn.Module, pixels: torch.Tensor, device: str, batch_size: int = 32) -> np.ndarray:
    """Validation probabilities through the one inference path (`forward_probabilities`)."""
    return forward_probabilities(model, normalise(pixels, NORMALISATION), device, batch_size)


def train(data: LabelledSet, config: TrainConfig) -> dict:
    """Train, keep the best epoch by validation mean AUROC, save and return the checkpoint."""
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    if config.max_images is not None:
        order = np.random.default_rng(config.seed).permutation(len(data))[: config.max_images]
        data = data.subset(np.isin(np.arange(len(data)), order))
    val_mask = is_validation(data.patient_ids, config.val_fraction, config.seed)
    train_set, val_set = data.subset(~val_mask), data.subset(val_mask)
    train_pixels = load_pixels(train_set.paths, config.input_size, "train images")
    val_pixels = load_pixels(val_set.paths, config.input_size, "val images")
    train_targets = torch.tensor(train_set.targets)
    beta_p, beta_n = wang_loss_weights(train_set.targets)

    model = efficientnet_lite0(len(FINDINGS), pretrained_imagenet=True).to(config.device)
    for block in model.backbone._blocks[: config.freeze_blocks]:
        block.requires_grad_(False)
    optimiser = torch.optim.AdamW(parameter_groups(model, config.lr, config.layer_decay), lr=config.lr,
                                  weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
    generator = torch.Generator().manual_seed(config.seed)
    averaged = (
        torch.optim.swa_utils.AveragedModel(
            model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(config.ema_decay), use_buffers=True
        )
        if config.ema_decay else None
    )
    evaluated = averaged.module if averaged is not None else model

    best_auc, best_state, best_epoch, stale = -1.0, None, -1, 0
    for epoch in range(config.epochs):
        model.train()
        started, losses = time.time(), []
        order = torch.randperm(len(train_pixels), generator=generator)
        batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        for idx in tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False):
            inputs = normalise(augment(train_pixels[idx]), NORMALISATION).to(config.device)
            loss = weighted_bce(model(inputs), train_targets[idx].to(config.device), beta_p.to(config.device), beta_n.to(config.device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if averaged is not None:
                averaged.update_parameters(model)
            losses.append(float(loss.detach()))
        schedule.step()
        val_scores = predict_pixels(evaluated, val_pixels, config.device)
        val_auc = mean_auroc(val_set.targets, val_scores)
        config.history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_mean_auroc": val_auc, "seconds": time.time() - started})
        log.info("epoch %d: loss %.4f  val mean AUROC %.4f  (%.0f s)", epoch + 1, np.mean(losses), val_auc, time.time() - started)
        if val_auc > best_auc:
            best_auc, best_state, best_epoch, stale = val_auc, copy.deepcopy(evaluated.state_dict()), epoch + 1, 0
        else:
            stale += 1
            if stale >= config.patience:
                log.info("early stop: no gain for %d epochs", config.patience)
                break

    model.load_state_dict(best_state)
    val_scores = predict_pixels(model, val_pixels, config.device)  # thresholds from the kept weights
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "arch": "efficientnet_lite0",
        "labels": list(FINDINGS),
        "input_size": config.input_size,
        "normalisation": NORMALISATION,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "thresholds": youden_thresholds(val_set.targets, val_scores).tolist(),
        "seed": config.seed,
        "recipe": config.recipe,
        "labels_digest": config.labels_digest,
        "val_fraction": config.val_fraction,
        "best_epoch": best_epoch,
        "val_mean_auroc": best_auc,
        "train_images": train_set.names,
        "val_images": val_set.names,
        "history": config.history,
    }
    config.output.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, config.output)
    return checkpoint
