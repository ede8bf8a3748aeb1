"""Reading weight files safely: only from where the operator allows, tensor-only unpickling,
messages that name a file but never echo its content, non-finite weights refused.

Where weights come from: a file the operator names (`CXRVIZ_WEIGHTS`), a file in the operator's
weights folder (`CXRVIZ_WEIGHTS_DIR`, picked by name: nothing outside it can be reached), or bytes
a user uploads (read in memory, never written to disk). A file that cannot be read is a
`WeightsError` whatever the reader raised (a pickle, zip, safetensors or key error, a truncated
stream): its message names the file as `folder/name` and says nothing of what is inside, since a
reader's own message can quote the file (an unpickler quotes the line it choked on).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import torch

from cxrviz.errors import WeightsError

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".pt", ".pth", ".safetensors")
# The server refuses larger uploads anyway (.streamlit/config.toml, maxUploadSize = 64); a
# CheXNet DenseNet-121 state dict is about 28 MB.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def label_of(path: Path) -> str:
    """How a message names a weight file: its folder's name and its own, not the server path."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def weight_files(folder: Path | None) -> list[str]:
    """Names of the weight files directly in `folder` (*.pt, *.pth, *.safetensors), sorted; none
    when the folder is unset or absent."""
    if folder is None:
        return []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return []
    names = []
    for entry in entries:
        try:
            if entry.suffix.lower() in WEIGHT_SUFFIXES and not entry.name.startswith(".") and entry.is_file():
                names.append(entry.name)
        except OSError:
            continue
    return sorted(names)


def is_safetensors(name: str) -> bool:
    return str(name).lower().endswith(".safetensors")


def read_checkpoint(path: Path, expected_sha256: str | None = None):
    """A checkpoint file's content, read with `torch.load(weights_only=True)` (or safetensors for
    *.safetensors); a missing, altered or unreadable file is a `WeightsError` naming only the file."""
    path = Path(path)
    label = label_of(path)
    if not path.is_file():
        raise WeightsError(f"Weight file {label} does not exist.")
    if expected_sha256 is not None:
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise WeightsError(
                f"Weight file {label} is corrupt, truncated or altered: its sha256 is {actual[:12]}…, "
                f"expected {expected_sha256[:12]}…. Restore it (git checkout -- {path.name}) or retrain."
            )
    if is_safetensors(path.name):
        return _read(label, "safetensors", lambda: _safetensors(label).load_file(str(path), device="cpu"))
    return _read(label, "PyTorch", lambda: torch.load(path, map_location="cpu", weights_only=True))


def read_checkpoint_bytes(data: bytes, name: str):
    """An uploaded checkpoint's content, read in memory (nothing touches the disk); `name` (the
    upload's file name) picks the format and names it in messages."""
    label = Path(str(name)).name or "the uploaded file"
    if len(data) > MAX_UPLOAD_BYTES:
        raise WeightsError(f"{label} is {len(data) / 2**20:.0f} MB; the limit for an uploaded checkpoint is "
                           f"{MAX_UPLOAD_BYTES // 2**20} MB.")
    if not data:
        raise WeightsError(f"{label} is empty.")
    if is_safetensors(label):
        return _read(label, "safetensors", lambda: _safetensors(label).load(bytes(data)))
    return _read(label, "PyTorch", lambda: torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))


def _safetensors(label: str):
    try:
        import safetensors.torch
    except ImportError as exc:
        raise WeightsError(f"Weight file {label} cannot be read: *.safetensors files need the safetensors package, "
                           "which is not installed here.") from exc
    return safetensors.torch


def _read(label: str, kind: str, reader):
    try:
        return reader()
    except WeightsError:
        raise
    except Exception as exc:  # noqa: BLE001 - each reader fails its own way (UnpicklingError, IndexError, KeyError, EOFError...)
        # The reader's message can quote the file (an unpickler echoes the line it stopped at):
        # the log gets the exception's type only, the user a sentence of ours.
        log.warning("weight file %s cannot be read as a %s checkpoint (%s)", label, kind, type(exc).__name__)
        raise WeightsError(
            f"Weight file {label} cannot be read as a {kind} checkpoint: it is damaged, truncated or not a checkpoint "
            "(only tensors, numbers, strings and containers of them are accepted)."
        ) from None


def non_finite_count(state: Mapping[str, torch.Tensor]) -> int:
    """How many floating-point tensors of `state` hold a NaN or an infinity."""
    bad = 0
    for value in state.values():
        floating = isinstance(value, torch.Tensor) and (value.is_floating_point() or value.is_complex())
        if floating and value.numel() and not bool(torch.isfinite(value).all()):
            bad += 1
    return bad


def check_finite(state: Mapping[str, torch.Tensor], label: str) -> None:
    """Refuse weights holding NaN or infinity: they would give NaN probabilities on every image."""
    bad = non_finite_count(state)
    if bad:
        raise WeightsError(f"Weight file {label} holds NaN or infinite values in {bad} of its {len(state)} tensors; "
                           "it is refused (a diverged training run or a damaged file).")


_OLD_DENSENET_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$")


def chexnet_state_dict(raw, label: str = "The checkpoint") -> dict[str, torch.Tensor]:
    """Normalise a CheXNet-style DenseNet-121 state dict to our `DenseNet121Classifier` keys.

    Handles a `{"state_dict": ...}` wrapper, DataParallel's `module.` prefix, a `densenet121.`
    attribute prefix, `classifier.0.` (Linear inside a Sequential with a Sigmoid) and the
    pre-0.4 torchvision spelling `norm.1` for `norm1`.
    """
    state = raw.get("state_dict", raw) if isinstance(raw, Mapping) else raw
    if (not isinstance(state, Mapping) or not state
            or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items())):
        raise WeightsError(f"{label} is not a state dict of named tensors.")
    fixed = {}
    for key, value in state.items():
        key = key.removeprefix("module.").removeprefix("densenet121.")
        key = key.replace("classifier.0.", "classifier.")
        match = _OLD_DENSENET_KEY.match(key)
        if match:
            key = f"{match.group(1)}{match.group(2)}"
        fixed[key] = value
    return fixed


def fit_report(expected: Mapping[str, torch.Tensor], given: Mapping) -> str | None:
    """None when `given` has exactly the keys and shapes of `expected`, else a sentence of counts
    (the file's own key names are not repeated: they are its content)."""
    missing = [k for k in expected if k not in given]
    unexpected = sum(1 for k in given if k not in expected)
    wrong = sum(1 for k in expected if k in given and (not isinstance(given[k], torch.Tensor)
                                                      or tuple(given[k].shape) != tuple(expected[k].shape)))
    if not (missing or unexpected or wrong):
        return None
    parts = []
    if missing:
        parts.append(f"{len(missing)} of the {len(expected)} expected tensors are missing (first: {missing[0]})")
    if unexpected:
        parts.append(f"{unexpected} are not part of this architecture")
    if wrong:
        parts.append(f"{wrong} have the wrong shape")
    return "; ".join(parts)

