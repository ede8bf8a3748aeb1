"""Browse filters as plain data, applied to the metadata as one vectorised boolean mask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

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
    has_expert: bool = False  # adjudicated by Google's 2019 expert panel (`cxrviz.data.expert`)
    nih_disagrees: bool = False  # the NIH label contradicts the experts (`expert.row_masks`)
    images: tuple[str, ...] = field(default=())


def apply_filter(metadata: Metadata, spec: Filter, present: np.ndarray | None = None, boxed: np.ndarray | None = None,
                 expert: np.ndarray | None = None, disagrees: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask over metadata rows. `present`/`boxed`/`expert`/`disagrees` are per-row masks
    computed once; a filter on one that is missing (None: e.g. the expert file cannot be read)
    keeps no row, since no row is known to have it."""
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
    if spec.has_expert:
        mask &= expert if expert is not None else np.zeros(len(table), dtype=bool)
    if spec.nih_disagrees:
        mask &= disagrees if disagrees is not None else np.zeros(len(table), dtype=bool)
    return mask


AGE_SLIDER = (0, 120)
MAX_ID_DIGITS = 9  # NIH patient ids run to 30805; a longer "number" is a typo, not an id


def parse_patient_ids(text: str) -> tuple[tuple[int, ...], list[str]]:
    """Comma- or space-separated patient ids: (the whole numbers, the pieces that were not)."""
    pieces = [p for p in text.replace(",", " ").split() if p]
    whole = [p.isascii() and p.isdigit() and len(p) <= MAX_ID_DIGITS for p in pieces]
    return tuple(int(p) for p, ok in zip(pieces, whole) if ok), [p for p, ok in zip(pieces, whole) if not ok]


def filter_from_form(findings: list[str] | tuple[str, ...], match: str, no_finding: bool, age_range: tuple[int, int],
                     genders: list[str] | tuple[str, ...], views: list[str] | tuple[str, ...], patient_ids: tuple[int, ...],
                     has_image: bool, has_box: bool, has_expert: bool = False, nih_disagrees: bool = False) -> Filter:
    """The Browse form's values as a `Filter`. The age slider at its full range (0–120) means
    "no age filter", which keeps the rows whose age is unknown; any narrower range drops them."""
    full = tuple(age_range) == AGE_SLIDER
    return Filter(
        findings=tuple(findings), match=match, no_finding=no_finding,
        age_min=None if full else age_range[0], age_max=None if full else age_range[1],
        include_unknown_age=full, genders=tuple(genders), views=tuple(views), patient_ids=patient_ids,
        has_image=has_image, has_box=has_box, has_expert=has_expert, nih_disagrees=nih_disagrees,
    )


# ---- Filters in a link: a `Filter` <-> the query string's {name: value} (no Streamlit here) ----
# e.g. /?findings=Effusion,Mass&match=all&age=30-60&gender=F&view=PA&patients=1,30805&local=0&boxes=1&expert=1
#   findings  comma-separated NIH findings (case and `_`/space as you like)
#   match     any | all | exactly            no_finding, local, boxes, expert, disagree   1 or 0
#   age       30-60, 65- or -17 (whole years 0-120; with a range, unknown ages are left out
#             unless unknown_age=1)          gender  M,F      view  PA,AP      patients  1,30805

MATCH_IN_LINK = {"any of": "any", "all of": "all", "exactly these": "exactly"}
LINK_KEYS = ("findings", "match", "no_finding", "age", "unknown_age", "gender", "view", "patients", "local", "boxes", "expert",
             "disagree")
GENDERS = ("M", "F")
VIEWS = ("PA", "AP")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _listed(values: tuple) -> str:
    return ",".join(str(v) for v in values)


def _number(value: float) -> str:
    return f"{value:g}"


def filter_to_params(spec: Filter, default: Filter = Filter()) -> dict[str, str]:
    """The link's query parameters for `spec`: only what differs from `default`, so a plain
    link stays short. `filter_from_params(filter_to_params(f, d), d)` gives back `f` for every
    filter the Browse form can make (and any other that uses only the fields listed in LINK_KEYS)."""
    params: dict[str, str] = {}
    if spec.findings != default.findings:
        params["findings"] = _listed(spec.findings)
    if spec.match != default.match:
        params["match"] = MATCH_IN_LINK.get(spec.match, spec.match)
    if spec.no_finding != default.no_finding:
        params["no_finding"] = "1" if spec.no_finding else "0"
    ranged = spec.age_min is not None or spec.age_max is not None
    if (spec.age_min, spec.age_max) != (default.age_min, default.age_max):
        low = "" if spec.age_min is None else _number(spec.age_min)
        high = "" if spec.age_max is None else _number(spec.age_max)
        params["age"] = f"{low}-{high}" if ranged else ""
    if ranged and spec.include_unknown_age:
        params["unknown_age"] = "1"
    if spec.genders != default.genders:
        params["gender"] = _listed(spec.genders)
    if spec.views != default.views:
        params["view"] = _listed(spec.views)
    if spec.patient_ids != default.patient_ids:
        params["patients"] = _listed(spec.patient_ids)
    if spec.has_image != default.has_image:
        params["local"] = "1" if spec.has_image else "0"
    if spec.has_box != default.has_box:
        params["boxes"] = "1" if spec.has_box else "0"
    if spec.has_expert != default.has_expert:
        params["expert"] = "1" if spec.has_expert else "0"
    if spec.nih_disagrees != default.nih_disagrees:
        params["disagree"] = "1" if spec.nih_disagrees else "0"
    return params


def _choices(raw: str, allowed: tuple[str, ...], what: str, key: str, problems: list[str]) -> tuple[str, ...]:
    """Comma-separated names matched case-insensitively to `allowed`; an unknown one is left out (with a problem)."""
    by_lower = {a.lower(): a for a in allowed}
    by_lower.update({a.lower().replace("_", " "): a for a in allowed})
    chosen: list[str] = []
    unknown: list[str] = []
    for piece in (p.strip() for p in raw.split(",")):
        if not piece:
            continue
        match = by_lower.get(piece.lower())
        if match is None:
            unknown.append(piece)
        elif match not in chosen:
            chosen.append(match)
    if unknown:
        problems.append(f"{key}: {', '.join(unknown)} is not a known {what} (one of {', '.join(allowed)}).")
    return tuple(chosen)


def _flag(raw: str, key: str, problems: list[str]) -> bool | None:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    problems.append(f"{key}: {raw} is not 1 or 0.")
    return None


def _age_range(raw: str, problems: list[str]) -> tuple[float | None, float | None] | None:
    """`30-40`, `30-` or `-40` (whole years within the slider's 0–120); `` means no age filter."""
    text = raw.strip()
    if not text:
        return None, None
    low_text, sep, high_text = text.partition("-")
    bounds: list[float | None] = []
    for piece in (low_text.strip(), high_text.strip()):
        if not piece:
            bounds.append(None)
        elif piece.isascii() and piece.isdigit() and AGE_SLIDER[0] <= int(piece) <= AGE_SLIDER[1]:
            bounds.append(int(piece))
        else:
            bounds.append(float("nan"))
    low, high = bounds
    valid = sep and all(b is None or b == b for b in bounds) and (low is None or high is None or low <= high)
    if not valid:
        problems.append(f"age: {raw} is not an age range such as 30-40 (whole years from {AGE_SLIDER[0]} to {AGE_SLIDER[1]}).")
        return None
    if (low in (None, AGE_SLIDER[0])) and (high in (None, AGE_SLIDER[1])):
        return None, None  # the full slider: no age filter
    return low, high


def filter_from_params(params: Mapping[str, str], default: Filter = Filter()) -> tuple[Filter, list[str]]:
    """The filter a link describes, and a sentence for each value that was ignored: a bad name in a
    list is left out, any other bad value keeps `default`'s setting. Parameter names not in
    LINK_KEYS belong to someone else (`image`, Streamlit's own) and are left alone."""
    problems: list[str] = []
    values = {f.name: getattr(default, f.name) for f in fields(Filter)}
    if "findings" in params:
        values["findings"] = _choices(params["findings"], FINDINGS, "finding", "findings", problems)
    if "match" in params:
        modes = {v: k for k, v in MATCH_IN_LINK.items()} | {k: k for k in MATCH_IN_LINK}
        mode = modes.get(params["match"].strip().lower())
        if mode is None:
            problems.append(f"match: {params['match']} is not one of {', '.join(MATCH_IN_LINK.values())}.")
        else:
            values["match"] = mode
    for key, name in (("no_finding", "no_finding"), ("local", "has_image"), ("boxes", "has_box"), ("expert", "has_expert"),
                      ("disagree", "nih_disagrees")):
        if key in params:
            flag = _flag(params[key], key, problems)
            if flag is not None:
                values[name] = flag
    if "age" in params:
        ages = _age_range(params["age"], problems)
        if ages is not None:
            values["age_min"], values["age_max"] = ages
    ranged = values["age_min"] is not None or values["age_max"] is not None
    unknown_age = _flag(params["unknown_age"], "unknown_age", problems) if "unknown_age" in params else None
    if "age" in params or "unknown_age" in params:
        values["include_unknown_age"] = not ranged or bool(unknown_age)
    if "gender" in params:
        values["genders"] = _choices(params["gender"], GENDERS, "gender", "gender", problems)
    if "view" in params:
        values["views"] = _choices(params["view"], VIEWS, "view", "view", problems)
    if "patients" in params:
        ids, not_ids = parse_patient_ids(params["patients"])
        if not_ids:
            problems.append(f"patients: {', '.join(not_ids)} is not a patient id (whole numbers, e.g. 1,30805).")
        values["patient_ids"] = tuple(dict.fromkeys(ids))
    return Filter(**values), problems


def form_values(spec: Filter) -> dict[str, object]:
    """The Browse form's widget values that show `spec` (the inverse of `filter_from_form`)."""
    low = AGE_SLIDER[0] if spec.age_min is None else int(max(AGE_SLIDER[0], min(spec.age_min, AGE_SLIDER[1])))
    high = AGE_SLIDER[1] if spec.age_max is None else int(max(low, min(spec.age_max, AGE_SLIDER[1])))
    return {
        "findings": list(spec.findings), "match": spec.match, "no_finding": spec.no_finding, "age_range": (low, high),
        "genders": list(spec.genders), "views": list(spec.views), "patients": ", ".join(str(p) for p in spec.patient_ids),
        "has_image": spec.has_image, "has_box": spec.has_box, "has_expert": spec.has_expert,
        "nih_disagrees": spec.nih_disagrees,
    }
