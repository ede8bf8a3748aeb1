"""The Ray engine on a local 2-CPU Ray over a dozen real images (nested NIH layout, one corrupt
file): same probabilities as the default engine, resumption, the errors column, import; and the
optional CAM summary: the same from both engines and the app's viewer."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from cxrviz.data.image_index import scan_images
from cxrviz.data.imaging import load_gray
from cxrviz.errors import CxrvizError
from cxrviz.explain.cam import heatmap
from cxrviz.explain.cam_summary import KEYS, CamSummary, read_summary, summarise_map
from cxrviz.findings import FINDINGS
from cxrviz.model.batch import iter_predictions, predict_to_csv
from cxrviz.model.ray_engine import COLUMNS, part_files, plan_actors, predict_with_ray, read_predictions
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


# ---- the CAM summary (predict --cam-summary) ---------------------------------------------

CAM = CamSummary(("Effusion", "Nodule"))  # two findings: a backward pass each per image


@pytest.fixture(scope="module")
def cam_runs(local_ray, archive, tmp_path_factory):
    """Both engines with the CAM summary over 2 images (a 1024-px and a 512-px one) and the corrupt file."""
    names, paths = archive
    chosen = [0, 1, names.index(CORRUPT)]
    names, paths = [names[i] for i in chosen], [paths[i] for i in chosen]
    folder = tmp_path_factory.mktemp("cam")
    model = load_model(bundled_spec(), "cpu")
    assert predict_to_csv(model, names, paths, folder / "preds.csv", batch_size=3, cam=CAM) == 3
    ray_run = predict_with_ray(bundled_spec(), names, paths, folder / "preds.parquet", cam=CAM)
    return names, paths, model, folder / "preds.csv", folder / "preds.parquet", ray_run


def test_cam_summary_same_from_both_engines_and_the_viewer(cam_runs):
    names, paths, model, csv_out, ray_out, ray_run = cam_runs
    assert (ray_run.added, ray_run.errors) == (3, 1)
    with open(csv_out, newline="") as handle:
        default = {row["Image Index"]: row for row in csv.DictReader(handle)}
    ray = read_predictions(ray_out).set_index("image")
    assert list(ray.columns)[-1] == "cam_summary"
    assert default[CORRUPT]["cam_summary"] == "" and read_summary(ray.loc[CORRUPT, "cam_summary"]) == {}  # no crash
    import pyarrow.parquet as pq

    assert pq.read_table(ray_out, columns=["cam_summary"]).column("cam_summary").null_count == 1  # null, not ""
    compared = 0
    for name, path in zip(names, paths):
        if name == CORRUPT:
            continue
        mine, theirs = read_summary(default[name]["cam_summary"]), read_summary(ray.loc[name, "cam_summary"])
        assert list(mine) == list(theirs) == ["Effusion", "Nodule"]
        height, width = load_gray(path).shape
        for finding in mine:
            a, b = mine[finding], theirs[finding]
            assert a is not None and b is not None  # real maps here, so the checks below are not vacuous
            assert max(abs(a[k] - b[k]) for k in KEYS) <= 1, (name, finding, a, b)
            for s in (a, b):
                assert 0 <= s["box_x"] <= s["peak_x"] < s["box_x"] + s["box_w"] <= width
                assert 0 <= s["box_y"] <= s["peak_y"] < s["box_y"] + s["box_h"] <= height
            compared += 1
    assert compared == 4
    # the viewer's map of the 1024-px image, summarised, is the batch's summary
    first = names[0]
    gray = load_gray(paths[0])
    assert gray.shape == (1024, 1024)
    assert summarise_map(heatmap(model, gray, FINDINGS.index("Nodule"))) == read_summary(default[first]["cam_summary"])["Nodule"]


def test_cam_summary_output_resumes_only_as_it_was_written(cam_runs):
    names, paths, model, csv_out, ray_out, _ = cam_runs
    assert predict_with_ray(bundled_spec(), names, paths, ray_out, cam=CAM).added == 0
    assert predict_to_csv(model, names, paths, csv_out, cam=CAM) == 0
    with pytest.raises(CxrvizError, match="written with --cam-summary"):
        predict_with_ray(bundled_spec(), names, paths, ray_out)
    with pytest.raises(CxrvizError, match="written with --cam-summary"):
        predict_to_csv(model, names, paths, csv_out)


def test_cam_summary_output_still_imports(cam_runs, tmp_path):
    done = import_predictions(Store(str(tmp_path / "r.sqlite")), cam_runs[4])
    assert (done.imported, done.skipped) == (2, 1)


def test_without_the_flag_the_columns_are_unchanged(resumed, archive, tmp_path):
    import pyarrow.parquet as pq

    out = resumed[0]
    assert all(pq.read_schema(p).names == list(COLUMNS) for p in part_files(out))
    assert COLUMNS == ("image", "model", "weights_sha256", "error", *FINDINGS)
    names, paths = archive
    csv_out = tmp_path / "preds.csv"
    model = load_model(bundled_spec(), "cpu")
    predict_to_csv(model, names[:1], paths[:1], csv_out)
    assert csv_out.read_text().splitlines()[0].split(",") == ["Image Index", "model", "weights_sha256", "error", *FINDINGS]
    with pytest.raises(CxrvizError, match="written without --cam-summary"):
        predict_with_ray(bundled_spec(), names, paths, out, cam=CAM)
    with pytest.raises(CxrvizError, match="written without --cam-summary"):
        predict_to_csv(model, names, paths, csv_out, cam=CAM)
