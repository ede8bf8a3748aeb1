"""torchxrayvision's ResNet-50 (512 px) as a registered model, from a file in its cache folder."""

from __future__ import annotations

import torch
import torchvision

from cxrviz.findings import FINDINGS
from cxrviz.model.registry import availability, load_model, registered_specs, xrv_spec


def test_resnet50_loads_from_its_cache_file_with_a_16x16_cam_layer(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    spec = xrv_spec("resnet50-res512-all")
    assert spec.arch == "xrv_resnet50" and spec.input_size == 512 and "ResNet-50" in spec.description
    assert "weights fetch resnet50-res512-all" in availability(spec)
    assert "resnet50-res512-all" in [s.name for s in registered_specs()]
    net = torchvision.models.resnet50(num_classes=18, weights=None)
    net.conv1 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    spec.weights.parent.mkdir(parents=True)
    torch.save(net.state_dict(), spec.weights)  # the format torchxrayvision publishes (a state dict)
    model = load_model(spec)
    x = torch.randn(2, 1, 512, 512)
    maps = []
    model.cam_layer().register_forward_hook(lambda module, args, out: maps.append(out))
    with torch.no_grad():
        out = model.module(x)
        net.eval()
        reference = net(x)
    labels = list(model.module.inner.targets)
    assert out.shape == (2, 14)
    assert torch.allclose(out, reference[:, [labels.index(f) for f in FINDINGS]], atol=1e-4)
    assert maps[0].shape[-2:] == (16, 16)
