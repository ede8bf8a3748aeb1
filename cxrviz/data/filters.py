"""Browse filters as plain data, applied to the metadata as one vectorised boolean mask."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cxrviz.data.metadata import Metadata
from cxrviz.findings import ALL_LABELS, FINDINGS, NO_FINDING

MATCH_MODES = ("any of", "all of", "exactly these")


@dataclass(frozen=True)
class Filter:
    """What the user chose; empty selections mean "no restriction"."""

    findings: tuple[str, ...] = ()
    match: str = "any of"
    no_finding: bool = False
    age_min: float | None = None
    age_max: float | None = None
    include_unknown_age: bool = True
    genders: tuple[str, ...] = ()
    views: tuple[str, ...] = ()
    patient_ids: tuple[int, ...] = ()
    has_image: bool = False
    has_box: bool = False
    images: tuple[str, ...] = field(default=())


def apply_filter(metadata: Metadata, spec: Filter, present: np.ndarray | None = None, boxed: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask over metadata rows. `present`/`boxed` are per-row masks computed once."""
    table = metadata.table
    mask = np.ones(len(table), dtype=bool)
    if spec.findings:
        cols = [ALL_LABELS.index(f) for f in spec.findings]
        chosen = metadata.labels[:, cols]
        if spec.match == "any of":
            mask &= chosen.any(axis=1)
        elif spec.match == "all of":
            mask &= chosen.all(axis=1)
        elif spec.match == "exactly these":
            others = [j for j, f in enumerate(FINDINGS) if f not in spec.findings]
            mask &= chosen.all(axis=1) & ~metadata.labels[:, others].any(axis=1)
        else:
            raise ValueError(f"unknown match mode {spec.match!r}")
    if spec.no_finding:
        mask &= metadata.labels[:, ALL_LABELS.index(NO_FINDING)]
    if spec.age_min is not None or spec.age_max is not None:
        age = table["age"].to_numpy(dtype=float, na_value=np.nan)
        low = -np.inf if spec.age_min is None else spec.age_min
        high = np.inf if spec.age_max is None else spec.age_max
        in_range = (age >= low) & (age <= high)
        mask &= in_range | (np.isnan(age) & spec.include_unknown_age)
    if spec.genders:
        mask &= table["gender"].isin(spec.genders).to_numpy()
    if spec.views:
        mask &= table["view"].isin(spec.views).to_numpy()
    if spec.patient_ids:
        mask &= table["patient_id"].isin(spec.patient_ids).to_numpy(dtype=bool, na_value=False)
    if spec.images:
        mask &= table["image"].isin(spec.images).to_numpy()
    if spec.has_image:
        mask &= present if present is not None else np.zeros(len(table), dtype=bool)
    if spec.has_box:
        mask &= boxed if boxed is not None else np.zeros(len(table), dtype=bool)
    return mask


AGE_SLIDER = (0, 120)


def parse_patient_ids(text: str) -> tuple[tuple[int, ...], list[str]]:
    """Comma- or space-separated patient ids: (the whole numbers, the pieces that were not)."""
    pieces = [p for p in text.replace(",", " ").split() if p]
    ids = tuple(int(p) for p in pieces if p.isdigit())
    return ids, [p for p in pieces if not p.isdigit()]


def filter_from_form(findings: list[str] | tuple[str, ...], match: str, no_finding: bool, age_range: tuple[int, int],
                     genders: list[str] | tuple[str, ...], views: list[str] | tuple[str, ...], patient_ids: tuple[int, ...],
                     has_image: bool, has_box: bool) -> Filter:
    """The Browse form's values as a `Filter`. The age slider at its full range (0–120) means
    "no age filter", which keeps the rows whose age is unknown; any narrower range drops them."""
    full = tuple(age_range) == AGE_SLIDER
    return Filter(
        findings=tuple(findings), match=match, no_finding=no_finding,
        age_min=None if full else age_range[0], age_max=None if full else age_range[1],
        include_unknown_age=full, genders=tuple(genders), views=tuple(views), patient_ids=patient_ids,
        has_image=has_image, has_box=has_box,
    )
