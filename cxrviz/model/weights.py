"""Reading weight files safely: sha256 checks, tensor-only unpickling, CheXNet key spellings."""

from __future__ import annotations

import hashlib
import pickle
import re
import zipfile
from pathlib import Path

import torch

from cxrviz.errors import WeightsError


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_checkpoint(path: Path, expected_sha256: str | None = None) -> dict:
    """torch.load with weights_only=True; a missing, altered or unreadable file is a `WeightsError`."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Weight file {path} does not exist.")
    if expected_sha256 is not None:
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise WeightsError(
                f"Weight file {path} is corrupt, truncated or altered: its sha256 is {actual[:12]}…, "
                f"expected {expected_sha256[:12]}…. Restore it (git checkout -- {path.name}) or retrain."
            )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WeightsError(f"Weight file {path} cannot be read as a PyTorch checkpoint: {exc}") from exc


_OLD_DENSENET_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$")


def chexnet_state_dict(raw: dict) -> dict[str, torch.Tensor]:
    """Normalise a CheXNet-style DenseNet-121 state dict to our `DenseNet121Classifier` keys.

    Handles a `{"state_dict": ...}` wrapper, DataParallel's `module.` prefix, a `densenet121.`
    attribute prefix, `classifier.0.` (Linear inside a Sequential with a Sigmoid) and the
    pre-0.4 torchvision spelling `norm.1` for `norm1`.
    """
    state = raw.get("state_dict", raw) if isinstance(raw, dict) else raw
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError("The checkpoint is not a state dict of tensors.")
    fixed = {}
    for key, value in state.items():
        key = key.removeprefix("module.").removeprefix("densenet121.")
        key = key.replace("classifier.0.", "classifier.")
        match = _OLD_DENSENET_KEY.match(key)
        if match:
            key = f"{match.group(1)}{match.group(2)}"
        fixed[key] = value
    return fixed
