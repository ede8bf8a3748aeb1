"""Review campaigns: which readers read which images, what a reader may see, and how each image's
final labels were reached. Pure functions over plain data; the store (`review/store/team.py`)
keeps campaigns and calls these.

- Assignment: each image gets exactly `readers_per_image` distinct readers, the work spread evenly
  (every reader gets the floor or the ceiling of images x readers_per_image / readers), in an
  order fixed by `seed`.
- Blind visibility: in a blind campaign a reader sees no other reader's labels or boxes for an
  image until they have decided it themselves (confirmed, corrected or uncertain; "skipped" is
  not a reading). An adjudicator or admin who is not a reader of the image sees everything (they
  are there to compare). `cxrviz.review.visibility` applies this to everything a viewer receives.
- Disagreement: the readers' label sets differ on any finding, or, for a finding they all
  marked, their boxes do not pair up at IoU >= 0.5.
- Outcome: "single reader" (one reading), "unanimous" (all readings agree), "adjudicated"
  (an adjudicator recorded the final labels), or "pending" (disagreement not settled yet).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from cxrviz.data.boxes import Box
from cxrviz.errors import CxrvizError
from cxrviz.findings import ALL_LABELS, FINDINGS, NO_FINDING
from cxrviz.review.boxes import MATCH_IOU, match
from cxrviz.review.identity import display_name, name_key
from cxrviz.review.roles import ADJUDICATE, allows

MAX_CAMPAIGN_NAME = 200
SINGLE, UNANIMOUS, ADJUDICATED, PENDING = "single reader", "unanimous", "adjudicated", "pending"
OUTCOMES = (SINGLE, UNANIMOUS, ADJUDICATED, PENDING)


class CampaignError(CxrvizError):
    """A campaign that cannot be made as asked (no images, too few readers, a bad name)."""


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    images: tuple[str, ...]
    readers: tuple[str, ...]
    readers_per_image: int = 2
    blind: bool = True
    hide_references: bool = True  # hide the NIH labels, expert boxes and the model from readers
    seed: int = 0


def check_spec(spec: CampaignSpec) -> CampaignSpec:
    """The spec cleaned (names trimmed, duplicates dropped, order kept), or `CampaignError`."""
    name = " ".join((spec.name or "").split())
    if not name:
        raise CampaignError("A campaign needs a name.")
    if len(name) > MAX_CAMPAIGN_NAME:
        raise CampaignError(f"A campaign name can be at most {MAX_CAMPAIGN_NAME} characters.")
    images = tuple(dict.fromkeys(i.strip() for i in spec.images if i and i.strip()))
    if not images:
        raise CampaignError("A campaign needs at least one image (a Browse filter with rows, or a list of names).")
    readers: dict[str, str] = {}
    for reader in spec.readers:
        readers.setdefault(name_key(reader), display_name(reader))
    n = spec.readers_per_image
    if not isinstance(n, int) or n < 1:
        raise CampaignError("Readers per image must be at least 1.")
    if n > len(readers):
        raise CampaignError(f"{n} readers per image needs at least {n} distinct readers; {len(readers)} chosen.")
    return CampaignSpec(name, images, tuple(readers.values()), n, bool(spec.blind), bool(spec.hide_references), int(spec.seed))


def assign(images: tuple[str, ...] | list[str], readers: tuple[str, ...] | list[str], per_image: int, seed: int = 0) -> dict[str, tuple[str, ...]]:
    """image -> its `per_image` distinct readers. The reader slots are dealt around a circle of
    the readers (shuffled by `seed`): image i takes the next `per_image` seats, so no image gets a
    reader twice and loads differ by at most one."""
    if per_image < 1 or per_image > len(readers):
        raise CampaignError(f"{per_image} readers per image needs at least {per_image} distinct readers; {len(readers)} given.")
    circle = list(readers)
    random.Random(seed).shuffle(circle)
    r = len(circle)
    return {image: tuple(circle[(i * per_image + j) % r] for j in range(per_image)) for i, image in enumerate(images)}


def can_see_others(blind: bool, viewer: str, assigned: tuple[str, ...] | list[str], submitted: set[str] | frozenset[str],
                   role: str | None) -> bool:
    """May `viewer` see other readers' labels and boxes for an image? `assigned` are its readers,
    `submitted` the name keys of those who decided it (`visibility.DECIDED`)."""
    if not blind:
        return True
    key = name_key(viewer)
    if key in submitted:
        return True
    if key in {name_key(a) for a in assigned}:
        return False  # an assigned reader who has not submitted yet: blind
    return allows(role, ADJUDICATE)  # an adjudicator or admin from outside the image's readers


def own_rows(rows: list[tuple], viewer: str) -> list[tuple]:
    """Of (reviewer, ...) rows, only the viewer's own: what a blind reader may see before saving."""
    key = name_key(viewer)
    return [row for row in rows if name_key(row[0]) == key]


def labels_disagree(readings: dict[str, frozenset[str] | set[str]]) -> list[str]:
    """The labels on which the readings differ (ticked by some, not all), in vocabulary order."""
    sets = [set(s) for s in readings.values()]
    if len(sets) < 2:
        return []
    union, common = set().union(*sets), set.intersection(*sets)
    return [label for label in ALL_LABELS if label in union - common]


def boxes_disagree(boxes: dict[str, dict[str, list[Box]]], findings: list[str] | set[str], threshold: float = MATCH_IOU) -> list[str]:
    """Findings whose boxes do not pair one-to-one at IoU >= threshold between every two readers.
    `boxes`: reader -> finding -> boxes. A reader with no box for a finding is not compared on it
    (drawing is optional; the labels already say whether they saw it)."""
    found = []
    readers = list(boxes)
    for finding in findings:
        drawn = [boxes[r].get(finding, []) for r in readers if boxes[r].get(finding)]
        for i in range(len(drawn)):
            for j in range(i + 1, len(drawn)):
                a, b = drawn[i], drawn[j]
                if len(a) != len(b) or len(match(a, b, threshold)) < len(a):
                    found.append(finding)
                    break
            else:
                continue
            break
    return found


def disagreement(readings: dict[str, frozenset[str] | set[str]], boxes: dict[str, dict[str, list[Box]]] | None = None) -> list[str]:
    """What the readers disagree on: labels, then "boxes: <finding>"; empty when they agree."""
    labels = labels_disagree(readings)
    shared = set.intersection(*[set(s) for s in readings.values()]) - {NO_FINDING} if readings else set()
    box_findings = boxes_disagree(boxes, sorted(shared)) if boxes and len(readings) > 1 else []
    return labels + [f"boxes: {f}" for f in box_findings]


def outcome(readings: dict[str, frozenset[str] | set[str]], adjudicated: frozenset[str] | set[str] | None,
            boxes: dict[str, dict[str, list[Box]]] | None = None, expected: int | None = None) -> tuple[tuple[str, ...] | None, str]:
    """(final labels in vocabulary order, how reached) for one image; labels None while pending:
    unread, fewer than the `expected` readings in, or a disagreement not adjudicated yet. An
    adjudication overrides whatever the readers said."""
    if adjudicated is not None:
        return tuple(label for label in ALL_LABELS if label in adjudicated), ADJUDICATED
    if not readings or (expected is not None and len(readings) < expected):
        return None, PENDING
    if len(readings) == 1:
        only = next(iter(readings.values()))
        return tuple(label for label in ALL_LABELS if label in only), SINGLE
    if disagreement(readings, boxes):
        return None, PENDING
    first = next(iter(readings.values()))
    return tuple(label for label in ALL_LABELS if label in first), UNANIMOUS


def progress(assignments: dict[str, tuple[str, ...]], submitted: set[tuple[str, str]]) -> tuple[list[dict], dict]:
    """Per reader (assigned, submitted, left) and for the campaign (images fully read, readings
    done of total). `submitted`: (image, reader name key) pairs with a saved reading."""
    per: dict[str, dict] = {}
    complete = done = total = 0
    for image, readers in assignments.items():
        all_in = True
        for reader in readers:
            row = per.setdefault(name_key(reader), {"reader": reader, "assigned": 0, "submitted": 0})
            row["assigned"] += 1
            total += 1
            if (image, name_key(reader)) in submitted:
                row["submitted"] += 1
                done += 1
            else:
                all_in = False
        complete += all_in
    rows = [{**r, "left": r["assigned"] - r["submitted"]} for r in per.values()]
    return sorted(rows, key=lambda r: r["reader"].casefold()), {
        "images": len(assignments), "images fully read": complete, "readings submitted": done, "readings assigned": total}


MAX_GAP_S = 600.0  # a gap longer than this between two saves is a break, not time spent on an image


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def reader_quality(images: list[dict], saved_at: dict[tuple[str, str], str]) -> list[dict]:
    """Per reader, against the final labels of images whose outcome is settled by more than one
    reader (unanimous or adjudicated): images compared, exact agreement (the whole label set),
    agreement per finding, and the median seconds between consecutive saves (breaks over
    `MAX_GAP_S` left out). `images` are `store.team.campaign_images` rows; `saved_at` maps
    (image, reader key) to the reading's first save time."""
    per_reader: dict[str, dict] = {}
    for row in images:
        final = row.get("final")
        if final is None or row.get("how") not in (UNANIMOUS, ADJUDICATED):
            continue
        final = set(final)
        for reader, labels in row["readings"].items():
            stats = per_reader.setdefault(reader, {"reader": reader, "compared": 0, "exact": 0,
                                                   "per_finding": {label: [0, 0] for label in ALL_LABELS}})
            stats["compared"] += 1
            stats["exact"] += set(labels) == final
            for label in ALL_LABELS:
                counts = stats["per_finding"][label]
                counts[0] += (label in labels) == (label in final)
                counts[1] += 1
    times: dict[str, list[float]] = {}
    for (image, reader), stamp in saved_at.items():
        times.setdefault(reader, []).append(_seconds(stamp))
    result = []
    for reader, stats in sorted(per_reader.items(), key=lambda kv: kv[0].casefold()):
        stamps = sorted(times.get(name_key(reader), []))
        gaps = [b - a for a, b in zip(stamps, stamps[1:]) if 0 <= b - a <= MAX_GAP_S]
        row = {"reader": reader, "images compared": stats["compared"],
               "exact agreement": stats["exact"] / stats["compared"],
               "median seconds per image": float(np.median(gaps)) if gaps else float("nan")}
        for label in FINDINGS:
            agree, n = stats["per_finding"][label]
            row[label] = agree / n if n else float("nan")
        result.append(row)
    return result
