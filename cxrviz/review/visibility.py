"""What one viewer may receive of other readers' work in blind campaigns: the one gate that every
page, download and export goes through. Pure rules over plain data; the store reads the data
(`review/store/team.py`: `visibility`, `image_under_review`, `under_review`, `visible_reviews`,
`visible_boxes`, `shared_with`) in one transaction and hands pages only what these rules let through.

- An image is *locked* for a viewer while it belongs to a blind campaign and the viewer may not
  see its other readings there (`campaigns.can_see_others`): an assigned reader until they have
  *decided* it (confirmed, corrected or uncertain; "skipped" decides nothing and unlocks
  nothing), anyone else unless they are an adjudicator or admin. Of a locked image the viewer
  receives only their own review and boxes: no other reader's name, labels, note, boxes or count.
- References (NIH labels and boxes, the model, the expert note, suspects) are hidden from an
  assigned reader of a "hide references" campaign until they have decided the image.
- A save made while other readings of a blind-campaign image were open to the one saving is
  marked `others_visible` in the audit log (`saved_after_seeing`); the adjudicator is shown which
  readings those are and what the reader's first independent reading said (`reading_history`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.campaigns import can_see_others
from cxrviz.review.identity import name_key
from cxrviz.review.record import Review

DECIDED = frozenset({"confirmed", "corrected", "uncertain"})  # a reading that unlocks others' readings
OTHERS_VISIBLE = "others_visible"  # the key in `audit_log.new_values`
NOT_SHOWN = "not shown until you read it"  # a campaign image's outcome, to a reader who has not


@dataclass(frozen=True)
class Assignment:
    """One reader of one image in one campaign, with the campaign's two switches."""

    campaign_id: int
    image: str
    reader_key: str
    blind: bool
    hide_references: bool


@dataclass(frozen=True)
class Visibility:
    """What `viewer` may receive. `locked`: images whose other readings are withheld from them;
    `references_hidden`: images whose references are; `unread`: images of blind campaigns assigned
    to them that they have not decided yet (their work left); `blind`: every image of a blind
    campaign (a save of one after seeing others' readings is audited as such)."""

    viewer: str | None
    locked: frozenset[str] = frozenset()
    references_hidden: frozenset[str] = frozenset()
    unread: frozenset[str] = frozenset()
    blind: frozenset[str] = frozenset()

    def may_see_others(self, image: str) -> bool:
        return image not in self.locked

    def hides_references(self, image: str) -> bool:
        return image in self.references_hidden

    def is_own(self, reviewer: str) -> bool:
        return self.viewer is not None and name_key(reviewer) == name_key(self.viewer)

    def reviews(self, reviews: list[Review]) -> list[Review]:
        """The reviews the viewer may receive: all but other people's reviews of locked images."""
        return [r for r in reviews if r.image not in self.locked or self.is_own(r.reviewer)]

    def boxes(self, boxes: list[ReviewerBox]) -> list[ReviewerBox]:
        return [b for b in boxes if b.image not in self.locked or self.is_own(b.reviewer)]

    def reports(self, reports: list) -> list:
        """Report versions (`reports.ReportVersion`), as reviews: others' of locked images withheld."""
        return [r for r in reports if r.image not in self.locked or self.is_own(r.reviewer)]

    def measurements(self, measurements: list) -> list:
        """Measurements (`review.measurements.Measurement`) follow the boxes' rule."""
        return [m for m in measurements if m.image not in self.locked or self.is_own(m.reviewer)]

    def export_notice(self) -> str:
        """A sentence on what an export for this viewer leaves out, or "" when nothing."""
        parts = []
        if self.locked:
            parts.append(f"other readers' work on the {len(self.locked)} blind-campaign images you may not see yet is left out")
        if self.references_hidden:
            parts.append(f"the NIH labels of the {len(self.references_hidden)} images whose references are hidden "
                         "from you until you read them are left out")
        text = "; ".join(parts) + "."
        return text[0].upper() + text[1:] if parts else ""

    def images(self, images: set[str] | frozenset[str]) -> set[str]:
        """Of images someone has worked on, those the viewer may know about (locked ones dropped)."""
        return {i for i in images if i not in self.locked}


EVERYTHING = Visibility(viewer=None)  # the operator running the CLI on the database itself, without --as


def decide(viewer: str | None, role: str | None, assignments: list[Assignment], decided: set[tuple[str, str]]) -> Visibility:
    """The viewer's `Visibility` from the assignments of the campaigns that restrict anything and
    `decided`, the (image, reader key) pairs with a confirmed, corrected or uncertain review.
    A viewer of None (no name given) is nobody: every blind-campaign image is locked for them."""
    key = name_key(viewer) if viewer else None
    readers: dict[tuple[int, str], list[str]] = {}
    blind: dict[tuple[int, str], bool] = {}
    hidden, unread = set(), set()
    for a in assignments:
        readers.setdefault((a.campaign_id, a.image), []).append(a.reader_key)
        blind[(a.campaign_id, a.image)] = a.blind
        if a.reader_key == key and (a.image, key) not in decided:
            if a.hide_references:
                hidden.add(a.image)
            if a.blind:
                unread.add(a.image)
    submitted: dict[str, set[str]] = {}
    for image, reader in decided:
        submitted.setdefault(image, set()).add(reader)
    locked = set()
    for (campaign, image), keys in readers.items():
        if not blind[(campaign, image)]:
            continue
        if key is None or not can_see_others(True, viewer, keys, submitted.get(image, set()), role):
            locked.add(image)
    in_blind = frozenset(image for (_, image), is_blind in blind.items() if is_blind)
    return Visibility(viewer, frozenset(locked), frozenset(hidden), frozenset(unread), in_blind)


@dataclass(frozen=True)
class ImageUnderReview:
    """One image as one viewer may see it: their own review, the others' (None while locked),
    whether references are hidden, every box they may see, and the viewer's whole `Visibility`
    (for the page's downloads and notices)."""

    image: str
    own: Review | None
    others: tuple[Review, ...] | None
    references_hidden: bool
    boxes: tuple[ReviewerBox, ...]
    visibility: Visibility = field(repr=False)

    @property
    def blind(self) -> bool:
        return self.others is None

    @property
    def saves_audited_as_seen(self) -> bool:
        """A blind-campaign image whose other readings this viewer sees: their next save is not
        an independent reading, and the audit says so."""
        return self.others is not None and bool(self.others) and self.image in self.visibility.blind


def image_view(image: str, visibility: Visibility, reviews: list[Review], boxes: list[ReviewerBox]) -> ImageUnderReview:
    """`ImageUnderReview` from the image's reviews and boxes as read from the store."""
    own = next((r for r in reviews if visibility.is_own(r.reviewer)), None)
    others = None
    if visibility.may_see_others(image):
        others = tuple(r for r in reviews if not visibility.is_own(r.reviewer))
    return ImageUnderReview(image, own, others, visibility.hides_references(image), tuple(visibility.boxes(boxes)), visibility)


@dataclass(frozen=True)
class Shared:
    """What an export may hold for one viewer (`store.team.shared_with`): the reviews and boxes
    they may receive; the export files are built from these and nothing else. Images whose
    references are hidden from the viewer lose their NIH labels in the corrections CSV and their
    row in the Data_Entry CSV."""

    visibility: Visibility
    reviews: list[Review]
    boxes: list[ReviewerBox]
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)  # (reviewer key, image) -> seconds on it

    def corrections_csv(self, metadata) -> bytes:
        from cxrviz.review.export import corrections_csv

        return corrections_csv(self.reviews, metadata, hide_original=self.visibility.references_hidden, seconds=self.seconds)

    def data_entry_csv(self, metadata) -> bytes:
        from cxrviz.review.export import data_entry_csv

        return data_entry_csv(self.reviews, metadata, leave_out=self.visibility.references_hidden)

    def boxes_csv(self) -> bytes:
        from cxrviz.review.box_export import boxes_csv

        return boxes_csv(self.boxes)

    def boxes_coco(self) -> bytes:
        from cxrviz.review.box_export import boxes_coco

        return boxes_coco(self.boxes)

    def notice(self) -> str:
        return self.visibility.export_notice()


def unknown_view(image: str, viewer: str | None) -> ImageUnderReview:
    """What a page shows when the store cannot be read: nobody's readings, no references."""
    return ImageUnderReview(image, None, None, True, (), Visibility(viewer, frozenset({image}), frozenset({image})))


def saved_after_seeing(in_blind_campaign: bool, could_see_before: bool, decided_before: bool, others_exist: bool) -> bool:
    """Is a save of a blind-campaign image not an independent reading? It is not when other
    readings existed and the one saving could see them: the gate let them through before this
    save, or they had decided the image before (and so had it unlocked, even if they re-saved
    it as skipped since)."""
    return in_blind_campaign and others_exist and (could_see_before or decided_before)


def reading_history(entries: list[dict]) -> dict[str, dict]:
    """Per reviewer key, from the audit log of one image (oldest first): whether their latest
    save was made after others' readings were visible, and their first decided reading (labels,
    status, at) as it was before anything was visible."""
    found: dict[str, dict] = {}
    for entry in entries:
        values = json.loads(entry["new_values"]) if entry.get("new_values") else {}
        row = found.setdefault(name_key(entry["reviewer"]), {"others_visible": False, "independent": None})
        row["others_visible"] = bool(values.get(OTHERS_VISIBLE))
        if row["independent"] is None and not values.get(OTHERS_VISIBLE) and values.get("status") in DECIDED:
            row["independent"] = {"labels": values.get("labels", ""), "status": values["status"], "at": entry["at"]}
    return found
