"""Both prediction engines, images/s overall and for decode and the model separately.

On the shared images (../shared/nih/images) and on a 112,120-image hard-link tree in the NIH
release's layout (benchmarks/fulltree.py, built in a temporary folder): the full tree is scanned
whole, then each engine runs a time-bounded sample of it (the first images, about --seconds).

    python benchmarks/bench_engines.py [--seconds 60] [--sample 96] [--device cpu]

default engine: DataLoader decode workers + forward_probabilities in the main process (CSV);
ray engine: Ray Data decode tasks + a model actor pool (Parquet), a local Ray instance.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import NIH_IMAGES

from benchmarks.fulltree import build_full_tree


def stage_rates(model, paths: list[Path]) -> tuple[float, float]:
    """(decode img/s on one CPU, model img/s in one process) over `paths`."""
    import torch

    from cxrviz.data.imaging import load_gray
    from cxrviz.model.inference import forward_probabilities
    from cxrviz.model.preprocess import model_input

    spec = model.spec
    start = time.perf_counter()
    inputs = torch.cat([model_input(load_gray(p), spec.input_size, spec.normalisation) for p in paths])
    decode = len(paths) / (time.perf_counter() - start)
    forward_probabilities(model.module, inputs[:4], model.device)  # warm-up
    start = time.perf_counter()
    forward_probabilities(model.module, inputs, model.device, batch_size=16)
    return decode, len(paths) / (time.perf_counter() - start)


def default_engine(model, paths: list[Path], seconds: float, workers: int) -> tuple[int, float]:
    """(images, img/s) of the default engine's batch loop, stopped after about `seconds`."""
    from cxrviz.model.batch import iter_predictions

    done, start = 0, time.perf_counter()
    for indices, _, _ in iter_predictions(model, paths, batch_size=16, workers=workers):
        done += len(indices)
        if time.perf_counter() - start > seconds:
            break
    return done, done / (time.perf_counter() - start)


def ray_engine(spec, paths: list[Path], out: Path):
    from cxrviz.model.ray_engine import predict_with_ray

    return predict_with_ray(spec, [p.name for p in paths], paths, out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60, help="time bound per engine on the full tree")
    parser.add_argument("--sample", type=int, default=96, help="shared images per engine (0: all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=1, help="the default engine's DataLoader workers")
    args = parser.parse_args()

    import ray

    from cxrviz.data.image_index import scan_images
    from cxrviz.model.registry import bundled_spec, load_model

    print(f"{os.cpu_count()} CPUs; device {args.device}")
    spec = bundled_spec()
    model = load_model(spec, args.device)
    ray.init(include_dashboard=False, log_to_driver=False)
    print(f"Ray {ray.__version__}: {ray.cluster_resources()}")

    shared = sorted(NIH_IMAGES.glob("*.png"))
    if args.sample:
        shared = shared[: args.sample]
    decode, forward = stage_rates(model, shared[:32])
    print(f"stages (one process): decode {decode:6.1f} img/s per CPU, model {forward:6.1f} img/s")

    with tempfile.TemporaryDirectory(prefix="cxrviz-engines-") as tmp:
        done, rate = default_engine(model, shared, float("inf"), args.workers)
        print(f"shared images, default engine: {done} images, {rate:6.1f} img/s overall ({args.workers} decode worker)")
        summary = ray_engine(spec, shared, Path(tmp) / "shared.parquet")
        print(f"shared images, ray engine:     {summary.describe()}")

        began = time.perf_counter()
        root = build_full_tree(Path(tmp) / "full")
        built = time.perf_counter() - began
        began = time.perf_counter()
        index = scan_images(root)
        print(f"full tree: {len(index):,} images ({index.layout}) linked in {built:.1f} s, scanned in {time.perf_counter() - began:.1f} s")
        names = sorted(index.paths)
        paths = [index.paths[n] for n in names]
        done, rate = default_engine(model, paths, args.seconds, args.workers)
        print(f"full tree, default engine: first {done} images in ~{args.seconds:.0f} s, {rate:6.1f} img/s overall; "
              f"all 112,120 would take {len(paths) / rate / 3600:.1f} h")
        count = max(16, int(summary.overall_rate * args.seconds))
        sample = ray_engine(spec, paths[:count], Path(tmp) / "full.parquet")
        print(f"full tree, ray engine (first {count}): {sample.describe()}; "
              f"all 112,120 would take {len(paths) / max(sample.overall_rate, 1e-9) / 3600:.1f} h")
    ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
