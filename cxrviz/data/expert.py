"""Expert reference labels: Google's 2019 radiologist-adjudicated labels for 4,376 NIH images,
and the one mapping from their four findings to the NIH findings. Browse ("NIH disagrees with the
experts"), the Label audit page, the Review suspects and the Teach reveal all ask this module;
no other module reads the file or defines the mapping.

Source: Majkowska A, Mittal S, Steiner DF, et al. "Chest Radiograph Interpretation with Deep
Learning Models: Assessment with Radiologist-adjudicated Reference Standards and
Population-adjusted Evaluation", Radiology 2020;294:421-431 (doi:10.1148/radiol.2019191293).
Three radiologists adjudicated four findings on NIH images; torchxrayvision ships the result as
`google2019_nih-chest-xray-labels.csv.gz` (one row per image, YES/NO per finding, a blank cell
where no verdict was given). torchxrayvision's `NIH_Google_Dataset` only renames the findings
("Airspace opacity" -> "Lung Opacity", "Nodule or mass" -> "Nodule/Mass"); it relates none of
them to the NIH labels, so the mapping below (`NIH_EQUIVALENTS`) is the paper's definitions:

- Pneumothorax -> Pneumothorax: the same finding.
- Nodule or mass -> Nodule, Mass: the paper grades the two as one finding, so the NIH side counts
  as positive when either is labelled.
- Airspace opacity -> Consolidation, Infiltration, Pneumonia, Atelectasis, Edema: the paper's
  airspace opacity is any opacity filling the airspaces (consolidation, infiltrate, the opacity of
  pneumonia, of atelectasis, of alveolar oedema), not one NIH finding; an NIH positive for any of
  them counts. (Measured on the 4,376 images against the metadata: PPV 0.72, sensitivity 0.51,
  agreement 0.66; without Atelectasis and Edema 0.76, 0.42, 0.65.) "Pneumonia" is a clinical
  diagnosis and an NIH "Atelectasis" need not be an opacity, so agreement figures for this
  finding measure the mapping as much as the labels.
- Fracture: no NIH finding; shown as an expert label, never compared.

A blank expert cell is no verdict: that finding is not compared for that image.

The statistics treat the experts as the reference: PPV = the share of NIH positives the experts
confirm, sensitivity = the share of expert positives NIH labels, agreement = the share of images
where both say the same; 95% Wilson intervals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from cxrviz.data.metadata import Metadata, bundled_file
from cxrviz.errors import MetadataError
from cxrviz.findings import split_labels

log = logging.getLogger(__name__)

EXPERT_FILE = "google2019_nih-chest-xray-labels.csv.gz"
SOURCE = "Google 2019 adjudicated"
EXPERT_FINDINGS: tuple[str, ...] = ("Pneumothorax", "Nodule or mass", "Airspace opacity", "Fracture")
NIH_EQUIVALENTS: dict[str, tuple[str, ...]] = {
    "Pneumothorax": ("Pneumothorax",),
    "Nodule or mass": ("Nodule", "Mass"),
    "Airspace opacity": ("Consolidation", "Infiltration", "Pneumonia", "Atelectasis", "Edema"),
    "Fracture": (),
}
COMPARED: tuple[str, ...] = tuple(f for f in EXPERT_FINDINGS if NIH_EQUIVALENTS[f])
_VALUES = {"YES": True, "NO": False}


class ExpertLabelsError(MetadataError):
    """The expert reference file is missing or malformed."""


def default_expert_path() -> Path:
    return bundled_file(EXPERT_FILE)


@dataclass(frozen=True, eq=False)
class ExpertLabels:
    """One row per adjudicated image (index: image name); a column per expert finding holding
    True/False (pandas "boolean", NA where the file leaves it blank), plus the NIH labels the
    file itself carries (`nih_labels`, the 2017 'Finding Labels') and `set` (val/test)."""

    table: pd.DataFrame
    source: Path

    def __len__(self) -> int:
        return len(self.table)

    def __contains__(self, image: str) -> bool:
        return image in self.table.index

    def of(self, image: str) -> dict[str, bool]:
        """Expert finding -> present, for one image; empty when it was not adjudicated."""
        if image not in self.table.index:
            return {}
        row = self.table.loc[image]
        return {f: bool(row[f]) for f in EXPERT_FINDINGS if not pd.isna(row[f])}


def describe(labels: Mapping[str, bool]) -> str:
    """'Google 2019 adjudicated: Pneumothorax absent, ...' for the Image and Review pages."""
    if not labels:
        return ""
    return f"{SOURCE}: " + ", ".join(f"{f} {'present' if v else 'absent'}" for f, v in labels.items())


def _parse(frame: pd.DataFrame, source: Path) -> pd.DataFrame:
    needed = ("Image Index", *EXPERT_FINDINGS)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ExpertLabelsError(f"Expert labels file {source} lacks the column(s) {', '.join(missing)}.")
    table = pd.DataFrame(index=pd.Index(frame["Image Index"].astype(str).str.strip(), name="image"))
    for finding in EXPERT_FINDINGS:
        cells = frame[finding].astype("string").str.strip().str.upper()
        bad = cells.notna() & ~cells.isin(list(_VALUES))
        if bad.any():
            raise ExpertLabelsError(
                f"Expert labels file {source}: column {finding!r} holds {cells[bad].iloc[0]!r}; expected YES or NO.")
        table[finding] = cells.map(_VALUES).astype("boolean").to_numpy()
    table["nih_labels"] = frame["Finding Labels"].astype(str).to_numpy() if "Finding Labels" in frame.columns else None
    table["set"] = frame["Set Id"].astype(str).to_numpy() if "Set Id" in frame.columns else ""
    if table.index.duplicated().any():
        raise ExpertLabelsError(f"Expert labels file {source} lists {table.index[table.index.duplicated()][0]} twice.")
    return table


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> ExpertLabels:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError as exc:
        raise ExpertLabelsError(f"The expert labels file {path} does not exist.") from exc
    except (OSError, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ExpertLabelsError(f"The expert labels file {path} cannot be read: {exc}") from exc
    table = _parse(frame, path)
    log.info("Loaded %d expert-labelled images from %s", len(table), path)
    return ExpertLabels(table=table, source=path)


def load_expert_labels(path: Path | None = None) -> ExpertLabels:
    """Read (once per file version) and validate the expert labels; raises `ExpertLabelsError`."""
    source = Path(path) if path is not None else default_expert_path()
    try:
        mtime = source.stat().st_mtime
    except FileNotFoundError as exc:
        raise ExpertLabelsError(f"The expert labels file {source} does not exist.") from exc
    except OSError as exc:
        raise ExpertLabelsError(f"The expert labels file {source} cannot be opened: {exc.strerror or exc}.") from exc
    return _load(source, mtime)


def mapping_text() -> str:
    """The mapping in one line, for the pages' help texts (so none of them spells it out again):
    'Pneumothorax (NIH Pneumothorax); Nodule or mass (NIH Nodule or Mass); …'."""
    def either(names: tuple[str, ...]) -> str:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

    return "; ".join(f"{e} (NIH {either(n)})" for e, n in NIH_EQUIVALENTS.items() if n)


def nih_positive(nih_labels: Iterable[str], expert_finding: str) -> bool:
    """Whether a set of NIH labels counts as positive for an expert finding (`NIH_EQUIVALENTS`)."""
    return bool(set(nih_labels) & set(NIH_EQUIVALENTS[expert_finding]))


def image_disagreements(nih_labels: Iterable[str], verdicts: Mapping[str, bool] | None,
                        asked: Iterable[str] | None = None) -> list[str]:
    """The compared expert findings (`COMPARED` order) on which one image's NIH labels and the
    experts' verdicts (`ExpertLabels.of`) differ: the image is debatable on those. With `asked`
    (NIH findings), only expert findings covering an asked finding are compared (a quiz that does
    not ask about nodules is not debatable on them). The same rule as `comparison`/`disagreements`."""
    if not verdicts:
        return []
    labels, wanted = set(nih_labels), None if asked is None else set(asked)
    return [finding for finding in COMPARED
            if finding in verdicts and (wanted is None or wanted & set(NIH_EQUIVALENTS[finding]))
            and bool(verdicts[finding]) != bool(labels & set(NIH_EQUIVALENTS[finding]))]


def comparison(expert: ExpertLabels, nih: Mapping[str, Iterable[str]] | None = None) -> pd.DataFrame:
    """Long table, one row per (adjudicated image, compared finding) with both labels known:
    image, finding, nih (bool), expert (bool). NIH labels from `nih` (image -> labels, e.g. the
    metadata or reviewers' corrections; images it lacks are left out), else from the file itself."""
    table = expert.table
    if nih is None:
        label_sets = [set(split_labels(c)) if isinstance(c, str) else None for c in table["nih_labels"]]
    else:
        label_sets = [set(nih[i]) if i in nih else None for i in table.index]
    known = np.array([labels is not None for labels in label_sets], dtype=bool)
    parts = []
    for finding in COMPARED:
        wanted = set(NIH_EQUIVALENTS[finding])
        nih_pos = np.array([bool(labels and labels & wanted) for labels in label_sets], dtype=bool)
        expert = table[finding]
        keep = known & expert.notna().to_numpy()
        parts.append(pd.DataFrame({"image": table.index[keep], "finding": finding, "nih": nih_pos[keep],
                                   "expert": expert[keep].astype(bool).to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def wilson(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (NaN, NaN when n = 0)."""
    if n == 0:
        return float("nan"), float("nan")
    z = 1.959963984540054
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def agreement_statistics(compared: pd.DataFrame) -> pd.DataFrame:
    """Per compared finding: counts, PPV, sensitivity, agreement and the disagreement rate among
    NIH positives (1 - PPV), each with its 95% Wilson interval."""
    out = []
    for finding in COMPARED:
        part = compared[compared["finding"] == finding]
        nih, exp = part["nih"].to_numpy(bool), part["expert"].to_numpy(bool)
        both = int((nih & exp).sum())
        row = {"finding": finding, "nih_findings": ", ".join(NIH_EQUIVALENTS[finding]), "images": len(part),
               "nih_positive": int(nih.sum()), "expert_positive": int(exp.sum()), "both_positive": both}
        for name, k, n in (("ppv", both, int(nih.sum())), ("sensitivity", both, int(exp.sum())),
                           ("agreement", int((nih == exp).sum()), len(part)),
                           ("nih_positive_disagree", int(nih.sum()) - both, int(nih.sum()))):
            row[name] = k / n if n else float("nan")
            row[f"{name}_low"], row[f"{name}_high"] = wilson(k, n)
        out.append(row)
    return pd.DataFrame(out)


def disagreements(compared: pd.DataFrame) -> pd.DataFrame:
    """The (image, finding) pairs where NIH and the experts differ, with the direction as seen
    from the experts: 'NIH missed it' (expert yes, NIH no) or 'NIH over-calls it'."""
    diff = compared[compared["nih"] != compared["expert"]].copy()
    diff["direction"] = np.where(diff["expert"], "NIH missed it", "NIH over-calls it")
    return diff.reset_index(drop=True)


def row_masks(metadata: Metadata, expert: ExpertLabels) -> tuple[np.ndarray, np.ndarray]:
    """Two boolean masks over the metadata rows, for Browse's filters (vectorised; 112,120 rows in a few ms):

    - has an expert label: the image is one of the adjudicated images (whatever its cells say);
    - NIH disagrees with the experts: for at least one compared expert finding (`COMPARED`:
      Pneumothorax, Nodule or mass, Airspace opacity; never Fracture) whose expert cell is not
      blank, the NIH label — positive when the metadata labels *any* of its `NIH_EQUIVALENTS` —
      differs from the experts' verdict (NIH positive, experts absent; or NIH negative, experts
      present). The NIH side is the metadata's labels, i.e. what Browse shows.

    Adjudicated images missing from the metadata are left out."""
    from cxrviz.findings import ALL_LABELS

    n = len(metadata.table)
    has, disagrees = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    rows = pd.Index(metadata.table["image"]).get_indexer(expert.table.index)
    found = rows >= 0
    rows = rows[found]
    has[rows] = True
    for finding in COMPARED:
        cols = [ALL_LABELS.index(f) for f in NIH_EQUIVALENTS[finding]]
        nih_pos = metadata.labels[np.ix_(rows, cols)].any(axis=1)
        cells = expert.table[finding]
        known = cells.notna().to_numpy()[found]
        verdict = cells.fillna(False).to_numpy(dtype=bool)[found]
        disagrees[rows[known & (nih_pos != verdict)]] = True
    return has, disagrees


def expert_finding_for(nih_finding: str) -> str | None:
    """The expert finding an NIH finding maps to (Mass -> 'Nodule or mass'), else None."""
    return next((e for e, nih in NIH_EQUIVALENTS.items() if nih_finding in nih), None)


def expert_label_for(expert: ExpertLabels, image: str, nih_finding: str) -> bool | None:
    """The experts' verdict on the expert finding an NIH finding maps to; None when the image was
    not adjudicated or the finding has no expert counterpart."""
    finding = expert_finding_for(nih_finding)
    return None if finding is None else expert.of(image).get(finding)
