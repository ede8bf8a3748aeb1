"""ScoreCAM's progress, estimate and stop (issue 24: "about a minute" took 117 s, with no cancel),
on a tiny model and a 32 x 32 input so they run in a blink."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytorch_grad_cam import ScoreCAM
from pytorch_grad_cam.utils.model_targets import BinaryClassifierOutputTarget
from torch import nn

from cxrviz.explain import cam as cams
from cxrviz.model.registry import LoadedModel, ModelSpec


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = nn.Sequential(nn.Conv2d(3, 150, 3, padding=1), nn.ReLU())  # 150 channels: 3 batches of 64
        self.head = nn.Linear(150, 14)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


@pytest.fixture()
def tiny():
    spec = ModelSpec(name="tiny", description="", arch="tiny", input_size=32, normalisation="imagenet",
                     cam_layer="features", source="checkpoint")
    return LoadedModel(spec, Tiny().eval(), "cpu", "")


INPUT = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_progress_counts_every_channel_and_the_map_is_pytorch_grad_cams(tiny):
    calls = []
    ours = cams.heatmap_from_input(tiny, INPUT, (32, 32), 3, "ScoreCAM", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(64, 150), (128, 150), (150, 150)]
    with ScoreCAM(model=cams.OneFinding(tiny.module, 3).eval(), target_layers=[tiny.module.features]) as original:
        original.batch_size = cams.SCORE_BATCH
        theirs = original(input_tensor=INPUT, targets=[BinaryClassifierOutputTarget(1)])[0]
    low, high = theirs.min(), theirs.max()
    assert np.allclose(ours, (theirs - low) / (high - low), atol=1e-5)  # the same weights as the library's own loop


def test_a_stopped_map_stops_after_that_batch_and_leaves_the_model_usable(tiny):
    calls = []

    def stop_now(done, total):
        calls.append(done)
        return False

    with pytest.raises(cams.HeatmapStopped):
        cams.heatmap_from_input(tiny, INPUT, (32, 32), 3, "ScoreCAM", progress=stop_now)
    assert calls == [64]  # no second batch was run
    assert not tiny.module.features._forward_hooks  # the hooks went with it
    assert cams._LOCK.acquire(blocking=False)  # and so did the lock
    cams._LOCK.release()

    class Pressed(Exception):  # the app's Stop button interrupts with Streamlit's own exception
        pass

    def press(done, total):
        raise Pressed

    with pytest.raises(Pressed):
        cams.heatmap_from_input(tiny, INPUT, (32, 32), 3, "ScoreCAM", progress=press)
    assert cams.heatmap_from_input(tiny, INPUT, (32, 32), 3, "ScoreCAM").shape == (32, 32)


def test_estimate_from_the_measured_rate():
    assert cams.remaining_seconds(0, 1280, 0.0) is None  # no rate before the first batch
    assert cams.remaining_seconds(64, 1280, 6.0) == pytest.approx(114.0)  # 1216 channels at 64 per 6 s
    assert cams.duration_text(114.0) == "about 1 min 55 s"
    assert cams.duration_text(117.0) == "about 2 min"
    assert cams.duration_text(42.2) == "about 43 s" and cams.duration_text(3) == "a few seconds"
    assert cams.progress_text(64, 1280, 6.0) == "ScoreCAM: 64 of 1,280 channels in 6 s · about 1 min 55 s left"
    assert "timing the first batch" in cams.progress_text(0, 1280, 0.0)


def test_the_apps_worker_keeps_a_finished_map_and_drops_a_stopped_one(tiny):
    """cxrviz.app.scorecam runs ScoreCAM in a thread so Stop can act mid-run: the worker keeps a
    finished map with its measured rate, and a stopped one leaves nothing and no error."""
    from cxrviz.app import scorecam

    maps, rates, _, _ = scorecam._store()
    gray = np.random.default_rng(2).random((40, 36), dtype=np.float32)
    done = scorecam.Job()
    scorecam._work(done, ("tiny-map", 3), ("tiny", "cpu", False), tiny, gray, 3, False)
    assert done.finished and done.error is None and done.done == done.total == 150
    assert maps[("tiny-map", 3)].shape == (40, 36) and rates[("tiny", "cpu", False)][1] == 150
    stopped = scorecam.Job()
    stopped.stop.set()  # Stop pressed: the first batch's report says so
    scorecam._work(stopped, ("tiny-map", 4), ("tiny", "cpu", False), tiny, gray, 4, False)
    assert stopped.finished and stopped.error is None and stopped.done == 64
    assert ("tiny-map", 4) not in maps
