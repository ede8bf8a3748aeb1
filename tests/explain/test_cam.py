import numpy as np
import pytest

from cxrviz.data.boxes import Box
from cxrviz.data.image_index import scan_images
from cxrviz.data.imaging import load_gray
from cxrviz.explain.cam import METHODS, heatmap
from cxrviz.explain.localization import accuracy_table, box_scores
from cxrviz.explain.render import LabelledBox, render_png, window
from cxrviz.model.registry import bundled_spec, load_model
from tests.conftest import BOXED_1024, SMALL_512


@pytest.fixture(scope="module")
def model():
    return load_model(bundled_spec(), "cpu")


@pytest.mark.parametrize("method", ["GradCAM", "GradCAM++", "EigenCAM"])
def test_maps_have_image_shape_and_unit_range(model, nih_images, method):
    for name in (BOXED_1024, SMALL_512):
        gray = load_gray(nih_images / name)
        cam = heatmap(model, gray, 1, method)
        assert cam.shape == gray.shape and cam.dtype == np.float32
        assert cam.min() == pytest.approx(0.0) and cam.max() == pytest.approx(1.0)


def test_scorecam_on_a_small_input(model, nih_images):
    """ScoreCAM is the slow one (a forward pass per channel); check it once at the same contract."""
    gray = load_gray(nih_images / SMALL_512)
    cam = heatmap(model, gray, 2, "ScoreCAM")
    assert cam.shape == gray.shape and 0.0 <= cam.min() and cam.max() <= 1.0
    assert set(METHODS) == {"GradCAM", "GradCAM++", "EigenCAM", "ScoreCAM"}


def test_densenet_with_inplace_relu_is_explainable():
    """pytorch-grad-cam #147: in-place ReLUs break its hooks; our DenseNet wrapper must not crash."""
    from cxrviz.model.architectures import densenet121
    from cxrviz.model.registry import LoadedModel, ModelSpec

    spec = ModelSpec(name="d", description="", arch="densenet121", input_size=224, normalisation="imagenet",
                     cam_layer="features_out", source="checkpoint")
    net = LoadedModel(spec, densenet121(14).eval(), "cpu", "")
    cam = heatmap(net, np.random.default_rng(0).random((300, 260), dtype=np.float32), 0, "GradCAM")
    assert cam.shape == (300, 260)


def test_localization_on_the_real_boxed_images(model, nih_images, boxes):
    scores = box_scores(model, boxes, scan_images(nih_images), "GradCAM")
    assert len(scores) == 8  # the 8 boxed originals in ../shared/nih
    table = accuracy_table(scores)
    assert table.loc["all", "boxes"] == 8
    thresholds = [c for c in table.columns if c.startswith("T(IoBB)")]
    assert list(table.loc["all", thresholds]) == sorted(table.loc["all", thresholds], reverse=True)


def test_render_draws_boxes_and_windows(nih_images):
    import io

    from PIL import Image

    gray = load_gray(nih_images / SMALL_512)
    png = render_png(gray, None, [LabelledBox(Box(10, 10, 100, 50), "GT Mass", (0, 220, 0))])
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape == (512, 512, 3)
    assert tuple(image[10, 60]) == (0, 220, 0)  # the box's top edge is drawn in green
    assert window(np.array([0.0, 0.5, 1.0]), level=0.5, width=0.5).tolist() == [0.0, 0.5, 1.0]
    assert window(np.array([0.2]), invert=True)[0] == pytest.approx(0.8)


def test_localize_command_on_another_layer_and_a_layer_that_is_not_there(nih_images):
    import subprocess
    import sys

    from tests.conftest import REPO

    def localize(layer):
        return subprocess.run([sys.executable, "-m", "cxrviz", "localize", "--images", str(nih_images), "--device", "cpu",
                               "--cam-layer", layer], cwd=REPO, capture_output=True, text=True, timeout=300)

    finer = localize("backbone._blocks.10")  # stride 16: a 16 x 16 map at 256 px
    assert finer.returncode == 0, finer.stderr[-2000:]
    assert "8 ground-truth boxes" in finer.stdout and "GradCAM on backbone._blocks.10" in finer.stdout
    assert "T(IoBB)=0.1" in finer.stdout
    missing = localize("backbone.nowhere")
    assert missing.returncode != 0 and "has no layer 'backbone.nowhere'" in missing.stdout + missing.stderr


def test_the_finer_layer_is_16_by_16_and_gives_another_map(model, nih_images):
    import torch

    from cxrviz.model.preprocess import model_input

    gray = load_gray(nih_images / BOXED_1024)
    sizes = {}
    for fine in (False, True):
        layer = model.cam_layer("GradCAM", fine)
        hook = layer.register_forward_hook(lambda m, i, o, fine=fine: sizes.__setitem__(fine, tuple(o.shape[-2:])))
        with torch.no_grad():
            model.module(model_input(gray, model.spec.input_size, model.spec.normalisation))
        hook.remove()
    assert sizes == {False: (8, 8), True: (16, 16)}  # at the bundled model's 256 px
    coarse, fine = heatmap(model, gray, 1, "GradCAM"), heatmap(model, gray, 1, "GradCAM", fine=True)
    assert fine.shape == coarse.shape == gray.shape and fine.max() == pytest.approx(1.0)
    assert np.abs(fine - coarse).mean() > 0.02
