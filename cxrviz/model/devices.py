"""Where models run: CUDA, then Apple MPS, then the CPU, unless the settings (`CXRVIZ_DEVICE`) name one."""

from __future__ import annotations

import torch


def pick_device(requested: str | None = None) -> str:
    """The requested device if it works here, else the best available one."""
    choice = (requested or "").strip().lower()
    if choice.startswith("cuda") and torch.cuda.is_available():
        return choice
    if choice == "mps" and torch.backends.mps.is_available():
        return "mps"
    if choice == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"
