"""The model registry: plain data saying, per model, how to build it, what it outputs and where
its weights come from; and one loader that turns an entry into a ready `LoadedModel`.

Sources: the bundled file in `models/` (sha256-checked), a torchxrayvision weight id (used only
when its file is already in the local cache: nothing here downloads), and a user DenseNet-121
checkpoint from `CXRVIZ_WEIGHTS` or the sidebar.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from cxrviz.config import PROJECT_ROOT
from cxrviz.errors import ModelUnavailableError, WeightsError
from cxrviz.findings import FINDINGS
from cxrviz.model.architectures import XrvDenseNet, densenet121, efficientnet_lite0
from cxrviz.model.weights import chexnet_state_dict, read_checkpoint, sha256_of

MODELS_DIR = PROJECT_ROOT / "models"
BUNDLED_NAME = "cxrviz-efficientnet-lite0"
XRV_IDS = ("densenet121-res224-nih", "densenet121-res224-all")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    arch: str  # efficientnet_lite0 | densenet121 | xrv_densenet121
    input_size: int
    normalisation: str
    cam_layer: str  # attribute path of the module Grad-CAM hooks
    source: str  # bundled | xrv | checkpoint
    weights: Path | None = None
    sha256: str | None = None
    xrv_id: str | None = None
    labels: tuple[str, ...] = FINDINGS
    thresholds: tuple[float, ...] = field(default_factory=lambda: (0.5,) * len(FINDINGS))
    # ScoreCAM runs one forward pass per channel of its layer: a narrower layer of the same
    # resolution makes it affordable on a CPU (Lite0: 320 channels instead of the head's 1280).
    score_cam_layer: str | None = None


@dataclass
class LoadedModel:
    spec: ModelSpec
    module: nn.Module
    device: str
    weights_sha256: str

    @property
    def thresholds(self) -> np.ndarray:
        return np.asarray(self.spec.thresholds, dtype=float)

    def cam_layer(self, method: str = "GradCAM") -> nn.Module:
        path = self.spec.score_cam_layer if method == "ScoreCAM" and self.spec.score_cam_layer else self.spec.cam_layer
        return self.module.get_submodule(path)


def bundled_spec(models_dir: Path = MODELS_DIR) -> ModelSpec:
    """The bundled model's entry, read from the JSON written next to its weights."""
    card = models_dir / f"{BUNDLED_NAME}.json"
    try:
        info = json.loads(card.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise WeightsError(f"The bundled model's description {card} is missing or unreadable: {exc}") from exc
    return ModelSpec(
        name=BUNDLED_NAME,
        description=info.get("description", "EfficientNet-Lite0 trained by cxrviz"),
        arch="efficientnet_lite0",
        input_size=int(info["input_size"]),
        normalisation=info["normalisation"],
        cam_layer="features",
        score_cam_layer="backbone._blocks.15",
        source="bundled",
        weights=models_dir / info["weights"],
        sha256=info["sha256"],
        labels=tuple(info["labels"]),
        thresholds=tuple(float(t) for t in info["thresholds"]),
    )


def xrv_cache_dir() -> Path:
    import torchxrayvision as xrv

    return Path(xrv.utils.get_cache_dir())


def xrv_spec(xrv_id: str) -> ModelSpec:
    import torchxrayvision as xrv

    entry = xrv.models.model_urls[xrv_id]
    labels = [label for label in entry["labels"]]
    thresholds = tuple(float(entry["op_threshs"][labels.index(f)]) for f in FINDINGS)
    filename = Path(entry["weights_url"]).name
    return ModelSpec(
        name=xrv_id,
        description=f"torchxrayvision {xrv_id} (DenseNet-121, 224 px)",
        arch="xrv_densenet121",
        input_size=int(entry["input_resolution"]),
        normalisation="xrv",
        cam_layer="features_out",
        source="xrv",
        weights=xrv_cache_dir() / filename,
        xrv_id=xrv_id,
        thresholds=thresholds,
    )


def checkpoint_spec(path: Path) -> ModelSpec:
    return ModelSpec(
        name=f"checkpoint:{Path(path).name}",
        description=f"DenseNet-121 checkpoint {path} (CheXNet layout, ImageNet normalisation, 224 px)",
        arch="densenet121",
        input_size=224,
        normalisation="imagenet",
        cam_layer="features_out",
        source="checkpoint",
        weights=Path(path),
    )


def registered_specs(user_weights: Path | None = None) -> list[ModelSpec]:
    """Every model the app knows, the bundled one first."""
    specs = [bundled_spec()]
    specs += [xrv_spec(i) for i in XRV_IDS]
    if user_weights is not None:
        specs.append(checkpoint_spec(user_weights))
    return specs


def availability(spec: ModelSpec) -> str | None:
    """None if the model can be loaded here, else a sentence saying what to fetch and where."""
    if spec.weights is not None and spec.weights.is_file():
        return None
    if spec.source == "xrv":
        import torchxrayvision as xrv

        url = xrv.models.model_urls[spec.xrv_id]["weights_url"]
        return (
            f"{spec.name} is unavailable: its weights are not in the local cache and this app "
            f"never downloads. Fetch {spec.weights.name} ({url}) on a machine with internet and "
            f"put it in {spec.weights.parent}/."
        )
    return f"{spec.name} is unavailable: weight file {spec.weights} does not exist."


def build_module(spec: ModelSpec) -> nn.Module:
    """The network with its weights loaded, in eval mode, on the CPU."""
    problem = availability(spec)
    if problem:
        raise ModelUnavailableError(problem)
    if spec.arch == "efficientnet_lite0":
        checkpoint = read_checkpoint(spec.weights, spec.sha256)
        module = efficientnet_lite0(len(spec.labels))
        state = checkpoint.get("state_dict") if isinstance(checkpoint, dict) else None
        if state is None:
            raise WeightsError(f"Weight file {spec.weights} has no state_dict.")
        _load_state(module, state, spec.weights)
    elif spec.arch == "densenet121":
        module = densenet121(len(FINDINGS))
        _load_state(module, chexnet_state_dict(read_checkpoint(spec.weights)), spec.weights)
    elif spec.arch == "xrv_densenet121":
        import torchxrayvision as xrv

        try:
            inner = xrv.models.DenseNet(weights=spec.xrv_id, cache_dir=str(spec.weights.parent))
        except Exception as exc:  # torchxrayvision raises bare Exception; translate it for the page
            raise WeightsError(f"Weight file {spec.weights} could not be loaded: {exc}") from exc
        indices = [list(inner.targets).index(f) for f in FINDINGS]
        module = XrvDenseNet(inner, indices)
    else:
        raise ValueError(f"unknown architecture {spec.arch!r}")
    return module.eval()


def _load_state(module: nn.Module, state: dict, path: Path) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise WeightsError(f"Weight file {path} does not fit this architecture: {first}") from exc


def load_model(spec: ModelSpec, device: str = "cpu") -> LoadedModel:
    module = build_module(spec).to(device)
    digest = spec.sha256 or sha256_of(spec.weights)
    return LoadedModel(spec=spec, module=module, device=device, weights_sha256=digest)


def find_spec(name: str, user_weights: Path | None = None) -> ModelSpec:
    for spec in registered_specs(user_weights):
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in registered_specs(user_weights))
    raise ModelUnavailableError(f"No model named {name!r}; known models: {known}.")


def from_training_checkpoint(checkpoint: dict, device: str = "cpu") -> LoadedModel:
    """A model straight from `cxrviz train`'s output, before it is published (for its evaluation)."""
    spec = ModelSpec(
        name="candidate", description="a checkpoint from python -m cxrviz train", arch=checkpoint["arch"],
        input_size=checkpoint["input_size"], normalisation=checkpoint["normalisation"], cam_layer="features",
        source="checkpoint", labels=tuple(checkpoint["labels"]), thresholds=tuple(checkpoint["thresholds"]),
    )
    builders = {"efficientnet_lite0": efficientnet_lite0}
    if spec.arch not in builders:
        raise WeightsError(f"This training checkpoint's architecture {spec.arch!r} is not one cxrviz trains ({', '.join(builders)}).")
    module = builders[spec.arch](len(spec.labels))
    module.load_state_dict(checkpoint["state_dict"])
    return LoadedModel(spec=spec, module=module.eval().to(device), device=device, weights_sha256="")
