"""Weight files: only the operator's folder is reachable, every unreadable file is a WeightsError
that names the file and quotes none of it, non-finite weights are refused, uploads stay in memory."""

from __future__ import annotations

import io
import random

import pytest
import torch

from cxrviz.errors import ModelUnavailableError, WeightsError
from cxrviz.model.architectures import densenet121
from cxrviz.model.registry import (
    FOLDER_PREFIX,
    build_module,
    checkpoint_spec,
    find_spec,
    load_model,
    registered_specs,
    upload_spec,
)
from cxrviz.model.weights import (
    MAX_UPLOAD_BYTES,
    non_finite_count,
    read_checkpoint,
    read_checkpoint_bytes,
    sha256_bytes,
    weight_files,
)

PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "cxrviz:x:1000:1000:cxrviz,,,:/home/cxrviz:/bin/bash\n"
)
TEXT_FILES = {
    "passwd.pt": PASSWD,
    # an unpickler reads a leading `c` as GLOBAL and quotes the line in its error
    "secret.pth": "csecret_token_4f2a9 = hunter2\nsecond line of the secret\n",
    "global.pt": "cos\nsystem\n(S'echo owned'\ntR.\n",
    "config.pt": '{"password": "swordfish", "user": "admin"}\n',
    "table.pt": "image,finding\n00000001_000.png,Mass\n",
}
# starts of real formats, so the fuzz reaches past the first byte of each reader
PREFIXES = (b"", b"\x80\x02", b"\x80\x04\x95", b"PK\x03\x04", b"c", b"(", b"}q\x00", b"\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.")


def _fuzz_payloads(n: int = 240) -> list[bytes]:
    rng = random.Random(1516)
    out = []
    for i in range(n):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
        out.append(PREFIXES[i % len(PREFIXES)] + body)
    return out


def _content_lines(data: bytes) -> list[str]:
    """The file's lines that a message must not repeat (short runs could match by chance)."""
    text = data.decode("latin-1")
    return [line.strip() for line in text.splitlines() if len(line.strip()) >= 4]


def _assert_quotes_nothing(message: str, data: bytes) -> None:
    for line in _content_lines(data):
        assert line not in message, (line, message)


def _densenet_state(**changes) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    state = densenet121(14).state_dict()
    state.update(changes)
    return state


def _saved(state) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_fuzzed_files_are_weights_errors_that_quote_nothing(tmp_path, suffix):
    payloads = _fuzz_payloads()
    assert len(set(payloads)) > 200
    for i, data in enumerate(payloads):
        path = tmp_path / f"fuzz{i}{suffix}"
        path.write_bytes(data)
        with pytest.raises(WeightsError) as caught:
            build_module(checkpoint_spec(path))
        message = str(caught.value)
        assert path.name in message and str(tmp_path) not in message
        _assert_quotes_nothing(message, data)


def test_fuzzed_uploads_are_weights_errors_that_quote_nothing():
    for i, data in enumerate(_fuzz_payloads()):
        name = f"upload{i}.pth"
        with pytest.raises(WeightsError) as caught:
            build_module(upload_spec(name, sha256_bytes(data)), data=data)
        assert name in str(caught.value)
        _assert_quotes_nothing(str(caught.value), data)


@pytest.mark.parametrize("name", sorted(TEXT_FILES))
def test_text_files_are_refused_without_echoing_a_line(tmp_path, name):
    folder = tmp_path / "weights"
    folder.mkdir()
    data = TEXT_FILES[name].encode()
    (folder / name).write_bytes(data)
    spec = find_spec(FOLDER_PREFIX + name, weights_dir=folder)
    with pytest.raises(WeightsError) as caught:
        build_module(spec)
    message = str(caught.value)
    assert f"weights/{name}" in message and str(tmp_path) not in message
    _assert_quotes_nothing(message, data)
    for fragment in ("root:x", "hunter2", "secret_token", "system", "swordfish", "Mass"):
        assert fragment not in message
    with pytest.raises(WeightsError) as caught:
        read_checkpoint_bytes(data, name)
    _assert_quotes_nothing(str(caught.value), data)


def test_a_state_dict_that_does_not_fit_names_no_key_of_the_file(tmp_path):
    state = _densenet_state()
    state["secret_key_swordfish"] = torch.zeros(2)
    state["features.conv0.weight"] = torch.zeros(3, 3)
    path = tmp_path / "odd.pt"
    torch.save(state, path)
    with pytest.raises(WeightsError, match="does not fit") as caught:
        build_module(checkpoint_spec(path))
    message = str(caught.value)
    assert "swordfish" not in message and "1 are not part" in message and "1 have the wrong shape" in message
    torch.save({1: torch.zeros(1)}, path)  # a key that is not a string
    with pytest.raises(WeightsError, match="not a state dict of named tensors"):
        build_module(checkpoint_spec(path))
    torch.save([torch.zeros(1)], path)
    with pytest.raises(WeightsError, match="not a state dict"):
        build_module(checkpoint_spec(path))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_weights_are_refused(tmp_path, bad):
    state = _densenet_state()
    weight = state["classifier.weight"].clone()
    weight[3, 7] = bad
    state["classifier.weight"] = weight
    assert non_finite_count(state) == 1
    path = tmp_path / "diverged.pt"
    torch.save(state, path)
    with pytest.raises(WeightsError, match="NaN or infinite values in 1 of"):
        build_module(checkpoint_spec(path))
    data = path.read_bytes()
    with pytest.raises(WeightsError, match="NaN or infinite"):
        load_model(upload_spec("diverged.pt", sha256_bytes(data)), data=data)


def test_all_nan_weights_are_refused(tmp_path):
    state = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in _densenet_state().items()}
    path = tmp_path / "nan.pt"
    torch.save({"state_dict": state}, path)
    with pytest.raises(WeightsError, match="NaN or infinite"):
        build_module(checkpoint_spec(path))


def test_weights_folder_lists_weight_files_by_name_only(tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    for name in ("b.pth", "a.pt", "c.safetensors", "notes.txt", ".hidden.pt", "model.pth.tar"):
        (folder / name).write_bytes(b"x")
    (folder / "sub.pt").mkdir()
    (tmp_path / "outside.pt").write_bytes(b"x")
    assert weight_files(folder) == ["a.pt", "b.pth", "c.safetensors"]
    assert weight_files(tmp_path / "absent") == [] and weight_files(None) == []
    for name in ("../outside.pt", str(tmp_path / "outside.pt"), "notes.txt", "sub.pt", "/etc/passwd", "a.pt/..", ""):
        with pytest.raises(ModelUnavailableError, match="No model named"):
            find_spec(FOLDER_PREFIX + name, weights_dir=folder)
    names = [s.name for s in registered_specs(weights_dir=folder)]
    assert names[-3:] == ["folder:a.pt", "folder:b.pth", "folder:c.safetensors"]
    assert find_spec("folder:a.pt", weights_dir=folder).weights == folder / "a.pt"
    assert all(str(tmp_path) not in s.description for s in registered_specs(weights_dir=folder))


def test_a_file_gone_from_the_folder_is_unavailable_by_name(tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "gone.pt").write_bytes(_saved(_densenet_state()))
    spec = find_spec("folder:gone.pt", weights_dir=folder)
    (folder / "gone.pt").unlink()
    with pytest.raises(ModelUnavailableError, match="weights/gone.pt does not exist") as caught:
        build_module(spec)
    assert str(tmp_path) not in str(caught.value)


def test_uploaded_checkpoint_is_read_in_memory_and_predicts_like_its_source(tmp_path, monkeypatch):
    reference = densenet121(14).eval()
    state = {"module." + k: v for k, v in reference.state_dict().items()}
    data = _saved({"state_dict": state})
    monkeypatch.chdir(tmp_path)
    spec = upload_spec("../../my checkpoint.pth", sha256_bytes(data))
    assert spec.name == "upload:my checkpoint.pth" and spec.weights is None
    model = load_model(spec, data=data)
    assert model.weights_sha256 == sha256_bytes(data)
    x = torch.randn(1, 3, 224, 224)
    assert torch.allclose(model.module(x), reference(x), atol=1e-5)
    assert list(tmp_path.iterdir()) == []  # nothing written
    with pytest.raises(WeightsError, match="upload it again"):
        build_module(spec)


def test_upload_size_limit_and_empty_upload():
    with pytest.raises(WeightsError, match=f"limit for an uploaded checkpoint is {MAX_UPLOAD_BYTES // 2**20} MB"):
        read_checkpoint_bytes(b"\0" * (MAX_UPLOAD_BYTES + 1), "huge.pt")
    with pytest.raises(WeightsError, match="empty"):
        read_checkpoint_bytes(b"", "empty.pt")


def test_safetensors_checkpoint_from_the_folder_and_an_upload(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    reference = densenet121(14).eval()
    folder = tmp_path / "weights"
    folder.mkdir()
    state = {k: v.contiguous() for k, v in reference.state_dict().items()}
    safetensors_torch.save_file(state, str(folder / "net.safetensors"))
    model = load_model(find_spec("folder:net.safetensors", weights_dir=folder))
    x = torch.randn(1, 3, 224, 224)
    assert torch.allclose(model.module(x), reference(x), atol=1e-5)
    data = safetensors_torch.save(state)
    uploaded = load_model(upload_spec("net.safetensors", sha256_bytes(data)), data=data)
    assert torch.allclose(uploaded.module(x), reference(x), atol=1e-5)


def test_training_checkpoints_still_read(tmp_path):
    path = tmp_path / "run.pt"
    torch.save({"arch": "efficientnet_lite0", "labels": ["Mass"], "thresholds": [0.5], "val_images": ["a.png"]}, path)
    assert read_checkpoint(path)["val_images"] == ["a.png"]


def test_non_finite_outputs_are_refused_by_the_one_inference_path():
    """The second guard, for weights that pass the load-time check but still give NaN (or a NaN
    that appears later): `forward_probabilities` refuses to return such probabilities."""
    from cxrviz.model.inference import NonFiniteOutputError, forward_probabilities

    module = torch.nn.Linear(3, 14)
    assert forward_probabilities(module, torch.zeros(2, 3), "cpu").shape == (2, 14)
    broken_input = torch.tensor([[0.0, 1.0, 1.0], [float("nan"), 0.0, 0.0]])
    with pytest.raises(NonFiniteOutputError, match="1 of 2 image"):
        forward_probabilities(module, broken_input, "cpu")
    with torch.no_grad():
        module.bias[5] = float("inf") - float("inf")  # weights gone NaN after loading
    with pytest.raises(NonFiniteOutputError, match="2 of 2 image"):
        forward_probabilities(module, torch.zeros(2, 3), "cpu")
