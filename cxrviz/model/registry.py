"""The model registry: plain data saying, per model, how to build it, what it outputs and where
its weights come from; and one loader that turns an entry into a ready `LoadedModel`.

Sources: the bundled file in `models/` (sha256-checked), a torchxrayvision weight id (used only
when its file is already in the local cache: nothing here downloads), a DenseNet-121 checkpoint
the operator allows (the file `CXRVIZ_WEIGHTS`, or any weight file of the folder
`CXRVIZ_WEIGHTS_DIR`, picked by name), and one a user uploads (bytes in memory, never a path).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from cxrviz.config import PROJECT_ROOT
from cxrviz.errors import ModelUnavailableError, WeightsError
from cxrviz.findings import FINDINGS
from cxrviz.model.architectures import XrvDenseNet, XrvResNet, densenet121, efficientnet_lite0, efficientnet_lite0_ensemble
from cxrviz.model.weights import (
    check_finite,
    chexnet_state_dict,
    fit_report,
    label_of,
    read_checkpoint,
    read_checkpoint_bytes,
    sha256_of,
    weight_files,
)

log = logging.getLogger(__name__)

MODELS_DIR = PROJECT_ROOT / "models"
BUNDLED_NAME = "cxrviz-efficientnet-lite0"
ENSEMBLE_NAME = "cxrviz-ensemble"  # `python -m cxrviz ensemble`: members trained on every local image, measured out of fold
ENSEMBLE_FORMAT = "cxrviz-ensemble/1"
XRV_IDS = ("densenet121-res224-nih", "densenet121-res224-all", "resnet50-res512-all")

# torchxrayvision weight files a user may ask to download (`python -m cxrviz weights fetch NAME`, the
# sidebar button): id -> (size in bytes, sha256). torchxrayvision publishes neither figure for its
# release files. densenet121-res224-all's pair was found written down independently by two public
# projects that checked their downloaded copy (the same 28,382,008 bytes and sha256); the other two
# stay None until someone pins them from a trusted copy. What is pinned is verified; a download that
# is not fully pinned says so and prints the sha256 it got.
XRV_PINS: dict[str, tuple[int | None, str | None]] = {
    "densenet121-res224-nih": (None, None),
    "densenet121-res224-all": (28_382_008, "56524913dd16a906422e8d8b66a7a5c46be1d82eb7ac012d8103776f1aa68899"),
    "resnet50-res512-all": (None, None),
}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    arch: str  # efficientnet_lite0 | efficientnet_lite0_ensemble | densenet121 | xrv_densenet121 | xrv_resnet50
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
    # a layer of twice the resolution (stride 16) for a finer heatmap on request: 16 x 16 at 256 px
    fine_cam_layer: str | None = None
    # where the weights can be downloaded from when a user asks (torchxrayvision's models only),
    # and the file size pinned beside `sha256`
    url: str | None = None
    size: int | None = None
    # an ensemble's members' input sizes (all one size); the CAM layers above are then paths inside
    # each member, hooked in all of them
    member_sizes: tuple[int, ...] = ()
    # why this entry cannot be loaded whatever its files (an unreadable description), shown in its place
    problem: str | None = None


@dataclass
class LoadedModel:
    spec: ModelSpec
    module: nn.Module
    device: str
    weights_sha256: str

    @property
    def thresholds(self) -> np.ndarray:
        return np.asarray(self.spec.thresholds, dtype=float)

    def cam_layer_path(self, method: str = "GradCAM", fine: bool = False) -> str:
        """The path of the layer a CAM method explains (inside each member of an ensemble);
        `fine`: the spec's finer layer where it has one."""
        if fine and self.spec.fine_cam_layer:
            return self.spec.fine_cam_layer
        return self.spec.score_cam_layer if method == "ScoreCAM" and self.spec.score_cam_layer else self.spec.cam_layer

    def layers_at(self, path: str) -> list[nn.Module]:
        """The module at `path`: one, or one per member of an ensemble (pytorch-grad-cam averages
        the maps of several target layers, each brought to the input's size first)."""
        if self.spec.member_sizes:
            return [self.module.get_submodule(f"members.{i}.{path}") for i in range(len(self.spec.member_sizes))]
        return [self.module.get_submodule(path)]

    def cam_layers(self, method: str = "GradCAM", fine: bool = False) -> list[nn.Module]:
        """The layers a CAM method explains: `layers_at(cam_layer_path(method, fine))`."""
        return self.layers_at(self.cam_layer_path(method, fine))

    def cam_layer(self, method: str = "GradCAM", fine: bool = False) -> nn.Module:
        """The one layer a CAM method explains (an ensemble's first member's)."""
        return self.cam_layers(method, fine)[0]


def bundled_spec(models_dir: Path = MODELS_DIR) -> ModelSpec:
    """The bundled model's entry, read from the JSON written next to its weights."""
    card = models_dir / f"{BUNDLED_NAME}.json"
    try:
        info = json.loads(card.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise WeightsError(f"The bundled model's description {card} is missing or unreadable: {exc}") from exc
    return _bundled_lite0(BUNDLED_NAME, info.get("description", "EfficientNet-Lite0 trained by cxrviz"), "efficientnet_lite0",
                          int(info["input_size"]), info, models_dir)


def _bundled_lite0(name: str, description: str, arch: str, input_size: int, info: dict, models_dir: Path,
                   member_sizes: tuple[int, ...] = ()) -> ModelSpec:
    """A bundled EfficientNet-Lite0 (or ensemble of them) from its JSON description: its CAM layers
    are the head map, block 15 for ScoreCAM and block 10 for the finer map (inside each member)."""
    return ModelSpec(
        name=name,
        description=description,
        arch=arch,
        input_size=input_size,
        normalisation=info["normalisation"],
        cam_layer="features",
        score_cam_layer="backbone._blocks.15",
        fine_cam_layer="backbone._blocks.10",
        source="bundled",
        weights=models_dir / info["weights"],
        sha256=info["sha256"],
        labels=tuple(info["labels"]),
        thresholds=tuple(float(t) for t in info["thresholds"]),
        member_sizes=member_sizes,
    )


def ensemble_spec(models_dir: Path = MODELS_DIR) -> ModelSpec | None:
    """The bundled ensemble's entry (`models/cxrviz-ensemble.json`), or None where none was built; an
    unreadable description gives an entry that is unavailable and says why (`ModelSpec.problem`)."""
    card = models_dir / f"{ENSEMBLE_NAME}.json"
    if not card.is_file():
        return None
    try:
        info = json.loads(card.read_text())
        sizes = tuple(int(m["input_size"]) for m in info["members"])
        if len(set(sizes)) != 1:
            raise ValueError("members of several input sizes")
        cv = info["cross_validated"]
        description = info.get("description") or (
            f"{len(sizes)} EfficientNet-Lite0 models averaged (cross-validated mean AUROC {cv['mean_auroc']:.3f})")
        return _bundled_lite0(ENSEMBLE_NAME, description, "efficientnet_lite0_ensemble", sizes[0], info, models_dir, sizes)
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        # one bad file must not take the other models down: the entry stays, unavailable, saying why
        log.warning("bundled ensemble description %s unreadable (%s)", card, type(exc).__name__)
        return ModelSpec(
            name=ENSEMBLE_NAME, description="bundled ensemble (unreadable description)", arch="efficientnet_lite0_ensemble",
            input_size=0, normalisation="unit2", cam_layer="features", source="bundled",
            problem=(f"{ENSEMBLE_NAME} is unavailable: its description {card.name} in {models_dir}/ is unreadable "
                     f"({type(exc).__name__}); build it again with `python -m cxrviz ensemble` or restore the file "
                     f"(git checkout -- models/{card.name})."))


def xrv_cache_dir() -> Path:
    import torchxrayvision as xrv

    return Path(xrv.utils.get_cache_dir())


def xrv_spec(xrv_id: str) -> ModelSpec:
    import torchxrayvision as xrv

    entry = xrv.models.model_urls[xrv_id]
    labels = [label for label in entry["labels"]]
    thresholds = tuple(float(entry["op_threshs"][labels.index(f)]) for f in FINDINGS)
    filename = Path(entry["weights_url"]).name
    size, sha256 = XRV_PINS.get(xrv_id, (None, None))
    resnet = xrv_id.startswith("resnet50")
    return ModelSpec(
        name=xrv_id,
        description=f"torchxrayvision {xrv_id} ({'ResNet-50' if resnet else 'DenseNet-121'}, {entry['input_resolution']} px)",
        arch="xrv_resnet50" if resnet else "xrv_densenet121",
        input_size=int(entry["input_resolution"]),
        normalisation="xrv",
        cam_layer="features_out",
        source="xrv",
        weights=xrv_cache_dir() / filename,
        xrv_id=xrv_id,
        thresholds=thresholds,
        url=entry["weights_url"],
        size=size,
        sha256=sha256,
    )


CHECKPOINT_PREFIX = "checkpoint:"  # the operator's single file, CXRVIZ_WEIGHTS
FOLDER_PREFIX = "folder:"  # a file in the operator's weights folder, CXRVIZ_WEIGHTS_DIR
UPLOAD_PREFIX = "upload:"  # a file a user uploaded, held in memory
MAX_UPLOAD_NAME = 120  # the review store keeps model names in 200 characters


def _densenet_checkpoint(name: str, description: str, source: str, weights: Path | None = None,
                         sha256: str | None = None) -> ModelSpec:
    return ModelSpec(
        name=name,
        description=f"{description} (DenseNet-121, CheXNet layout, ImageNet normalisation, 224 px)",
        arch="densenet121",
        input_size=224,
        normalisation="imagenet",
        cam_layer="features_out",
        source=source,
        weights=weights,
        sha256=sha256,
    )


def checkpoint_spec(path: Path, prefix: str = CHECKPOINT_PREFIX) -> ModelSpec:
    """A DenseNet-121 checkpoint file the operator allowed (`CXRVIZ_WEIGHTS` or a file of
    `CXRVIZ_WEIGHTS_DIR`); the description names the file, not its server path."""
    path = Path(path)
    return _densenet_checkpoint(f"{prefix}{path.name}", f"checkpoint {label_of(path)}", "checkpoint", weights=path)


def folder_specs(weights_dir: Path | None) -> list[ModelSpec]:
    """One entry per weight file in the operator's weights folder, by name: the names come from
    listing the folder, so no `..`, separator or absolute path can lead anywhere else."""
    return [checkpoint_spec(Path(weights_dir) / name, FOLDER_PREFIX) for name in weight_files(weights_dir)]


def upload_spec(filename: str, digest: str) -> ModelSpec:
    """An uploaded DenseNet-121 checkpoint; its bytes travel beside it (`load_model(spec, data=...)`)."""
    name = (Path(str(filename)).name or "checkpoint")[:MAX_UPLOAD_NAME]
    return _densenet_checkpoint(f"{UPLOAD_PREFIX}{name}", f"uploaded checkpoint {name}", "upload", sha256=digest)


def registered_specs(user_weights: Path | None = None, weights_dir: Path | None = None) -> list[ModelSpec]:
    """Every model the app knows, the bundled one first: the torchxrayvision ones, the operator's
    `CXRVIZ_WEIGHTS` file, then each file of the operator's weights folder."""
    specs = [bundled_spec()]
    ensemble = ensemble_spec()
    if ensemble is not None:
        specs.append(ensemble)
    specs += [xrv_spec(i) for i in XRV_IDS]
    if user_weights is not None:
        specs.append(checkpoint_spec(user_weights))
    specs += folder_specs(weights_dir)
    return specs


def availability(spec: ModelSpec) -> str | None:
    """None if the model can be loaded here, else a sentence saying what to fetch and where."""
    if spec.problem:
        return spec.problem
    if spec.source == "upload":
        return None
    if spec.weights is not None and spec.weights.is_file():
        return None
    if spec.source == "xrv":
        import torchxrayvision as xrv

        url = spec.url or xrv.models.model_urls[spec.xrv_id]["weights_url"]
        return (
            f"{spec.name} is unavailable: its weights are not in the local cache and this app "
            f"never downloads unless you ask. Download them with the app's Download button or "
            f"`python -m cxrviz weights fetch {spec.name}`, or fetch {spec.weights.name} ({url}) on a "
            f"machine with internet and put it in {spec.weights.parent}/."
        )
    if spec.source == "checkpoint":
        return f"{spec.name} is unavailable: weight file {label_of(spec.weights)} does not exist."
    return f"{spec.name} is unavailable: weight file {spec.weights} does not exist."


def build_module(spec: ModelSpec, data: bytes | None = None) -> nn.Module:
    """The network with its weights loaded, in eval mode, on the CPU. `data` holds an uploaded
    checkpoint's bytes (for `source == "upload"`). Weights holding NaN or infinity are refused."""
    problem = availability(spec)
    if problem:
        raise ModelUnavailableError(problem)
    if spec.source == "upload":
        if data is None:
            raise WeightsError(f"{spec.name}: the uploaded file is no longer here; upload it again.")
        label = spec.name.removeprefix(UPLOAD_PREFIX)
    else:
        label = label_of(spec.weights)
    if spec.arch == "efficientnet_lite0":
        checkpoint = read_checkpoint(spec.weights, spec.sha256)
        module = efficientnet_lite0(len(spec.labels))
        state = checkpoint.get("state_dict") if isinstance(checkpoint, Mapping) else None
        if not isinstance(state, Mapping):
            raise WeightsError(f"Weight file {label} has no state_dict.")
        _load_state(module, state, label)
    elif spec.arch == "efficientnet_lite0_ensemble":
        module = _ensemble_module(read_checkpoint(spec.weights, spec.sha256), spec, label)
    elif spec.arch == "densenet121":
        raw = read_checkpoint_bytes(data, label) if spec.source == "upload" else read_checkpoint(spec.weights)
        module = densenet121(len(FINDINGS))
        _load_state(module, chexnet_state_dict(raw, f"Weight file {label}"), label)
    elif spec.arch in ("xrv_densenet121", "xrv_resnet50"):
        import torchxrayvision as xrv

        if spec.sha256 is not None and sha256_of(spec.weights) != spec.sha256:
            raise WeightsError(f"Weight file {label} is not the file pinned for {spec.xrv_id} (its sha256 differs): "
                               f"delete it and download it again (`python -m cxrviz weights fetch {spec.xrv_id} --force`).")
        network = xrv.models.ResNet if spec.arch == "xrv_resnet50" else xrv.models.DenseNet
        try:
            inner = network(weights=spec.xrv_id, cache_dir=str(spec.weights.parent))
        except Exception as exc:  # noqa: BLE001 - torchxrayvision raises bare Exception; translate it for the page
            log.warning("torchxrayvision weights %s could not be loaded (%s)", label, type(exc).__name__)
            raise WeightsError(f"Weight file {label} could not be loaded: it is damaged or not the file "
                               f"torchxrayvision publishes for {spec.xrv_id}.") from None
        indices = [list(inner.targets).index(f) for f in FINDINGS]
        module = (XrvResNet if spec.arch == "xrv_resnet50" else XrvDenseNet)(inner, indices)
    else:
        raise ValueError(f"unknown architecture {spec.arch!r}")
    state = module.state_dict()
    if spec.arch.startswith("xrv_"):  # NaN op_threshs mark the labels a torchxrayvision model has no threshold for
        state = {k: v for k, v in state.items() if not k.endswith("op_threshs")}
    check_finite(state, label)
    return module.eval()


def _ensemble_module(checkpoint, spec: ModelSpec, label: str) -> nn.Module:
    """The ensemble network of a `cxrviz-ensemble/1` file: each member's (fp16-stored) weights
    loaded strictly into an EfficientNet-Lite0 at float32."""
    import torch

    members = checkpoint.get("members") if isinstance(checkpoint, Mapping) else None
    if not (isinstance(checkpoint, Mapping) and checkpoint.get("format") == ENSEMBLE_FORMAT and isinstance(members, list)):
        raise WeightsError(f"Weight file {label} is not a cxrviz ensemble ({ENSEMBLE_FORMAT}).")
    sizes = [m.get("input_size") if isinstance(m, Mapping) else None for m in members]
    if tuple(sizes) != tuple(spec.member_sizes):
        raise WeightsError(f"Weight file {label} holds members of input sizes {sizes}; its description says "
                           f"{list(spec.member_sizes)}.")
    module = efficientnet_lite0_ensemble(list(spec.member_sizes), len(spec.labels))
    for i, (member, entry) in enumerate(zip(module.members, members)):
        state = entry.get("state_dict")
        if not isinstance(state, Mapping):
            raise WeightsError(f"Weight file {label}: member {i + 1} has no state_dict.")
        _load_state(member, {k: v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v
                             for k, v in state.items()}, f"{label} (member {i + 1})")
    return module


def _load_state(module: nn.Module, state: Mapping, label: str) -> None:
    """Load `state` strictly; a mismatch is a `WeightsError` of counts (no key of the file quoted)."""
    problem = fit_report(module.state_dict(), state)
    if problem:
        raise WeightsError(f"Weight file {label} does not fit this architecture: {problem}.")
    try:
        module.load_state_dict(dict(state), strict=True)
    except Exception as exc:  # noqa: BLE001 - a dtype that cannot be copied, a sparse or meta tensor, ...
        log.warning("weight file %s could not be loaded into %s (%s)", label, type(module).__name__, type(exc).__name__)
        raise WeightsError(f"Weight file {label} does not fit this architecture: its tensors cannot be loaded "
                           "into the network.") from None


def load_model(spec: ModelSpec, device: str = "cpu", data: bytes | None = None) -> LoadedModel:
    module = build_module(spec, data).to(device)
    digest = spec.sha256 or sha256_of(spec.weights)
    return LoadedModel(spec=spec, module=module, device=device, weights_sha256=digest)


def find_spec(name: str, user_weights: Path | None = None, weights_dir: Path | None = None) -> ModelSpec:
    specs = registered_specs(user_weights, weights_dir)
    for spec in specs:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in specs)
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
