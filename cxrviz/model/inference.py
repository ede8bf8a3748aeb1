"""The one inference path: model inputs in, probabilities over the 14 findings out.

`forward_probabilities` is the only place a model's logits become probabilities: the pages
(`predict_gray`), batch prediction, training-time validation and evaluation all go through it,
so eval mode, no autograd, the sigmoid and the finiteness check cannot differ between them.

On a CPU, larger batches used to be slower per image (issue 14: 61.5 img/s at batch 1, 19.9 at
batch 32 for the bundled model). Two causes, both memory, not arithmetic: (1) at batch 32 an
activation is tens of MB, which glibc serves with a fresh `mmap` and hands back on free, so every
forward pass zero-fills its pages again (page faults: half the CPU time was system time);
(2) activations that large fall out of the cache, so the element-wise layers (batch norm, ReLU6,
padding) stream from DRAM. The fix: on a CPU the forward pass runs in chunks of at most
`CPU_CHUNK` images, whatever the caller's batch, and glibc is asked once to keep freed memory
(`_keep_freed_memory`). Throughput is then flat in the batch size instead of falling.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys

import numpy as np
import torch
from torch import nn

from cxrviz.errors import CxrvizError
from cxrviz.model.preprocess import model_input
from cxrviz.model.registry import LoadedModel

log = logging.getLogger(__name__)


CPU_CHUNK = 4  # images per forward pass on a CPU: activations stay small enough for the cache
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


@functools.cache
def _keep_freed_memory() -> None:
    """Ask glibc to serve blocks under 64 MB from its heap and keep up to 256 MB of freed heap,
    so a CPU forward pass reuses its activation memory instead of page-faulting it in anew.
    Process-wide and once; a no-op where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    if not (mallopt(_M_MMAP_THRESHOLD, 64 << 20) and mallopt(_M_TRIM_THRESHOLD, 256 << 20)):
        log.debug("mallopt refused the CPU allocator settings")


class NonFiniteOutputError(CxrvizError):
    """The model produced NaN or infinite outputs (broken weights or a broken input)."""


def forward_probabilities(module: nn.Module, inputs: torch.Tensor, device: str | torch.device, batch_size: int | None = None) -> np.ndarray:
    """(N, C) sigmoid probabilities as float32 NumPy for an (N, ...) input tensor already
    normalised for the model; runs in chunks of `batch_size` (all at once when None), and on a
    CPU in chunks of at most `CPU_CHUNK` (see the module's note)."""
    was_training = module.training
    module.eval()
    step = batch_size or max(len(inputs), 1)
    if torch.device(device).type == "cpu":
        _keep_freed_memory()
        step = min(step, CPU_CHUNK)
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
