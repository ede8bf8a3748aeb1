"""The Ray engine on a local 2-CPU Ray over a dozen real images (nested NIH layout, one corrupt
file): same probabilities as the default engine, resumption, the errors column, import."""

import subprocess
import sys

import numpy as np
import pytest

from cxrviz.data.image_index import scan_images
from cxrviz.findings import FINDINGS
from cxrviz.model.batch import iter_predictions
from cxrviz.model.ray_engine import part_files, plan_actors, predict_with_ray, read_predictions
from cxrviz.model.registry import bundled_spec, load_model
from cxrviz.review.prediction_import import PredictionFileError, import_predictions
from cxrviz.review.store import Store
from cxrviz.review.triage import prediction_frame
from tests.conftest import REPO

CORRUPT = "99999999_000.png"


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def archive(tmp_path_factory, nih_images):
    """12 real images (links) in the full release's layout, plus a truncated PNG."""
    root = tmp_path_factory.mktemp("archive")
    folder = root / "images_001" / "images"
    folder.mkdir(parents=True)
    sources = sorted(nih_images.glob("*.png"))[:12]
    for source in sources:
        (folder / source.name).symlink_to(source)
    (folder / CORRUPT).write_bytes(sources[0].read_bytes()[:2000])
    index = scan_images(root)
    names = sorted(index.paths)
    assert len(names) == 13 and index.layout == "nih-full"
    return names, [index.paths[n] for n in names]


def test_actor_plan():
    assert plan_actors({"CPU": 64, "GPU": 4}, None) == (4, 1.0, 1.0, "cuda")
    assert plan_actors({"CPU": 64, "GPU": 4}, None, cpu_only=True)[3] == "cpu"
    count, gpus, cpus, device = plan_actors({"CPU": 16}, None)
    assert (count, gpus, device) == (4, 0.0, "cpu") and count * cpus <= 8  # half the CPUs left to decode
    assert plan_actors({"CPU": 2}, None) == (1, 0.0, 1.0, "cpu")


@pytest.fixture(scope="module")
def resumed(local_ray, archive, tmp_path_factory):
    """An interrupted run (8 images in parts of 3, the last part lost), then a full run."""
    names, paths = archive
    out = tmp_path_factory.mktemp("ray-out") / "preds.parquet"
    first = predict_with_ray(bundled_spec(), names[:8], paths[:8], out, rows_per_part=3)
    parts = part_files(out)
    parts[-1].unlink()
    seen = []
    second = predict_with_ray(bundled_spec(), names, paths, out, progress=lambda d, t: seen.append((d, t)))
    return out, first, len(parts), second, seen


def test_an_interrupted_run_resumes(resumed, archive):
    names, paths = archive
    out, first, parts, second, seen = resumed
    assert first.added == 8 and parts == 3
    assert (second.added, second.skipped, second.errors) == (7, 6, 1)  # the 2 of the lost part, 5 new
    assert seen[-1] == (7, 7)
    assert second.decode_rate > 0 and second.model_rate > 0 and second.limit in ("decode", "model")
    assert sorted(read_predictions(out)["image"]) == names  # every image once
    assert predict_with_ray(bundled_spec(), names, paths, out).added == 0  # nothing left: Ray is not even asked


def test_same_probabilities_as_the_default_engine_and_errors_reported(resumed, archive):
    names, paths = archive
    table = read_predictions(resumed[0])
    model = load_model(bundled_spec(), "cpu")
    assert set(table["model"]) == {model.spec.name} and set(table["weights_sha256"]) == {model.weights_sha256}
    broken = table[table["image"] == CORRUPT].iloc[0]
    assert "corrupt or truncated" in broken["error"] and np.isnan(broken[list(FINDINGS)].to_numpy(dtype=float)).all()

    good = [i for i, n in enumerate(names) if n != CORRUPT]
    default = np.concatenate([p for _, p, _ in iter_predictions(model, [paths[i] for i in good], batch_size=5)])
    by_image = table.set_index("image").loc[[names[i] for i in good], list(FINDINGS)].to_numpy(dtype=float)
    np.testing.assert_allclose(by_image, default, atol=1e-5, rtol=0)
    assert by_image.std() > 0.01  # real, differing probabilities


def test_import_into_the_prediction_cache(resumed, archive, tmp_path):
    names, _ = archive
    out = resumed[0]
    model = load_model(bundled_spec(), "cpu")
    store = Store(str(tmp_path / "reviews.sqlite"))
    done = import_predictions(store, out)
    assert (done.imported, done.skipped, done.models) == (12, 1, (model.spec.name,))
    frame = prediction_frame(store, model, names)  # what triage and the queues read
    good = sorted(n for n in names if n != CORRUPT)
    assert sorted(frame.index) == good
    expected = read_predictions(out).set_index("image").loc[good, list(FINDINGS)].to_numpy(dtype=float)
    np.testing.assert_allclose(frame.loc[good].to_numpy(), expected, atol=1e-6)


def test_import_command_and_bad_files(resumed, tmp_path):
    db = tmp_path / "r.sqlite"
    result = subprocess.run([sys.executable, "-m", "cxrviz", "import", "--predictions", str(resumed[0]), "--db", str(db)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-1500:]
    assert "cached 12 predictions" in result.stdout and "1 rows skipped" in result.stdout
    with pytest.raises(PredictionFileError, match="does not exist"):
        import_predictions(Store(str(db)), tmp_path / "absent.parquet")
    (tmp_path / "not.parquet").write_text("image,model\n")
    with pytest.raises(PredictionFileError, match="not a readable Parquet"):
        import_predictions(Store(str(db)), tmp_path / "not.parquet")


def test_the_engine_module_does_not_import_ray():
    code = "import sys, cxrviz.model.ray_engine, cxrviz.commands.predict; assert 'ray' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
