"""Class activation maps from pytorch-grad-cam, for one finding of a multi-label model.

Each finding is explained through a one-output view of the model (its logit for that finding),
with `BinaryClassifierOutputTarget(1)`, the target pytorch-grad-cam provides for sigmoid
outputs. Maps come back at the image's own size, scaled to [0, 1].
"""

from __future__ import annotations

import threading

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, ScoreCAM
from pytorch_grad_cam.utils.model_targets import BinaryClassifierOutputTarget
from torch import nn

from cxrviz.model.preprocess import model_input
from cxrviz.model.registry import LoadedModel

METHODS = {"GradCAM": GradCAM, "GradCAM++": GradCAMPlusPlus, "EigenCAM": EigenCAM, "ScoreCAM": ScoreCAM}
# Hooks are attached to a model shared by every browser session: one CAM at a time per process.
_LOCK = threading.Lock()


class OneFinding(nn.Module):
    """The model seen through a single finding's logit: (N, ...) -> (N, 1)."""

    def __init__(self, model: nn.Module, index: int) -> None:
        super().__init__()
        self.model, self.index = model, index

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs)[:, self.index : self.index + 1]


def heatmap(model: LoadedModel, gray: np.ndarray, finding_index: int, method: str = "GradCAM", fine: bool = False) -> np.ndarray:
    """A (H, W) float32 map in [0, 1] for `gray` (H, W), explaining one finding; `fine`: on the
    model's finer layer (`ModelSpec.fine_cam_layer`) where it has one."""
    spec = model.spec
    return heatmap_from_input(model, model_input(gray, spec.input_size, spec.normalisation), gray.shape, finding_index,
                              method, fine)


def heatmap_from_input(model: LoadedModel, inputs: torch.Tensor, shape: tuple[int, int], finding_index: int,
                       method: str = "GradCAM", fine: bool = False) -> np.ndarray:
    """`heatmap` for an image already made into its (1, C, S, S) model input (`model_input`, as the
    batch engines do in their decode workers): the map comes back at the image's own (H, W) `shape`."""
    if method not in METHODS:
        raise ValueError(f"unknown CAM method {method!r}; choose from {list(METHODS)}")
    inputs = inputs.to(model.device)
    wrapped = OneFinding(model.module, finding_index).eval()
    with _LOCK, METHODS[method](model=wrapped, target_layers=model.cam_layers(method, fine)) as explainer:
        if method == "ScoreCAM":
            explainer.batch_size = 64
        maps = explainer(input_tensor=inputs, targets=[BinaryClassifierOutputTarget(1)])
    small = torch.from_numpy(np.nan_to_num(maps[0]).astype(np.float32))[None, None]
    full = F.interpolate(small, size=tuple(int(n) for n in shape), mode="bilinear", align_corners=False)[0, 0].numpy()
    low, high = float(full.min()), float(full.max())
    return ((full - low) / (high - low)).astype(np.float32) if high > low else np.zeros_like(full)
