"""The archive engine: predictions for a whole image archive on Ray Data, one machine or a cluster.

    image paths ──► decode tasks (CPU: PNG → gray → resized to the model's input, one channel)
                ──► model actors (`map_batches` with a callable class: one per GPU, else CPU actors;
                    normalisation + `forward_probabilities`, the same path as every other prediction)
                ──► the driver appends Parquet parts to the output folder as results arrive.

The output is a folder of Parquet files (`preds.parquet/part-*.parquet`, read as one table by
pyarrow, pandas, Spark, DuckDB or Ray) with the columns `image, model, weights_sha256, error`
and one float column per finding (NaN where `error` is set: a corrupt or unreadable file is
reported there, never fatal). With a `cam` summariser (`predict --cam-summary`) a last string
column `cam_summary` holds each row's JSON CAM summary (null where `error` is set; see
cxrviz.explain.cam_summary), computed in the model actors. Parts are written whole (temporary
name, then renamed), so an interrupted run keeps what it finished and a rerun skips every image
already in the folder; a folder is resumed only with the columns it was started with.

Ray is imported here only, and only when this engine runs: the app never imports this module.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS
from cxrviz.model.batch import CAM_COLUMN, CamSummariser

log = logging.getLogger(__name__)

COLUMNS = ("image", "model", "weights_sha256", "error", *FINDINGS)
DECODE_BATCH = 8  # images per decode task call


@dataclass
class RunSummary:
    """What a run did and where the time went (decode and model rates are per worker-second)."""

    added: int = 0
    skipped: int = 0
    errors: int = 0
    wall_s: float = 0.0
    decode_s: float = 0.0  # summed over decode tasks
    model_s: float = 0.0  # summed over model actors
    decode_workers: int = 0
    model_actors: int = 0
    device: str = "cpu"
    files: list[Path] = field(default_factory=list)

    @property
    def overall_rate(self) -> float:
        return self.added / self.wall_s if self.wall_s else 0.0

    @property
    def decode_rate(self) -> float:
        """Images/s the decode stage can deliver with all its workers busy."""
        return self.added / self.decode_s * self.decode_workers if self.decode_s else 0.0

    @property
    def model_rate(self) -> float:
        """Images/s the model stage can deliver with all its actors busy."""
        return self.added / self.model_s * self.model_actors if self.model_s else 0.0

    @property
    def limit(self) -> str:
        if not self.added:
            return "nothing to do"
        return "decode" if self.decode_rate < self.model_rate else "model"

    def describe(self) -> str:
        return (f"{self.added} images in {self.wall_s:.1f} s ({self.overall_rate:.1f} img/s overall); "
                f"decode {self.decode_rate:.1f} img/s on {self.decode_workers} CPU workers, "
                f"model {self.model_rate:.1f} img/s on {self.model_actors} {self.device} actor(s); "
                f"limited by {self.limit}; {self.errors} unreadable; {self.skipped} already in the output")


# ---- the output folder -------------------------------------------------------------------

def part_files(out: Path) -> list[Path]:
    return sorted(out.glob("part-*.parquet")) if out.is_dir() else []


def done_images(out: Path) -> set[str]:
    """Images already in the output folder (every finished part)."""
    import pyarrow.parquet as pq

    done: set[str] = set()
    for part in part_files(out):
        done.update(pq.read_table(part, columns=["image"]).column("image").to_pylist())
    return done


def read_predictions(out: Path):
    """The whole output as one pandas DataFrame (columns `COLUMNS`, and `cam_summary` if written)."""
    import pandas as pd
    import pyarrow.parquet as pq

    parts = part_files(out)
    if not parts:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)


def _schema(with_cam: bool = False):
    import pyarrow as pa

    return pa.schema([("image", pa.string()), ("model", pa.string()), ("weights_sha256", pa.string()),
                      ("error", pa.string()), *[(f, pa.float32()) for f in FINDINGS],
                      *([(CAM_COLUMN, pa.string())] if with_cam else [])])


def _check_columns(out: Path, with_cam: bool) -> None:
    """A folder is resumed only with the columns it was started with (with or without `cam_summary`)."""
    import pyarrow.parquet as pq

    parts = part_files(out)
    if not parts:
        return
    had = CAM_COLUMN in pq.read_schema(parts[0]).names
    if had != with_cam:
        word = "with" if had else "without"
        raise CxrvizError(f"{out} was written {word} --cam-summary (its {CAM_COLUMN} column): resume it {word} "
                          "the option, or write to a new --out.")


def _write_part(out: Path, run_id: str, number: int, rows: dict[str, list]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    final = out / f"part-{run_id}-{number:05d}.parquet"
    temporary = final.with_suffix(".tmp")
    pq.write_table(pa.table(rows, schema=_schema(CAM_COLUMN in rows)), temporary)
    temporary.replace(final)  # atomic: a part is either whole or absent
    return final


# ---- the pipeline stages (run in Ray workers) --------------------------------------------

def decode_batch(batch: dict[str, np.ndarray], size: int, loader=None) -> dict[str, np.ndarray]:
    """CPU stage: paths → (N, 1, size, size) float32 gray in [0, 1], resized as the default
    engine resizes, and each image's original height and width (for the CAM summary); an
    unreadable file gives zeros, a 0 × 0 size and its error message."""
    import torch

    from cxrviz.data.imaging import load_gray
    from cxrviz.model.preprocess import resize_gray

    start = time.perf_counter()
    torch.set_num_threads(1)
    grays, errors, shapes = [], [], []
    for path in batch["path"]:
        try:
            gray = load_gray(Path(str(path))) if loader is None else loader(str(path))  # loader: e.g. a PACS
            grays.append(resize_gray(gray, size)[0].numpy())
            errors.append("")
            shapes.append(gray.shape)
        except CxrvizError as exc:
            if getattr(exc, "ends_batch", False):  # the source itself failed (a PACS down): stop, resumable
                raise
            grays.append(np.zeros((1, size, size), dtype=np.float32))
            errors.append(str(exc) or type(exc).__name__)
            shapes.append((0, 0))
    elapsed = time.perf_counter() - start
    count = len(grays)
    return {"image": batch["image"], "gray": np.stack(grays).astype(np.float32), "error": np.array(errors, dtype=object),
            "shape": np.array(shapes, dtype=np.int64).reshape(count, 2), "decode_s": np.full(count, elapsed / max(count, 1))}


class Predictor:
    """Model stage: one loaded model per actor (on its GPU when Ray gave it one); with `cam`, the
    CAM summary of each readable image too (a backward pass per chosen finding)."""

    def __init__(self, spec, device: str, cam: CamSummariser | None = None) -> None:
        from cxrviz.model.registry import load_model

        self.model = load_model(spec, device)
        self.cam = cam

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        from cxrviz.model.inference import forward_probabilities
        from cxrviz.model.preprocess import normalise

        start = time.perf_counter()
        spec = self.model.spec
        inputs = normalise(torch.from_numpy(np.ascontiguousarray(batch["gray"], dtype=np.float32)), spec.normalisation)
        probs = forward_probabilities(self.model.module, inputs, self.model.device)
        failed = np.array([bool(e) for e in batch["error"]])
        probs[failed] = np.nan
        count = len(probs)
        elapsed = time.perf_counter() - start
        result = {"image": batch["image"], "model": np.full(count, spec.name, dtype=object),
                  "weights_sha256": np.full(count, self.model.weights_sha256, dtype=object), "error": batch["error"]}
        for k, finding in enumerate(FINDINGS):
            result[finding] = probs[:, k].astype(np.float32)
        if self.cam is not None:
            # "" (not None) for an unreadable image keeps the column's type string in every block
            result[CAM_COLUMN] = np.array(["" if failed[i] else self.cam(self.model, inputs[i : i + 1], tuple(batch["shape"][i]), probs[i])
                                           for i in range(count)], dtype=object)
            elapsed = time.perf_counter() - start
        result["decode_s"] = batch["decode_s"]
        result["model_s"] = np.full(count, elapsed / max(count, 1))
        return result


# ---- the driver --------------------------------------------------------------------------

def _start_ray(address: str | None, num_cpus: int | None):
    try:
        import ray
    except ImportError as exc:
        raise CxrvizError("The Ray engine needs Ray: pip install 'ray[data]' (see requirements.txt).") from exc
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    return ray


def _decode_task_options() -> dict:
    return {"scheduling_strategy": "SPREAD"}


def plan_actors(resources: dict[str, float], actors: int | None, cpu_only: bool = False) -> tuple[int, float, float, str]:
    """(model actors, GPUs each, CPUs each, device): one actor per GPU when the cluster has GPUs
    (and `cpu_only` is off), else a CPU actor per 4 CPUs (at least one), leaving half the CPUs
    to decode."""
    gpus = 0 if cpu_only else int(resources.get("GPU", 0))
    cpus = int(resources.get("CPU", 1))
    if gpus:
        return (actors or gpus), 1.0, 1.0, "cuda"
    count = actors or max(1, cpus // 4)
    return count, 0.0, float(max(1, cpus // (2 * count))), "cpu"


def predict_with_ray(
    spec, names: list[str], paths: list[Path], out: Path, *, address: str | None = None, num_cpus: int | None = None,
    actors: int | None = None, cpu_only: bool = False, batch_size: int = 16, rows_per_part: int = 1024,
    progress: Callable[[int, int], None] | None = None, cam: CamSummariser | None = None, loader=None,
) -> RunSummary:
    """Predict every image of `names` (at `paths`) not already in the Parquet folder `out`.

    `spec` is the registry's ModelSpec: each actor loads it itself. `address` joins a running
    cluster (the paths must then be readable on every node); without it a local Ray starts with
    `num_cpus` CPUs (all when None). `cam` adds the `cam_summary` column (see the module's note).
    `loader` (picklable) reads each `paths` entry instead of the image file it names (a PACS:
    `data.dicomweb.PacsLoader`). Returns what was done and the decode and model rates."""
    if out.exists() and not out.is_dir():
        raise CxrvizError(f"{out} is a file; the Ray engine writes a folder of Parquet parts (e.g. preds.parquet/).")
    _check_columns(out, cam is not None)
    summary = RunSummary()
    done = done_images(out)
    todo = [(n, str(p)) for n, p in zip(names, paths) if n not in done]
    summary.skipped = len(names) - len(todo)
    if not todo:
        return summary
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    ray = _start_ray(address, num_cpus)
    resources = ray.cluster_resources()
    count, gpus_each, cpus_each, device = plan_actors(resources, actors, cpu_only)
    summary.model_actors, summary.device = count, device
    summary.decode_workers = max(1, int(resources.get("CPU", 1) - count * cpus_each))
    log.info("Ray: %s; %d model actor(s) on %s, %d image(s) to do", resources, count, device, len(todo))

    import ray.data

    ds = ray.data.from_items([{"image": n, "path": p} for n, p in todo], override_num_blocks=max(1, min(len(todo) // DECODE_BATCH, 2000)))
    ray.data.DataContext.get_current().enable_progress_bars = False  # the caller reports progress
    # Decode tasks are spread over the nodes. Given as a function, their options also keep Ray
    # from fusing decode into the model actors (it fuses stages whose options match, as they do
    # on a small CPU machine): decode stays in its own CPU tasks, beside the actors.
    ds = ds.map_batches(decode_batch, fn_kwargs={"size": spec.input_size, "loader": loader}, batch_size=DECODE_BATCH, batch_format="numpy",
                        num_cpus=1, ray_remote_args_fn=_decode_task_options)
    ds = ds.map_batches(Predictor, fn_constructor_kwargs={"spec": spec, "device": device, "cam": cam}, batch_size=batch_size,
                        batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=count), num_gpus=gpus_each, num_cpus=cpus_each)

    run_id = time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6]
    columns = (*COLUMNS, CAM_COLUMN) if cam is not None else COLUMNS
    pending: dict[str, list] = {c: [] for c in columns}
    number = 0
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        for column in columns:
            values = batch[column].tolist()
            pending[column].extend([v or None for v in values] if column == CAM_COLUMN else values)  # null, not "", where there is no summary
        summary.decode_s += float(np.sum(batch["decode_s"]))
        summary.model_s += float(np.sum(batch["model_s"]))
        summary.errors += sum(1 for e in batch["error"] if e)
        summary.added += len(batch["image"])
        while len(pending["image"]) >= rows_per_part:
            summary.files.append(_write_part(out, run_id, number, {c: v[:rows_per_part] for c, v in pending.items()}))
            pending, number = {c: v[rows_per_part:] for c, v in pending.items()}, number + 1
        if progress:
            progress(summary.added, len(todo))
    if pending["image"]:
        summary.files.append(_write_part(out, run_id, number, pending))
    summary.wall_s = time.perf_counter() - began
    log.info("Ray engine: %s", summary.describe())
    return summary
