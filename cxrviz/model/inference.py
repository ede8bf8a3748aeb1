"""The one inference path: model inputs in, probabilities over the 14 findings out.

`forward_probabilities` is the only place a model's logits become probabilities: the pages
(`predict_gray`), batch prediction, training-time validation and evaluation all go through it,
so eval mode, no autograd, the sigmoid and the finiteness check cannot differ between them.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from cxrviz.errors import CxrvizError
from cxrviz.model.preprocess import model_input
from cxrviz.model.registry import LoadedModel

log = logging.getLogger(__name__)


class NonFiniteOutputError(CxrvizError):
    """The model produced NaN or infinite outputs (broken weights or a broken input)."""


def forward_probabilities(module: nn.Module, inputs: torch.Tensor, device: str | torch.device, batch_size: int | None = None) -> np.ndarray:
    """(N, C) sigmoid probabilities as float32 NumPy for an (N, ...) input tensor already
    normalised for the model; runs in chunks of `batch_size` (all at once when None)."""
    was_training = module.training
    module.eval()
    step = batch_size or max(len(inputs), 1)
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, len(inputs), step):
                batch = inputs[start : start + step].to(device, non_blocking=True)
                out.append(torch.sigmoid(module(batch).float()).cpu())
    finally:
        module.train(was_training)
    probs = torch.cat(out).numpy() if out else np.zeros((0, 0), dtype=np.float32)
    if not np.isfinite(probs).all():
        bad = int((~np.isfinite(probs)).any(axis=1).sum())
        log.warning("non-finite model output for %d of %d inputs", bad, len(probs))
        raise NonFiniteOutputError(
            f"The model gave NaN or infinite outputs for {bad} of {len(probs)} image(s): its weights or the image are "
            "broken. No probabilities are shown; try another model or image.")
    return probs


def predict_grays(model: LoadedModel, grays: list[np.ndarray]) -> np.ndarray:
    """(N, 14) probabilities for grayscale [0, 1] images of any size."""
    spec = model.spec
    batch = torch.cat([model_input(g, spec.input_size, spec.normalisation) for g in grays])
    return forward_probabilities(model.module, batch, model.device)


def predict_gray(model: LoadedModel, gray: np.ndarray) -> np.ndarray:
    return predict_grays(model, [gray])[0]
