"""A deterministic split by patient, so no patient's images sit on both sides."""

from __future__ import annotations

import hashlib

import numpy as np


def patient_bucket(patient_id: int, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) for a patient, independent of the image set."""
    digest = hashlib.sha256(f"{seed}:{int(patient_id)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_validation(patient_ids: np.ndarray, val_fraction: float, seed: int) -> np.ndarray:
    """True for rows whose patient falls in the validation fraction."""
    return np.array([patient_bucket(p, seed) < val_fraction for p in patient_ids], dtype=bool)
