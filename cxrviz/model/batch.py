"""Batch predictions over many files: a DataLoader that decodes in workers, resumable CSV output.

The CSV has the columns `Image Index, model, weights_sha256, error` and one per finding; with a
`cam` summariser (`predict --cam-summary`, cxrviz.explain.cam_summary) a last column
`cam_summary` holds each row's JSON summary (empty where `error` is set)."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator, Sequence
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

# Reads one image (a path, or what another source names it by) as float32 gray in [0, 1]. Picklable,
# for the DataLoader's workers: `load_gray` for files, `data.dicomweb.PacsLoader` for a PACS.
Loader = Callable[[object], np.ndarray]


class _Files(Dataset):
    def __init__(self, paths: list, size: int, normalisation: str, loader: Loader = load_gray) -> None:
        self.paths, self.size, self.normalisation, self.loader = paths, size, normalisation, loader

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        """(model input, index, error, original height, original width)."""
        try:
            gray = self.loader(self.paths[i])
            return model_input(gray, self.size, self.normalisation)[0], i, "", gray.shape[0], gray.shape[1]
        except CxrvizError as exc:
            channels = 1 if self.normalisation == "xrv" else 3
            if getattr(exc, "ends_batch", False):  # the source itself failed (a PACS down): stop, resumable
                # not raised here: in a DataLoader worker torch would wrap it in its traceback text
                return torch.zeros(channels, self.size, self.size), i, _stop_marker(exc), 0, 0
            return torch.zeros(channels, self.size, self.size), i, str(exc), 0, 0


_STOP = "\x00stop\x00"  # an error cell that stops the run: the exception's class and sentence


def _stop_marker(exc: CxrvizError) -> str:
    return f"{_STOP}{type(exc).__module__}:{type(exc).__qualname__}\x00{exc}"


def _stop_error(marker: str) -> CxrvizError:
    """The exception a worker met, raised again in the main process with its own class and sentence."""
    import importlib

    where, message = marker[len(_STOP):].split("\x00", 1)
    module, name = where.split(":", 1)
    try:
        kind = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        kind = CxrvizError
    return kind(message) if isinstance(kind, type) and issubclass(kind, CxrvizError) else CxrvizError(message)


# What `predict_to_csv` calls per readable image for its `cam_summary` column:
# (model, the image's (1, C, S, S) model input, its original (H, W), its probabilities) -> text.
CamSummariser = Callable[[LoadedModel, torch.Tensor, Sequence[int], np.ndarray], str]
CAM_COLUMN = "cam_summary"


def iter_predictions(model: LoadedModel, paths: list[Path], batch_size: int = 16, workers: int = 0) -> Iterator[tuple[list[int], np.ndarray, list[str]]]:
    """Yields (indices into paths, probabilities, error per index) batch by batch.

    On a CPU the decode workers get their cores: the model uses the others (at least one thread).
    Otherwise the model's OpenMP threads and the workers share cores, and OpenMP threads that
    wait for each other at every layer slow the model down several times (bench_engines)."""
    for _, indices, probs, errors, _ in _iter_batches(model, paths, batch_size, workers):
        yield indices, probs, errors


def _iter_batches(model: LoadedModel, paths: list, batch_size: int, workers: int, load: Loader = load_gray):
    """(inputs, indices, probabilities, errors, original (H, W) per index) batch by batch."""
    loader = DataLoader(
        _Files(paths, model.spec.input_size, model.spec.normalisation, load),
        batch_size=batch_size, num_workers=workers, pin_memory=model.device.startswith("cuda"),
    )
    threads = torch.get_num_threads()
    if workers and model.device == "cpu":
        torch.set_num_threads(max(1, min(threads, (os.cpu_count() or 1) - workers)))
    try:
        for inputs, indices, errors, heights, widths in loader:
            errors = list(errors)
            stops = [e for e in errors if e.startswith(_STOP)]
            keep = [k for k, e in enumerate(errors) if not e.startswith(_STOP)]
            if stops and not keep:
                raise _stop_error(stops[0])
            if stops:  # what was read before the source failed is kept (the run resumes after it)
                inputs, indices, heights, widths = inputs[keep], indices[keep], heights[keep], widths[keep]
                errors = [errors[k] for k in keep]
            probs = forward_probabilities(model.module, inputs, model.device)
            yield inputs, indices.tolist(), probs, errors, list(zip(heights.tolist(), widths.tolist()))
            if stops:
                raise _stop_error(stops[0])
    finally:
        torch.set_num_threads(threads)


def done_images(out: Path) -> set[str]:
    if not out.exists():
        return set()
    with open(out, newline="") as handle:
        return {row["Image Index"] for row in csv.DictReader(handle)}


def _check_header(out: Path, with_cam: bool) -> None:
    """A resumed CSV must have the columns this run writes (with or without `cam_summary`)."""
    if not out.exists() or out.stat().st_size == 0:
        return
    with open(out, newline="") as handle:
        header = next(csv.reader(handle), [])
    if (CAM_COLUMN in header) != with_cam:
        had = "with" if CAM_COLUMN in header else "without"
        raise CxrvizError(f"{out} was written {had} --cam-summary (its {CAM_COLUMN} column): resume it {had} "
                          "the option, or write to a new --out.")


def predict_to_csv(
    model: LoadedModel, names: list[str], paths: list[Path], out: Path, batch_size: int = 16, workers: int = 0,
    progress: Callable[[int, int], None] | None = None, cam: CamSummariser | None = None, load: Loader = load_gray,
) -> int:
    """Append probabilities (and, with `cam`, the CAM summary) for images not yet in `out`;
    returns how many were added. `load` reads `paths[i]` (default: an image file)."""
    _check_header(out, cam is not None)
    done = done_images(out)
    todo = [i for i, n in enumerate(names) if n not in done]
    fresh = not out.exists() or out.stat().st_size == 0
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(out, "a", newline="") as handle:
        writer = csv.writer(handle)
        if fresh:
            writer.writerow(["Image Index", "model", "weights_sha256", "error", *FINDINGS, *([CAM_COLUMN] if cam else [])])
        for inputs, indices, probs, errors, shapes in _iter_batches(model, [paths[i] for i in todo], batch_size, workers, load):
            for j, k in enumerate(indices):
                values = [""] * len(FINDINGS) if errors[j] else [f"{p:.6f}" for p in probs[j]]
                if cam:
                    values.append("" if errors[j] else cam(model, inputs[j : j + 1], shapes[j], probs[j]))
                writer.writerow([names[todo[k]], model.spec.name, model.weights_sha256, errors[j], *values])
            handle.flush()
            written += len(indices)
            if progress:
                progress(written, len(todo))
    return written
