"""Class activation maps from pytorch-grad-cam, for one finding of a multi-label model.

Each finding is explained through a one-output view of the model (its logit for that finding),
with `BinaryClassifierOutputTarget(1)`, the target pytorch-grad-cam provides for sigmoid
outputs. Maps come back at the image's own size, scaled to [0, 1].
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, ScoreCAM
from pytorch_grad_cam.utils.model_targets import BinaryClassifierOutputTarget
from torch import nn

from cxrviz.errors import CxrvizError
from cxrviz.model.preprocess import model_input
from cxrviz.model.registry import LoadedModel

# Called after each batch of ScoreCAM channels with (channels done, channels in all); returning
# False stops the map (`HeatmapStopped`), and so does raising (the app's Stop button does that).
Progress = Callable[[int, int], "bool | None"]
SCORE_BATCH = 64  # channels per forward pass


class HeatmapStopped(CxrvizError):
    """The user stopped a heatmap before it was finished; nothing was kept."""


class CountedScoreCAM(ScoreCAM):
    """pytorch-grad-cam's ScoreCAM with its channel loop in the open: after each batch it reports
    how many channels are done (`progress`), which can stop it. Same weights as the original: the
    activation maps, normalised to [0, 1], mask the input; each masked input's score, softmaxed over
    the channels, weighs its channel."""

    progress: Progress | None = None
    layers_done = 0  # target layers finished (an ensemble has one per member)

    def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):
        with torch.no_grad():
            upsampled = torch.nn.UpsamplingBilinear2d(size=input_tensor.shape[-2:])(torch.from_numpy(activations).to(self.device))
            flat = upsampled.view(upsampled.size(0), upsampled.size(1), -1)
            maxs, mins = flat.max(dim=-1)[0][:, :, None, None], flat.min(dim=-1)[0][:, :, None, None]
            upsampled = (upsampled - mins) / (maxs - mins + 1e-8)
            masked = input_tensor[:, None, :, :] * upsampled[:, :, None, :, :]
            channels = masked.size(1)
            total = channels * len(self.target_layers) * len(targets)
            scores = []
            for image, (target, tensor) in enumerate(zip(targets, masked)):
                for start in range(0, channels, SCORE_BATCH):
                    scores.extend(target(o).cpu().item() for o in self.model(tensor[start : start + SCORE_BATCH]))
                    done = (self.layers_done * len(targets) + image) * channels + min(start + SCORE_BATCH, channels)
                    if self.progress is not None and self.progress(done, total) is False:
                        raise HeatmapStopped("The heatmap was stopped before it was finished.")
            self.layers_done += 1
            scores = torch.Tensor(scores).view(activations.shape[0], activations.shape[1])
            return torch.nn.Softmax(dim=-1)(scores).numpy()


METHODS = {"GradCAM": GradCAM, "GradCAM++": GradCAMPlusPlus, "EigenCAM": EigenCAM, "ScoreCAM": CountedScoreCAM}
# Hooks are attached to a model shared by every browser session: one CAM at a time per process.
_LOCK = threading.Lock()


def remaining_seconds(done: int, total: int, elapsed: float) -> float | None:
    """Time left at the rate measured so far (`done` of `total` channels in `elapsed` s); None
    before the first batch, when there is no rate yet."""
    if done <= 0 or elapsed <= 0:
        return None
    return max(total - done, 0) * elapsed / done


def duration_text(seconds: float | None) -> str:
    """"about 1 min 40 s", rounded up to 5 s beyond a minute; "a few seconds" under 10 s."""
    if seconds is None:
        return "estimating…"
    if seconds < 10:
        return "a few seconds"
    if seconds < 60:
        return f"about {math.ceil(seconds)} s"
    rounded = math.ceil(seconds / 5) * 5
    minutes, rest = divmod(rounded, 60)
    return f"about {minutes} min" + (f" {rest} s" if rest else "")


def progress_text(done: int, total: int, elapsed: float) -> str:
    """The ScoreCAM progress line: channels done and, from their measured rate, the time left."""
    left = remaining_seconds(done, total, elapsed)
    return f"ScoreCAM: {done:,} of {total:,} channels in {elapsed:.0f} s · {duration_text(left)} left" if left is not None \
        else f"ScoreCAM: {total:,} channels, one forward pass each · timing the first batch…"


class OneFinding(nn.Module):
    """The model seen through a single finding's logit: (N, ...) -> (N, 1)."""

    def __init__(self, model: nn.Module, index: int) -> None:
        super().__init__()
        self.model, self.index = model, index

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs)[:, self.index : self.index + 1]


def heatmap(model: LoadedModel, gray: np.ndarray, finding_index: int, method: str = "GradCAM", fine: bool = False,
            progress: Progress | None = None) -> np.ndarray:
    """A (H, W) float32 map in [0, 1] for `gray` (H, W), explaining one finding; `fine`: on the
    model's finer layer (`ModelSpec.fine_cam_layer`) where it has one; `progress`: see `Progress`
    (ScoreCAM only, the one that takes minutes)."""
    spec = model.spec
    return heatmap_from_input(model, model_input(gray, spec.input_size, spec.normalisation), gray.shape, finding_index,
                              method, fine, progress)


def heatmap_from_input(model: LoadedModel, inputs: torch.Tensor, shape: tuple[int, int], finding_index: int,
                       method: str = "GradCAM", fine: bool = False, progress: Progress | None = None) -> np.ndarray:
    """`heatmap` for an image already made into its (1, C, S, S) model input (`model_input`, as the
    batch engines do in their decode workers): the map comes back at the image's own (H, W) `shape`.
    A stopped map (`HeatmapStopped`, or whatever `progress` raises) leaves the model as it was."""
    if method not in METHODS:
        raise ValueError(f"unknown CAM method {method!r}; choose from {list(METHODS)}")
    inputs = inputs.to(model.device)
    wrapped = OneFinding(model.module, finding_index).eval()
    with _LOCK, METHODS[method](model=wrapped, target_layers=model.cam_layers(method, fine)) as explainer:
        if method == "ScoreCAM":
            explainer.progress = progress
        maps = explainer(input_tensor=inputs, targets=[BinaryClassifierOutputTarget(1)])
    small = torch.from_numpy(np.nan_to_num(maps[0]).astype(np.float32))[None, None]
    full = F.interpolate(small, size=tuple(int(n) for n in shape), mode="bilinear", align_corners=False)[0, 0].numpy()
    low, high = float(full.min()), float(full.max())
    return ((full - low) / (high - low)).astype(np.float32) if high > low else np.zeros_like(full)
