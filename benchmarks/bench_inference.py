"""Inference throughput (images/s) at batch 1, 8, 16 and 32, with peak memory, for the bundled
EfficientNet-Lite0, the bundled ensemble (where `python -m cxrviz ensemble` built one) and the
torchxrayvision DenseNet-121 architecture (random weights: speed only).
Each (model, device) runs in its own process so peak memory is its own.
Run: .venv/bin/python benchmarks/bench_inference.py [--device cuda]"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from _common import REPO

CHILD = r"""
import json, resource, sys, time, statistics, torch
sys.path.insert(0, REPO)
arch, device = sys.argv[1], sys.argv[2]
torch.set_grad_enabled(False)
if arch == "bundled":
    from cxrviz.model.registry import bundled_spec, load_model
    model = load_model(bundled_spec(), device).module; size, channels = bundled_spec().input_size, 3
elif arch == "ensemble":
    from cxrviz.model.registry import ensemble_spec, load_model
    model = load_model(ensemble_spec(), device).module; size, channels = ensemble_spec().input_size, 3
else:
    import torchxrayvision as xrv
    from cxrviz.model.architectures import XrvDenseNet
    from cxrviz.findings import FINDINGS
    inner = xrv.models.DenseNet(num_classes=18)
    inner.targets = xrv.models.model_urls["densenet121-res224-nih"]["labels"]
    model = XrvDenseNet(inner, list(range(14))).to(device).eval(); size, channels = 224, 1
out = {}
for batch in (1, 8, 16, 32):
    x = torch.randn(batch, channels, size, size, device=device)
    for _ in range(2): model(x)
    runs = []
    for _ in range(5 if batch < 32 else 3):
        if device.startswith("cuda"): torch.cuda.synchronize()
        t = time.perf_counter(); model(x)
        if device.startswith("cuda"): torch.cuda.synchronize()
        runs.append(time.perf_counter() - t)
    out[batch] = batch / statistics.median(runs)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
gpu = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
print(json.dumps({"throughput": out, "peak_rss_mb": peak, "peak_gpu_mb": gpu, "threads": torch.get_num_threads()}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    from cxrviz.model.registry import bundled_spec, ensemble_spec

    cases = [("bundled", f"EfficientNet-Lite0 (bundled, {bundled_spec().input_size} px)")]
    ensemble = ensemble_spec()
    if ensemble is not None:
        cases.append(("ensemble", f"ensemble of {len(ensemble.member_sizes)} ({'/'.join(map(str, ensemble.member_sizes))} px)"))
    cases.append(("xrv", "torchxrayvision DenseNet-121 (224 px)"))
    for arch, title in cases:
        result = subprocess.run([sys.executable, "-c", CHILD.replace("REPO", repr(str(REPO))), arch, args.device],
                                capture_output=True, text=True, check=True)
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        rates = ", ".join(f"batch {b}: {r:6.1f} img/s ({1000 * int(b) / r:.0f} ms a batch)" for b, r in figures["throughput"].items())
        gpu = f", peak GPU {figures['peak_gpu_mb']:.0f} MB" if figures["peak_gpu_mb"] else ""
        print(f"{title:<40} on {args.device} ({figures['threads']} threads): {rates}; peak RSS {figures['peak_rss_mb']:.0f} MB{gpu}")


if __name__ == "__main__":
    main()
