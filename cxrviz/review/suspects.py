"""Which label of an image a label-audit queue suspects, and the sentence the review form shows.

The Label audit page hands the Review page a queue of images; these functions turn the table it
came from (cleanlab's suspect pairs, the NIH-versus-expert disagreements, the follow-up flips) into
a dict image -> suspects, built once per queue, so the Review page only looks its image up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from cxrviz.data.expert import NIH_EQUIVALENTS, SOURCE
from cxrviz.findings import ALL_LABELS

FLIP_DIRECTION = "probably missing here (a follow-up flip)"


@dataclass(frozen=True)
class Suspect:
    """One suspect label: `finding` as the queue names it (an NIH finding, or an expert finding
    such as 'Nodule or mass'), the `direction` it is probably wrong in, the evidence in `detail`,
    and the NIH labels (`marks`, form buttons) it concerns."""

    finding: str
    direction: str
    detail: str
    marks: tuple[str, ...]


def sentence(suspect: Suspect) -> str:
    """'Suspect: Effusion — probably spurious (cleanlab score 0.03; expert: absent)'."""
    return f"Suspect: {suspect.finding} — {suspect.direction}" + (f" ({suspect.detail})" if suspect.detail else "")


def marked_labels(suspects: Iterable[Suspect]) -> frozenset[str]:
    """The form's labels to mark for these suspects."""
    return frozenset(label for s in suspects for label in s.marks)


def _score(value: float) -> str:
    return f"{float(value):.2g}"


def _known(label: str) -> tuple[str, ...]:
    return (label,) if label in ALL_LABELS else ()


def _grouped(pairs: Iterable[tuple[str, Suspect]]) -> dict[str, tuple[Suspect, ...]]:
    out: dict[str, list[Suspect]] = {}
    for image, suspect in pairs:
        kept = out.setdefault(str(image), [])
        if suspect not in kept:
            kept.append(suspect)
    return {image: tuple(found) for image, found in out.items()}


def cleanlab_suspects(table: pd.DataFrame) -> dict[str, tuple[Suspect, ...]]:
    """From the suspect-label queue (`audit_run.suspect_queue`: image, finding, direction, score,
    expert, flagged), most suspect first per image as the table is ranked."""
    def one(row) -> Suspect:
        detail = f"cleanlab score {_score(row.score)}"
        if getattr(row, "expert", ""):
            detail += f"; expert: {row.expert}"
        if not bool(getattr(row, "flagged", True)):
            detail += "; not flagged by confident learning"
        return Suspect(str(row.finding), str(row.direction), detail, _known(str(row.finding)))

    return _grouped((row.image, one(row)) for row in table.itertuples(index=False))


def expert_suspects(found: pd.DataFrame, nih_of: Callable[[str], Iterable[str] | None] | None = None) -> dict[str, tuple[Suspect, ...]]:
    """From the NIH-versus-expert disagreements (`expert.disagreements`: image, finding (expert),
    expert (bool), direction). Marks the NIH findings the expert finding maps to: for 'NIH
    over-calls it', those the image carries (`nih_of`, e.g. `Metadata.findings_of`), else all."""
    def one(row) -> Suspect:
        equivalents = NIH_EQUIVALENTS.get(str(row.finding), ())
        held = set(nih_of(row.image) or ()) if nih_of is not None else set(equivalents)
        if row.expert:  # NIH missed it: any of the equivalents would have been right
            marks = tuple(equivalents)
            nih = "absent" if len(equivalents) < 2 else f"none of {', '.join(equivalents)}"
        else:  # NIH over-calls it: the equivalents the image carries
            marks = tuple(f for f in equivalents if f in held) or tuple(equivalents)
            nih = ", ".join(marks) or "present"
        detail = f"{SOURCE}: {'present' if row.expert else 'absent'}; NIH: {nih}"
        return Suspect(str(row.finding), str(row.direction), detail, marks)

    return _grouped((row.image, one(row)) for row in found.itertuples(index=False))


def flip_suspects(flips: pd.DataFrame) -> dict[str, tuple[Suspect, ...]]:
    """From the follow-up flips (`followups.follow_up_flips`: image, finding, follow_up): the
    finding present in the patient's prior and next study but absent from this one."""
    def one(row) -> Suspect:
        at = "" if pd.isna(row.follow_up) else f", follow-up {int(row.follow_up)}"
        return Suspect(str(row.finding), FLIP_DIRECTION,
                       f"present in the patient's prior and next study, absent in this one{at}", _known(str(row.finding)))

    return _grouped((row.image, one(row)) for row in flips.itertuples(index=False))
