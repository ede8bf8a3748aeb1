"""Batch predictions over many files: a DataLoader that decodes in workers, resumable CSV output."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from cxrviz.data.imaging import load_gray
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS
from cxrviz.model.inference import forward_probabilities
from cxrviz.model.preprocess import model_input
from cxrviz.model.registry import LoadedModel


class _Files(Dataset):
    def __init__(self, paths: list[Path], size: int, normalisation: str) -> None:
        self.paths, self.size, self.normalisation = paths, size, normalisation

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        try:
            tensor = model_input(load_gray(self.paths[i]), self.size, self.normalisation)[0]
            return tensor, i, ""
        except CxrvizError as exc:
            channels = 1 if self.normalisation == "xrv" else 3
            return torch.zeros(channels, self.size, self.size), i, str(exc)


def iter_predictions(model: LoadedModel, paths: list[Path], batch_size: int = 16, workers: int = 0) -> Iterator[tuple[list[int], np.ndarray, list[str]]]:
    """Yields (indices into paths, probabilities, error per index) batch by batch.

    On a CPU the decode workers get their cores: the model uses the others (at least one thread).
    Otherwise the model's OpenMP threads and the workers share cores, and OpenMP threads that
    wait for each other at every layer slow the model down several times (bench_engines)."""
    loader = DataLoader(
        _Files(paths, model.spec.input_size, model.spec.normalisation),
        batch_size=batch_size, num_workers=workers, pin_memory=model.device.startswith("cuda"),
    )
    threads = torch.get_num_threads()
    if workers and model.device == "cpu":
        torch.set_num_threads(max(1, min(threads, (os.cpu_count() or 1) - workers)))
    try:
        for inputs, indices, errors in loader:
            yield indices.tolist(), forward_probabilities(model.module, inputs, model.device), list(errors)
    finally:
        torch.set_num_threads(threads)


def done_images(out: Path) -> set[str]:
    if not out.exists():
        return set()
    with open(out, newline="") as handle:
        return {row["Image Index"] for row in csv.DictReader(handle)}


def predict_to_csv(
    model: LoadedModel, names: list[str], paths: list[Path], out: Path, batch_size: int = 16, workers: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Append probabilities for images not yet in `out`; returns how many were added."""
    done = done_images(out)
    todo = [i for i, n in enumerate(names) if n not in done]
    fresh = not out.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(out, "a", newline="") as handle:
        writer = csv.writer(handle)
        if fresh:
            writer.writerow(["Image Index", "model", "weights_sha256", "error", *FINDINGS])
        for indices, probs, errors in iter_predictions(model, [paths[i] for i in todo], batch_size, workers):
            for k, row in zip(indices, probs):
                values = [""] * len(FINDINGS) if errors[indices.index(k)] else [f"{p:.6f}" for p in row]
                writer.writerow([names[todo[k]], model.spec.name, model.weights_sha256, errors[indices.index(k)], *values])
            handle.flush()
            written += len(indices)
            if progress:
                progress(written, len(todo))
    return written
