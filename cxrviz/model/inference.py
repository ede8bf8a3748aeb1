"""Model outputs as probabilities over the 14 findings, for one image or a batch."""

from __future__ import annotations

import numpy as np
import torch

from cxrviz.model.preprocess import model_input
from cxrviz.model.registry import LoadedModel


@torch.no_grad()
def predict_grays(model: LoadedModel, grays: list[np.ndarray]) -> np.ndarray:
    """(N, 14) sigmoid probabilities for grayscale [0, 1] images of any size."""
    spec = model.spec
    batch = torch.cat([model_input(g, spec.input_size, spec.normalisation) for g in grays]).to(model.device)
    model.module.eval()
    return torch.sigmoid(model.module(batch)).float().cpu().numpy()


def predict_gray(model: LoadedModel, gray: np.ndarray) -> np.ndarray:
    return predict_grays(model, [gray])[0]
