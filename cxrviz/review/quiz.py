"""Teaching quizzes built from real cases: what a quiz is, how its cases are drawn, what a reveal
says, and how learners are scored. Pure rules, no Streamlit and no SQL (the store keeps quizzes
and answers in `store/quizzes.py`; the Teach page draws them).

The "truth" a learner is scored against is the NIH label, which is an NLP-mined label and
sometimes wrong. Where Google's expert panel adjudicated the image (Majkowska et al. 2019, the
`google2019` file shipped with torchxrayvision) the reveal shows the experts' call too, and flags
the case as *debatable* when NIH and experts disagree on an asked finding.
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cxrviz.data.boxes import Box
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS, normalise_label

log = logging.getLogger(__name__)

SOURCES = ("Browse filter", "Boxed images", "Expert-adjudicated", "Image names")
ORDERS = ("random", "in order")
MAX_CASES = 200
MAX_QUIZ_NAME = 200
IMAGE_NAME = re.compile(r"^\d{8}_\d{3}\.png$")

# The expert file's findings and the NIH findings each one covers. Fracture has no NIH label.
# "Airspace opacity" follows the paper's definition (consolidation, infiltrate, atelectasis,
# pneumonia, oedema-like opacity): an NIH positive for any of them counts as an opacity.
EXPERT_TO_NIH: dict[str, frozenset[str]] = {
    "Pneumothorax": frozenset({"Pneumothorax"}),
    "Nodule or mass": frozenset({"Nodule", "Mass"}),
    "Airspace opacity": frozenset({"Atelectasis", "Consolidation", "Infiltration", "Pneumonia", "Edema"}),
    "Fracture": frozenset(),
}
EXPERT_FILE = "google2019_nih-chest-xray-labels.csv.gz"


class QuizError(CxrvizError):
    """A quiz that cannot be built or opened (no name, no cases, unknown images, a dead link)."""


@dataclass(frozen=True)
class QuizSpec:
    """A saved quiz: its cases in the order learners see them, the findings asked, what the reveal
    shows, and how the cases were drawn (source, seed) so the same spec draws the same cases."""

    name: str
    images: tuple[str, ...]
    asked: tuple[str, ...]
    reveal_model: bool = True
    reveal_heatmap: bool = True
    source: str = "Image names"
    seed: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> QuizSpec:
        data = json.loads(text)
        data["images"], data["asked"] = tuple(data["images"]), tuple(data["asked"])
        return cls(**data)


def draw_cases(candidates: Iterable[str], n: int, order: str = "random", seed: int | None = 0) -> tuple[str, ...]:
    """`n` distinct cases from the candidates: the first `n` in their order, or a sample that the
    same seed always draws again (the candidates are sorted first, so their order does not matter)."""
    unique = list(dict.fromkeys(candidates))
    if not unique:
        raise QuizError("There are no cases to draw from: the chosen source holds no local image. "
                        "Widen the Browse filter, or choose another source.")
    if n < 1:
        raise QuizError("A quiz needs at least one case.")
    if order not in ORDERS:
        raise QuizError(f"Unknown order {order!r}; choose one of {', '.join(ORDERS)}.")
    n = min(n, len(unique), MAX_CASES)
    if order == "in order":
        return tuple(unique[:n])
    return tuple(random.Random(seed).sample(sorted(unique), n))


def build_quiz(name: str, candidates: Iterable[str], asked: Iterable[str], n: int, order: str = "random",
               seed: int | None = 0, source: str = "Image names", reveal_model: bool = True,
               reveal_heatmap: bool = True) -> QuizSpec:
    """A quiz spec, or `QuizError` saying what is missing."""
    title = " ".join((name or "").split())
    if not title:
        raise QuizError("Give the quiz a name.")
    if len(title) > MAX_QUIZ_NAME:
        raise QuizError(f"A quiz name can be at most {MAX_QUIZ_NAME} characters ({len(title)} given).")
    chosen = tuple(f for f in FINDINGS if f in set(asked))
    unknown = sorted(set(asked) - set(FINDINGS))
    if unknown:
        raise QuizError(f"Unknown findings: {', '.join(unknown)}.")
    if not chosen:
        raise QuizError("Choose at least one finding to ask about.")
    images = draw_cases(candidates, n, order, seed)
    return QuizSpec(title, images, chosen, bool(reveal_model), bool(reveal_heatmap and reveal_model), source,
                    seed if order == "random" else None)


# ---- where cases come from --------------------------------------------------------------------

def images_of_rows(names: Iterable[str], rows: Iterable[int] | None, local: Mapping[str, object] | set[str]) -> list[str]:
    """The local images among metadata rows (`names[row]`), in row order: the Browse filter's cases."""
    if rows is None:
        return []
    table = names if hasattr(names, "__getitem__") else list(names)
    picked = (str(table[int(r)]) for r in rows)
    return [name for name in picked if name in local]


def boxed_images(box_images: Iterable[str], local: Mapping[str, object] | set[str]) -> list[str]:
    """Local images with a ground-truth box, sorted."""
    return sorted({str(n) for n in box_images if str(n) in local})


def parse_names(text: str, local: Mapping[str, object] | set[str]) -> tuple[list[str], list[str]]:
    """Image names typed or pasted (commas, spaces or lines between them): (present locally, refused)."""
    found, refused = [], []
    for token in re.split(r"[\s,;]+", text or ""):
        if not token:
            continue
        if IMAGE_NAME.match(token) and token in local:
            found.append(token)
        else:
            refused.append(token)
    return list(dict.fromkeys(found)), refused


def candidates_for(source: str, *, image_names, browse_rows, local, box_images: Iterable[str] = (),
                   expert_images: Iterable[str] = (), typed: str = "") -> tuple[list[str], list[str]]:
    """The local cases a source offers, and the typed names refused (only for "Image names")."""
    if source == "Browse filter":
        return images_of_rows(image_names, browse_rows, local), []
    if source == "Boxed images":
        return boxed_images(box_images, local), []
    if source == "Expert-adjudicated":
        return boxed_images(expert_images, local), []
    if source == "Image names":
        return parse_names(typed, local)
    raise QuizError(f"Unknown source {source!r}; choose one of {', '.join(SOURCES)}.")


# ---- expert labels ------------------------------------------------------------------------------

def read_expert_labels(path: Path) -> dict[str, dict[str, bool]]:
    """image -> {expert finding: YES?} from the google2019 CSV (a minimal reader for the quiz; the
    columns are found by header name)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("Image Index", *EXPERT_TO_NIH) if c not in (reader.fieldnames or [])]
            if missing:
                raise QuizError(f"The expert label file {Path(path).name} lacks the columns {', '.join(missing)}.")
            return {row["Image Index"].strip(): {f: row[f].strip().upper() == "YES" for f in EXPERT_TO_NIH} for row in reader}
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise QuizError(f"The expert label file {Path(path).name} cannot be read: {exc}") from exc


def default_expert_labels() -> dict[str, dict[str, bool]]:
    from cxrviz.data.metadata import bundled_file

    return read_expert_labels(bundled_file(EXPERT_FILE))


def disagreements(nih: set[str], expert: Mapping[str, bool] | None, asked: Iterable[str] = FINDINGS) -> list[str]:
    """Expert findings on which the NIH label and the experts disagree, for the asked findings: the
    case is debatable on those. An expert finding with no NIH counterpart (Fracture) is never compared."""
    if not expert:
        return []
    asked = set(asked)
    out = []
    for finding, covers in EXPERT_TO_NIH.items():
        relevant = covers & asked
        if not relevant or finding not in expert:
            continue
        if bool(expert[finding]) != bool(set(nih) & covers):
            out.append(finding)
    return out


# ---- the reveal ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reveal:
    """What the learner is shown after submitting one case."""

    image: str
    rows: list[dict]  # one per asked finding: finding, yours, NIH, outcome
    expert: dict[str, bool] | None
    debatable: list[str]
    click_in: list[str] | None  # findings whose NIH box holds the click; None when there was no click or no box


def outcome(ticked: bool, truth: bool) -> str:
    return {(True, True): "found", (False, True): "missed", (True, False): "false alarm", (False, False): "correctly clear"}[(ticked, truth)]


def click_hits(click: tuple[float, float] | None, boxes: Iterable[tuple[str, Box]]) -> list[str] | None:
    """Findings whose box contains the click (both in the same frame); None without a click or boxes."""
    boxes = list(boxes)
    if click is None or not boxes:
        return None
    x, y = click
    return sorted({label for label, b in boxes if b.x <= x <= b.x + b.w and b.y <= y <= b.y + b.h})


def reveal(image: str, asked: Iterable[str], ticked: Iterable[str], nih: set[str] | None,
           expert: Mapping[str, bool] | None = None, boxes: Iterable[tuple[str, Box]] = (),
           click: tuple[float, float] | None = None) -> Reveal:
    ticked, nih = set(ticked), set(nih or ())
    asked = [f for f in FINDINGS if f in set(asked)]
    rows = [{"finding": f, "yours": f in ticked, "NIH": f in nih, "outcome": outcome(f in ticked, f in nih)} for f in asked]
    return Reveal(image, rows, dict(expert) if expert else None, disagreements(nih, expert, asked), click_hits(click, boxes))


# ---- scores -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """One learner's answer to one case, as stored."""

    quiz_id: str
    learner: str
    image: str
    findings: tuple[str, ...]
    click: tuple[float, float] | None = None
    answered_at: str = ""


@dataclass
class FindingScore:
    learner: str
    finding: str
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def sensitivity(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def specificity(self) -> float | None:
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else None

    def row(self) -> dict:
        return {"learner": self.learner, "finding": self.finding, "TP": self.tp, "FN": self.fn, "FP": self.fp, "TN": self.tn,
                "sensitivity": self.sensitivity, "specificity": self.specificity,
                "missed": ", ".join(self.missed), "false alarms": ", ".join(self.false_alarms)}


def score(answers: Iterable[Answer], asked: Iterable[str], truth: Mapping[str, set[str]]) -> list[FindingScore]:
    """Per learner and asked finding, against `truth` (image -> NIH findings): counts, sensitivity,
    specificity, the positive cases missed and the negative cases called. Images without a truth
    (not in the metadata) are left out. Learners in order of first answer, findings in vocabulary order."""
    asked = [f for f in FINDINGS if f in set(asked)]
    scores: dict[tuple[str, str], FindingScore] = {}
    for answer in answers:
        if answer.image not in truth:
            continue
        positives, ticked = set(truth[answer.image]), set(answer.findings)
        for finding in asked:
            s = scores.setdefault((answer.learner, finding), FindingScore(answer.learner, finding))
            if finding in positives:
                if finding in ticked:
                    s.tp += 1
                else:
                    s.fn += 1
                    s.missed.append(answer.image)
            elif finding in ticked:
                s.fp += 1
                s.false_alarms.append(answer.image)
            else:
                s.tn += 1
    return list(scores.values())


def class_scores(answers: Iterable[Answer], asked: Iterable[str], truth: Mapping[str, set[str]]) -> list[FindingScore]:
    """The whole class pooled, one row per finding (learner "class")."""
    pooled = [Answer(a.quiz_id, "class", a.image, a.findings, a.click, a.answered_at) for a in answers]
    return score(pooled, asked, truth)


def anonymise(learners: Iterable[str]) -> dict[str, str]:
    """learner -> "Learner 1", "Learner 2" … in order of first appearance: the default class view."""
    out: dict[str, str] = {}
    for learner in learners:
        out.setdefault(learner, f"Learner {len(out) + 1}")
    return out


def answers_csv(answers: Iterable[Answer], asked: Iterable[str]) -> str:
    """One row per answer, one 0/1 column per asked finding (vocabulary order)."""
    import io

    asked = [f for f in FINDINGS if f in set(asked)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["quiz", "learner", "image", *asked, "click_x", "click_y", "answered_at"])
    for a in answers:
        x, y = a.click if a.click else ("", "")
        writer.writerow([a.quiz_id, _csv_safe(a.learner), a.image, *[int(f in a.findings) for f in asked], x, y, a.answered_at])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (=, +, -, @ first)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def resume_position(images: Iterable[str], answered: Iterable[str]) -> int:
    """Where a learner who comes back picks up: the first case not yet answered (the last case
    when all are)."""
    images, done = list(images), set(answered)
    for i, name in enumerate(images):
        if name not in done:
            return i
    return max(len(images) - 1, 0)


def checked_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Labels as stored: normalised, asked-vocabulary order, no duplicates."""
    names = {normalise_label(label) for label in labels}
    return tuple(f for f in FINDINGS if f in names)
