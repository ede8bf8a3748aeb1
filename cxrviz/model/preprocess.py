"""Turning a [0, 1] grayscale array into the tensor a given model expects.

Each model's normalisation is named in its registry entry, so no caller guesses it:
- "unit2": 2x-1 on three replicated channels (EfficientNet-Lite was trained on (x-127)/128);
- "imagenet": torchvision's ImageNet mean/std on three channels (CheXNet-style DenseNets);
- "xrv": torchxrayvision's [-1024, 1024] on one channel.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
NORMALISATIONS = ("unit2", "imagenet", "xrv")


def resize_gray(gray: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """(H, W) or (N, H, W) in [0, 1] -> (N, 1, size, size), area-averaged when shrinking."""
    tensor = torch.as_tensor(gray, dtype=torch.float32)
    if tensor.ndim == 2:
        tensor = tensor[None]
    tensor = tensor[:, None]
    if tensor.shape[-2:] == (size, size):
        return tensor
    mode = "area" if tensor.shape[-1] > size else "bilinear"
    return F.interpolate(tensor, size=(size, size), mode=mode, **({} if mode == "area" else {"align_corners": False}))


def normalise(batch: torch.Tensor, normalisation: str) -> torch.Tensor:
    """(N, 1, S, S) in [0, 1] -> the model's input tensor."""
    if normalisation == "unit2":
        return (batch * 2.0 - 1.0).expand(-1, 3, -1, -1)
    if normalisation == "imagenet":
        return (batch.expand(-1, 3, -1, -1) - IMAGENET_MEAN) / IMAGENET_STD
    if normalisation == "xrv":
        return batch * 2048.0 - 1024.0
    raise ValueError(f"unknown normalisation {normalisation!r}; known: {NORMALISATIONS}")


def model_input(gray: np.ndarray | torch.Tensor, size: int, normalisation: str) -> torch.Tensor:
    return normalise(resize_gray(gray, size), normalisation)
