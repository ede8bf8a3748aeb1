"""Reviewer boxes: the record, the rules a new box must pass, display <-> original coordinates,
and box agreement (IoU matching) between reviewers and against the NIH boxes.

A reviewer box lives in the ORIGINAL image frame (1024 px for NIH images, the file's own size
otherwise), whatever size, zoom or crop it was drawn at. Three kinds (`status`):

- ``drawn``: a new box for a finding;
- ``corrected``: a proposed replacement for an NIH box (`corrects` names that box);
- ``wrong``: an NIH box marked wrong (wrong finding or wrong place); it carries the NIH box's own
  coordinates. The NIH table itself is never altered: a correction is a new record pointing at it.

Rule for a finding the reviewer did not tick: the box is REFUSED with a message naming the finding
(tick it in the review form first). Labels stay the reviewer's own decision; drawing never changes
them behind their back. Marking an NIH box wrong needs no tick.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from cxrviz.data.boxes import Box, iou
from cxrviz.data.frames import Frame
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS

MAX_BOXES_PER_IMAGE = 20  # per reviewer and image
MATCH_IOU = 0.5
MIN_SIDE = 1.0  # pixels of the original frame
BOX_STATUSES = ("drawn", "corrected", "wrong")
SAME_BOX_PX = 2.0  # in the 1024 frame: two boxes of one reader this close on every side are one box saved twice


class BoxError(CxrvizError):
    """A box that cannot be kept: no area, outside the image, too many, an unticked finding, not yours."""


@dataclass(frozen=True)
class ReviewerBox:
    image: str
    reviewer: str
    finding: str
    x: float
    y: float
    w: float
    h: float
    frame_width: int  # the original image's size: the frame x, y, w, h are in
    frame_height: int
    status: str = "drawn"
    corrects: str | None = None  # an NIH box reference (`nih_ref`) for corrected / wrong
    id: int | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.w, self.h)

    def in_nih_frame(self) -> Box:
        """The box scaled into the 1024-px frame of BBox_List_2017.csv."""
        return Frame(self.frame_width, self.frame_height).to_nih(self.box)

    def in_frame(self, frame: Frame) -> Box:
        """The box in the original pixels of `frame` (the same image, at whatever size it was decoded)."""
        return frame.from_frame(self.box, self.frame_width, self.frame_height)


# ---- NIH box references -----------------------------------------------------------------

def nih_ref(image: str, finding: str, index: int) -> str:
    """An NIH box's identity: image, finding and its position among that image's boxes of that finding."""
    return f"{image}:{finding}:{index}"


def parse_nih_ref(ref: str) -> tuple[str, str, int]:
    try:
        image, finding, index = ref.rsplit(":", 2)
        return image, finding, int(index)
    except ValueError as exc:
        raise BoxError(f"{ref!r} does not name an NIH box (expected image:finding:index).") from exc


def nih_boxes_of(table: pd.DataFrame | None, image: str) -> list[tuple[str, str, Box]]:
    """(reference, finding, box in the 1024 frame) for each NIH box of the image, in table order."""
    if table is None:
        return []
    out, seen = [], {}
    for row in table[table["image"] == image].itertuples():
        index = seen.get(row.finding, 0)
        seen[row.finding] = index + 1
        out.append((nih_ref(image, row.finding, index), row.finding, Box(float(row.x), float(row.y), float(row.w), float(row.h))))
    return out


# ---- display <-> original coordinates ---------------------------------------------------

Viewport = Frame  # the name this module used before the frames were one type (`cxrviz.data.frames`)


# ---- rules ------------------------------------------------------------------------------

def clip(box: Box, width: int, height: int) -> tuple[Box, str | None]:
    """The box limited to the image; a message when anything was cut off. Negative sizes
    (drawn right-to-left) are turned round first."""
    x0, x1 = sorted((box.x, box.x + box.w))
    y0, y1 = sorted((box.y, box.y + box.h))
    cx0, cy0 = max(x0, 0.0), max(y0, 0.0)
    cx1, cy1 = min(x1, float(width)), min(y1, float(height))
    clipped = Box(cx0, cy0, max(cx1 - cx0, 0.0), max(cy1 - cy0, 0.0))
    if (cx0, cy0, cx1, cy1) == (x0, y0, x1, y1):
        return clipped, None
    return clipped, f"The box reached outside the {width}×{height} image and was clipped to its edge."


def check_box(box: ReviewerBox, ticked: set[str] | None = None) -> tuple[ReviewerBox, list[str]]:
    """The box as it will be kept (clipped to the image) and messages for the reviewer.

    Raises `BoxError` for an unknown finding or status, a box with no area (or none left inside the
    image), a `corrected` / `wrong` box that names no NIH box, and (when `ticked`, the reviewer's
    labels, is given) a drawn or corrected box for a finding they did not tick."""
    if box.finding not in FINDINGS:
        raise BoxError(f"{box.finding!r} is not one of the 14 findings a box can be drawn for.")
    if box.status not in BOX_STATUSES:
        raise BoxError(f"Unknown box status {box.status!r}; choose one of {', '.join(BOX_STATUSES)}.")
    if box.status in ("corrected", "wrong") and not box.corrects:
        raise BoxError(f"A {box.status} box must name the NIH box it is about.")
    if box.status == "drawn" and box.corrects:
        raise BoxError("A newly drawn box does not correct an NIH box; use status 'corrected'.")
    if box.frame_width <= 0 or box.frame_height <= 0:
        raise BoxError(f"The image size {box.frame_width}×{box.frame_height} is not a size.")
    if not all(np.isfinite(v) for v in (box.x, box.y, box.w, box.h)):
        raise BoxError("A box coordinate is not a number.")
    if box.w == 0 or box.h == 0:
        raise BoxError("The box has no area (zero width or height); drag out a rectangle.")
    kept, message = clip(box.box, box.frame_width, box.frame_height)
    if kept.w < MIN_SIDE or kept.h < MIN_SIDE:
        raise BoxError(f"The box lies outside the {box.frame_width}×{box.frame_height} image (or is under a pixel wide); nothing was saved.")
    if ticked is not None and box.status != "wrong" and box.finding not in ticked:
        raise BoxError(f"{box.finding} is not ticked in your review of {box.image}: tick it (and save) before drawing a box for it.")
    return replace(box, x=kept.x, y=kept.y, w=kept.w, h=kept.h), [message] if message else []


def same_box(a: ReviewerBox, b: ReviewerBox, tolerance: float = SAME_BOX_PX) -> bool:
    """One reader's box saved twice (a double click on Save, a resent form): same image, finding,
    kind and NIH box, and every coordinate within `tolerance` px of the 1024 frame."""
    if (a.image, a.finding, a.status, a.corrects or None) != (b.image, b.finding, b.status, b.corrects or None):
        return False
    return all(abs(p - q) <= tolerance for p, q in zip(a.in_nih_frame(), b.in_nih_frame()))


def check_count(existing: int, limit: int = MAX_BOXES_PER_IMAGE) -> None:
    if existing >= limit:
        raise BoxError(f"You already have {existing} boxes on this image; at most {limit} are kept per reviewer. Delete one first.")


# ---- matching and agreement -------------------------------------------------------------

def match(a: list[Box], b: list[Box], threshold: float = MATCH_IOU) -> list[tuple[int, int, float]]:
    """One-to-one pairs (i, j, IoU) maximising total IoU (Hungarian), keeping pairs at IoU >= threshold."""
    if not a or not b:
        return []
    scores = np.array([[iou(p, q) for q in b] for p in a])
    rows, cols = linear_sum_assignment(scores, maximize=True)
    return [(int(i), int(j), float(scores[i, j])) for i, j in zip(rows, cols) if scores[i, j] >= threshold]


def _tally(rows: dict, finding: str, a: list[Box], b: list[Box]) -> None:
    row = rows.setdefault(finding, {"comparisons": 0, "boxes": 0, "matched pairs": 0, "iou_sum": 0.0, "unmatched": 0})
    pairs = match(a, b)
    row["comparisons"] += 1
    row["boxes"] += len(a) + len(b)
    row["matched pairs"] += len(pairs)
    row["iou_sum"] += sum(p[2] for p in pairs)
    row["unmatched"] += len(a) + len(b) - 2 * len(pairs)


def _frame(rows: dict, first: str) -> pd.DataFrame:
    columns = ["finding", first, "boxes", "matched pairs", "mean IoU of matches", "unmatched boxes"]
    out = [[f, r["comparisons"], r["boxes"], r["matched pairs"],
            r["iou_sum"] / r["matched pairs"] if r["matched pairs"] else float("nan"), r["unmatched"]]
           for f, r in sorted(rows.items(), key=lambda kv: FINDINGS.index(kv[0]))]
    return pd.DataFrame(out, columns=columns)


def _evidence(boxes: list[ReviewerBox]) -> list[ReviewerBox]:
    return [b for b in boxes if b.status != "wrong"]


def reviewer_agreement(boxes: list[ReviewerBox]) -> pd.DataFrame:
    """Per finding, over every image and every pair of reviewers who both put boxes on it (any
    finding, so one reviewer's missing box counts as unmatched): matched pairs at IoU >= 0.5, their
    mean IoU, and unmatched boxes. Boxes are compared in the 1024 frame; `wrong` marks are not boxes."""
    by_image: dict[str, dict[str, list[ReviewerBox]]] = {}
    for b in _evidence(boxes):
        by_image.setdefault(b.image, {}).setdefault(b.reviewer, []).append(b)
    rows: dict = {}
    for per_reviewer in by_image.values():
        for r1, r2 in combinations(sorted(per_reviewer), 2):
            for finding in {b.finding for b in per_reviewer[r1] + per_reviewer[r2]}:
                _tally(rows, finding, [b.in_nih_frame() for b in per_reviewer[r1] if b.finding == finding],
                       [b.in_nih_frame() for b in per_reviewer[r2] if b.finding == finding])
    return _frame(rows, "reviewer pairs × images")


def nih_agreement(boxes: list[ReviewerBox], nih: pd.DataFrame | None) -> pd.DataFrame:
    """Per finding, each reviewer's boxes against the NIH boxes of the same image and finding,
    where both exist; plus how many NIH boxes reviewers marked wrong."""
    rows: dict = {}
    wrong: dict[str, int] = {}
    for b in boxes:
        if b.status == "wrong":
            wrong[b.finding] = wrong.get(b.finding, 0) + 1
    groups: dict[tuple[str, str, str], list[ReviewerBox]] = {}
    for b in _evidence(boxes):
        groups.setdefault((b.image, b.reviewer, b.finding), []).append(b)
    for (image, _reviewer, finding), mine in groups.items():
        theirs = [box for _, f, box in nih_boxes_of(nih, image) if f == finding]
        if theirs:
            _tally(rows, finding, [b.in_nih_frame() for b in mine], theirs)
    table = _frame(rows, "reviewer × image")
    table["NIH boxes marked wrong"] = [wrong.get(f, 0) for f in table["finding"]]
    extra = [f for f in wrong if f not in rows]
    if extra:
        more = pd.DataFrame([[f, 0, 0, 0, float("nan"), 0, wrong[f]] for f in extra], columns=table.columns)
        table = pd.concat([table, more], ignore_index=True) if len(table) else more
    return table
