"""Teaching quizzes built from real cases: what a quiz is, how its cases are drawn, what a reveal
says, and how learners are scored. Pure rules, no Streamlit and no SQL (the store keeps quizzes
and answers in `store/quizzes.py`; the Teach page draws them).

The "truth" a learner is scored against is the NIH label, which is an NLP-mined label and
sometimes wrong. Where Google's expert panel adjudicated the image the reveal shows the experts'
call too, and flags the case as *debatable* when NIH and experts disagree on an asked finding:
the labels, their NIH mapping and that rule are `cxrviz.data.expert`'s, the same as the Label
audit page's and Browse's.
"""

from __future__ import annotations

import csv
import json
import logging
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from cxrviz.data.boxes import Box
from cxrviz.data.expert import image_disagreements
from cxrviz.data.image_index import NIH_NAME
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS, normalise_label
from cxrviz.review.export import neutralise

log = logging.getLogger(__name__)

SOURCES = ("Browse filter", "Boxed images", "Expert-adjudicated", "Image names")
ORDERS = ("random", "in order")
MAX_CASES = 200
MAX_QUIZ_NAME = 200

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
        if NIH_NAME.match(token) and token in local:
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
    return Reveal(image, rows, dict(expert) if expert else None, image_disagreements(nih, expert, asked), click_hits(click, boxes))


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
                "sensitivity": rate_text(self.tp, self.tp + self.fn, NO_POSITIVE),
                "specificity": rate_text(self.tn, self.tn + self.fp, NO_NEGATIVE),
                "missed": ", ".join(self.missed), "false alarms": ", ".join(self.false_alarms)}


NO_POSITIVE, NO_NEGATIVE = "n/a: no positive case", "n/a: no negative case"


def rate_text(k: int, n: int, undefined: str) -> str:
    """A rate as a table shows it: "0.00 (0 of 3)" is a learner who missed all three, `undefined`
    (no case to measure it on) is not the same thing and never reads as 0."""
    return f"{k / n:.2f} ({k} of {n})" if n else undefined


@dataclass(frozen=True)
class LearnerSummary:
    """One learner's overall score over every asked finding of every case they answered: each
    (case, finding) is one call, right or wrong against the NIH label."""

    learner: str
    cases: int
    tp: int
    fn: int
    fp: int
    tn: int

    @property
    def calls(self) -> int:
        return self.tp + self.fn + self.fp + self.tn

    @property
    def correct(self) -> float | None:
        return (self.tp + self.tn) / self.calls if self.calls else None

    def row(self) -> dict:
        return {"learner": self.learner, "cases answered": self.cases,
                "correct calls": rate_text(self.tp + self.tn, self.calls, "n/a: no case scored"),
                "sensitivity": rate_text(self.tp, self.tp + self.fn, NO_POSITIVE),
                "specificity": rate_text(self.tn, self.tn + self.fp, NO_NEGATIVE)}


def learner_summaries(answers: Iterable[Answer], asked: Iterable[str], truth: Mapping[str, set[str]]) -> list[LearnerSummary]:
    """Per learner (order of first answer): the overall score, from the same counts as `score`."""
    answers = list(answers)
    cases: dict[str, set[str]] = {}
    for a in answers:
        if a.image in truth:
            cases.setdefault(a.learner, set()).add(a.image)
    totals: dict[str, list[int]] = {}
    for s in score(answers, asked, truth):
        t = totals.setdefault(s.learner, [0, 0, 0, 0])
        t[0], t[1], t[2], t[3] = t[0] + s.tp, t[1] + s.fn, t[2] + s.fp, t[3] + s.tn
    return [LearnerSummary(learner, len(cases[learner]), *t) for learner, t in totals.items()]


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
        writer.writerow([a.quiz_id, neutralise(a.learner), a.image, *[int(f in a.findings) for f in asked], x, y, a.answered_at])
    return out.getvalue()


def case_from_param(value: str | None, n_cases: int) -> int:
    """The presenter's case from the URL (`?case=3`, counted from 1) as an index; case 1 for a
    missing or unreadable value, the last case for one past the end."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return 0
    return min(max(number, 1), max(n_cases, 1)) - 1


# ---- the builder's inputs in the URL (a reload keeps them) --------------------------------------

BUILDER_DEFAULTS: dict[str, object] = {"source": SOURCES[0], "names": "", "name": "", "n": 10, "order": ORDERS[0],
                                       "seed": 0, "asked": tuple(FINDINGS), "reveal_model": True}
BUILDER_PREFIX = "b_"


def builder_params(values: Mapping[str, object]) -> dict[str, str]:
    """The builder's inputs as URL parameters (`b_name=…`), only those that differ from the defaults."""
    out = {}
    for key, default in BUILDER_DEFAULTS.items():
        value = values.get(key, default)
        if key == "asked":
            value = tuple(f for f in FINDINGS if f in set(value))
        if value == default:
            continue
        if key == "asked":
            out[BUILDER_PREFIX + key] = ",".join(value) if value else "-"
        elif key == "reveal_model":
            out[BUILDER_PREFIX + key] = "1" if value else "0"
        else:
            out[BUILDER_PREFIX + key] = str(value)
    return out


def builder_values(params: Mapping[str, str]) -> dict[str, object]:
    """The inputs back from URL parameters; a missing or unreadable one is left out (the widget keeps
    its default), so a hand-edited link never breaks the builder."""
    out: dict[str, object] = {}
    for key, default in BUILDER_DEFAULTS.items():
        raw = params.get(BUILDER_PREFIX + key)
        if raw is None:
            continue
        if key == "source" and raw in SOURCES or key == "order" and raw in ORDERS:
            out[key] = raw
        elif key in ("names", "name"):
            out[key] = raw[:20_000] if key == "names" else raw[:MAX_QUIZ_NAME]
        elif key in ("n", "seed"):
            try:
                number = int(raw)
            except ValueError:
                continue
            if (1 <= number <= MAX_CASES) if key == "n" else (0 <= number < 2**31):
                out[key] = number
        elif key == "asked":
            out[key] = [] if raw == "-" else [f for f in FINDINGS if f in set(raw.split(","))]
        elif key == "reveal_model" and raw in ("0", "1"):
            out[key] = raw == "1"
    return out


def resume_position(images: Iterable[str], answered: Iterable[str]) -> int:
    """Where a learner who comes back picks up: the first case not yet answered (the last case
    when all are)."""
    images, done = list(images), set(answered)
    for i, name in enumerate(images):
        if name not in done:
            return i
    return max(len(images) - 1, 0)


def finding_names(findings: Iterable[str]) -> str:
    """Findings as a person reads them: "Pleural Thickening", not the label "Pleural_Thickening"."""
    return ", ".join(f.replace("_", " ") for f in findings)


def asked_text(asked: Iterable[str]) -> str:
    """What a quiz asks, in one short line: the names, or "all 14 findings" (each is on its button)."""
    asked = list(asked)
    return f"all {len(FINDINGS)} findings" if set(asked) >= set(FINDINGS) else finding_names(asked)


def checked_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Labels as stored: normalised, asked-vocabulary order, no duplicates."""
    names = {normalise_label(label) for label in labels}
    return tuple(f for f in FINDINGS if f in names)
