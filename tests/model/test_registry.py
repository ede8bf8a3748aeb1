import json
import shutil
import socket

import numpy as np
import pytest
import torch

from cxrviz.data.image_index import scan_images
from cxrviz.data.labelled import labelled_set
from cxrviz.errors import ModelUnavailableError, WeightsError
from cxrviz.findings import FINDINGS
from cxrviz.model.architectures import densenet121
from cxrviz.model.evaluation import auroc_table
from cxrviz.model.registry import (
    BUNDLED_NAME,
    MODELS_DIR,
    availability,
    build_module,
    bundled_spec,
    checkpoint_spec,
    load_model,
    registered_specs,
    xrv_spec,
)
from cxrviz.model.weights import sha256_of


@pytest.fixture(scope="module")
def bundled():
    return load_model(bundled_spec(), "cpu")


def test_bundled_weights_match_their_sha256_and_size():
    spec = bundled_spec()
    assert sha256_of(spec.weights) == spec.sha256
    assert spec.weights.stat().st_size < 25 * 2**20
    assert spec.labels == FINDINGS and len(spec.thresholds) == 14
    assert (MODELS_DIR / "MODEL_CARD.md").read_text().count("not for clinical use") >= 1


def test_bundled_model_beats_chance_on_its_validation_patients(bundled, nih_images, metadata):
    from cxrviz.data.imaging import load_gray
    from cxrviz.model.inference import predict_grays

    info = json.loads((MODELS_DIR / f"{BUNDLED_NAME}.json").read_text())
    data = labelled_set(metadata, scan_images(nih_images))
    val = data.subset(np.isin(data.names, info["val_images"]))
    assert len(val) == len(info["val_images"]) > 50
    assert not set(info["val_images"]) & set(info["train_images"])
    val_patients = set(val.patient_ids.tolist())
    train_patients = set(data.subset(np.isin(data.names, info["train_images"])).patient_ids.tolist())
    assert not val_patients & train_patients
    scores = np.concatenate([predict_grays(bundled, [load_gray(p) for p in val.paths[i:i + 16]]) for i in range(0, len(val), 16)])
    table = auroc_table(val.targets, scores, FINDINGS, n_bootstrap=0)  # point AUROCs only: no interval is asserted
    assert table["auroc"].mean() > 0.6
    assert (table["auroc"] > 0.5).sum() >= 10


def test_corrupted_copy_fails_clearly(tmp_path):
    spec = bundled_spec()
    broken_dir = tmp_path / "models"
    broken_dir.mkdir()
    shutil.copy(MODELS_DIR / f"{BUNDLED_NAME}.json", broken_dir)
    data = bytearray(spec.weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (broken_dir / spec.weights.name).write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"corrupt, truncated or altered.*sha256"):
        build_module(bundled_spec(broken_dir))
    (broken_dir / spec.weights.name).write_bytes(bytes(data[:1000]))  # truncated
    with pytest.raises(WeightsError, match=spec.weights.name):
        build_module(bundled_spec(broken_dir))
    (broken_dir / spec.weights.name).unlink()
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        build_module(bundled_spec(broken_dir))


def test_unavailable_xrv_model_explains_without_network(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty torchxrayvision cache

    def no_network(*args, **kwargs):
        raise AssertionError("the registry must not touch the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    spec = xrv_spec("densenet121-res224-nih")
    message = availability(spec)
    assert "nih-densenet121" in message and str(tmp_path) in message and "never downloads" in message
    with pytest.raises(ModelUnavailableError, match="unavailable"):
        build_module(spec)
    names = [s.name for s in registered_specs()]
    assert names[0] == BUNDLED_NAME and "densenet121-res224-all" in names


def test_xrv_model_loads_from_a_local_file(monkeypatch, tmp_path):
    """A torchxrayvision weight file present in the cache is used as is, its CAM layer hookable."""
    import torchxrayvision as xrv

    monkeypatch.setenv("HOME", str(tmp_path))
    spec = xrv_spec("densenet121-res224-nih")
    spec.weights.parent.mkdir(parents=True)
    torch.save(xrv.models.DenseNet(num_classes=18), spec.weights)  # the file format torchxrayvision publishes
    model = load_model(spec)
    out = model.module(torch.zeros(2, 1, 224, 224))
    assert out.shape == (2, 14)
    assert not any(getattr(m, "inplace", False) for m in model.module.modules())


def test_chexnet_style_checkpoint_with_module_prefix(tmp_path):
    reference = densenet121(14)
    state = {"module.densenet121." + k.replace("classifier.", "classifier.0."): v for k, v in reference.state_dict().items()}
    # the pre-0.4 torchvision spelling of CheXNet checkpoints: norm.1 for norm1
    state = {k.replace("norm1.", "norm.1.").replace("conv2.", "conv.2.") if "denselayer" in k else k: v for k, v in state.items()}
    path = tmp_path / "chexnet.pth.tar"
    torch.save({"state_dict": state, "epoch": 3}, path)
    model = load_model(checkpoint_spec(path))
    x = torch.randn(1, 3, 224, 224)
    reference.eval()
    assert torch.allclose(model.module(x), reference(x), atol=1e-5)


def test_wrong_shape_checkpoint_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"fc.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(WeightsError, match="does not fit"):
        build_module(checkpoint_spec(path))
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="cannot be read"):
        build_module(checkpoint_spec(path))


def test_device_override(monkeypatch):
    from cxrviz.model.devices import pick_device

    monkeypatch.setenv("CXRVIZ_DEVICE", "cpu")
    assert pick_device() == "cpu"
    monkeypatch.setenv("CXRVIZ_DEVICE", "cuda")
    assert pick_device() == ("cuda" if torch.cuda.is_available() else "cpu")


def test_xrv_weights_with_nan_are_refused_though_its_nan_thresholds_are_not(monkeypatch, tmp_path):
    """torchxrayvision marks labels without an operating point with NaN thresholds: those are
    fine; a NaN in a weight is not."""
    import torchxrayvision as xrv

    monkeypatch.setenv("HOME", str(tmp_path))
    spec = xrv_spec("densenet121-res224-nih")
    spec.weights.parent.mkdir(parents=True)
    net = xrv.models.DenseNet(num_classes=18)
    torch.save(net, spec.weights)
    assert load_model(spec).module is not None  # its op_threshs hold NaN once loaded
    with torch.no_grad():
        net.features.conv0.weight[0, 0, 0, 0] = float("nan")
    torch.save(net, spec.weights)
    with pytest.raises(WeightsError, match="NaN or infinite") as caught:
        build_module(spec)
    assert str(tmp_path) not in str(caught.value)


def test_checkpoint_descriptions_name_the_file_not_the_server_path(tmp_path):
    spec = checkpoint_spec(tmp_path / "deep" / "chexnet.pth")
    assert spec.name == "checkpoint:chexnet.pth" and "deep/chexnet.pth" in spec.description
    assert str(tmp_path) not in spec.description
    assert "deep/chexnet.pth does not exist" in availability(spec)
    assert str(tmp_path) not in availability(spec)
    names = [s.name for s in registered_specs(tmp_path / "mine.pt", tmp_path / "no-such-folder")]
    assert names[-1] == "checkpoint:mine.pt"
