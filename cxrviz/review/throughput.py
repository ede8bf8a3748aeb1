"""Each reader's throughput, measured on the server: seconds on each image, images per hour, per
reader and per campaign. Pure rules over plain events; the store reads them
(`review/store/views.py`), the Agreement page draws them (`app/throughput_view.py`).

The events, all stamped by the server's clock (never the browser's):

- *shown*: the Review page drew `image` for `reader` (once per image shown, not per rerun);
- *active*: the reader was still working on the image shown (a click on the page, at most one a
  minute: `ACTIVE_EVERY_S`);
- *save*: the reader saved a review of the image (the audit log's create and update entries).

A *reading* is one save. It starts at the latest showing of that image to that reader at or before
the save; when the reader saved the same image already since that showing, it starts at that
earlier save instead (a second save of one showing counts only the time since the first). The
points of a reading are its start, the reader's *active* events on that image in between, and the
save. A gap between two consecutive points longer than `IDLE_GAP_S` (5 minutes) is idle and left
out; the others add up to the reading's active seconds. A reading with no active second left (one
gap of over 5 minutes and nothing in between: the reader may have gone for coffee) or without any
showing before it (saved before views were recorded, imported, from the CLI) has no time: it is
counted under "left out" and in no rate or median.

Per reader: the images they saved with a time, their active hours (the readings' seconds added
up), images per hour (images / active hours) and the median seconds per image (an image read twice
counts its two readings' seconds together). A skipped image is work done and counts like any other.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cxrviz.review.identity import name_key

IDLE_GAP_S = 300.0  # a gap over this between two points of a reading is idle: left out
ACTIVE_EVERY_S = 60.0  # the Review page records an "active" event at most this often per image shown
SHOWN, ACTIVE = "shown", "active"


def seconds_of(stamp: str | float) -> float:
    """A stored ISO-8601 UTC stamp ("…Z") as epoch seconds; a number is taken as is."""
    if isinstance(stamp, (int, float)):
        return float(stamp)
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class View:
    """An image shown to a reader (`kind` SHOWN), or the reader active on it (`kind` ACTIVE)."""

    reader: str
    image: str
    at: str | float
    kind: str = SHOWN
    campaign: int | None = None


@dataclass(frozen=True)
class Save:
    reader: str
    image: str
    at: str | float


@dataclass(frozen=True)
class Reading:
    """One save with the time it took: `seconds` None when unknown (never shown, or all idle)."""

    reader: str
    image: str
    campaign: int | None
    started_at: float | None
    saved_at: float
    seconds: float | None
    idle_seconds: float


def readings(views: Iterable[View], saves: Iterable[Save]) -> list[Reading]:
    """One `Reading` per save, in save order (see the module docstring for the rules)."""
    shown: dict[tuple[str, str], list[tuple[float, int | None]]] = {}
    active: dict[tuple[str, str], list[float]] = {}
    for view in views:
        key = (name_key(view.reader), view.image)
        if view.kind == SHOWN:
            shown.setdefault(key, []).append((seconds_of(view.at), view.campaign))
        elif view.kind == ACTIVE:
            active.setdefault(key, []).append(seconds_of(view.at))
        else:
            raise ValueError(f"unknown view kind {view.kind!r}")
    for times in shown.values():
        times.sort(key=lambda t: t[0])
    last_save: dict[tuple[str, str], float] = {}
    result = []
    for save in sorted(saves, key=lambda s: seconds_of(s.at)):
        key, at = (name_key(save.reader), save.image), seconds_of(save.at)
        before = [t for t in shown.get(key, ()) if t[0] <= at]
        previous = last_save.get(key)
        last_save[key] = at
        if not before:
            result.append(Reading(save.reader, save.image, None, None, at, None, 0.0))
            continue
        start, campaign = before[-1]
        if previous is not None and previous >= start:
            start = previous
        points = [start, *sorted(t for t in active.get(key, ()) if start < t < at), at]
        gaps = [b - a for a, b in zip(points, points[1:])]
        busy = sum(g for g in gaps if g <= IDLE_GAP_S)
        idle = sum(g for g in gaps if g > IDLE_GAP_S)
        result.append(Reading(save.reader, save.image, campaign, start, at, busy if busy > 0 or idle == 0 else None, idle))
    return result


ROW_COLUMNS = ("reader", "images", "active hours", "images per hour", "median seconds per image", "readings left out")


@dataclass(frozen=True)
class ReaderRate:
    reader: str
    images: int  # images saved with a known time
    left_out: int  # readings without a time (never shown, or idle throughout)
    active_hours: float
    images_per_hour: float | None  # None: no active time
    median_seconds: float | None

    def row(self) -> dict:
        """As the page's table shows it."""
        values = (self.reader, self.images, round(self.active_hours, 3),
                  None if self.images_per_hour is None else round(self.images_per_hour, 1),
                  None if self.median_seconds is None else round(self.median_seconds, 1), self.left_out)
        return dict(zip(ROW_COLUMNS, values))


def per_image_seconds(found: Iterable[Reading]) -> dict[tuple[str, str], float]:
    """(reader key, image) -> the active seconds of its timed readings added up; images whose
    readings all lack a time are absent (the export's `seconds_on_image` stays empty)."""
    total: dict[tuple[str, str], float] = {}
    for reading in found:
        if reading.seconds is not None:
            key = (name_key(reading.reader), reading.image)
            total[key] = total.get(key, 0.0) + reading.seconds
    return total


def summary(found: Iterable[Reading], label: str) -> ReaderRate:
    """The figures of a set of readings under one `label` (a reader, a campaign): an image read by
    two readers is two images read."""
    found = list(found)
    seconds = list(per_image_seconds(found).values())
    total = sum(seconds)
    return ReaderRate(label, len(seconds), sum(r.seconds is None for r in found), total / 3600.0,
                      len(seconds) / (total / 3600.0) if total > 0 else None, statistics.median(seconds) if seconds else None)


def rates(found: Iterable[Reading]) -> list[ReaderRate]:
    """Per reader (by name, case-insensitively), from their readings."""
    by_reader: dict[str, list[Reading]] = {}
    for reading in found:
        by_reader.setdefault(name_key(reading.reader), []).append(reading)
    return [summary(mine, mine[0].reader) for _, mine in sorted(by_reader.items(), key=lambda kv: kv[1][0].reader.casefold())]


def campaign_rates(found: Iterable[Reading], names: dict[int, str], outside: str = "outside campaigns") -> list[ReaderRate]:
    """Per campaign (`names`: id -> label, in that order), then the readings of no campaign; only
    those with readings."""
    found = list(found)
    groups = [(names[c], [r for r in found if r.campaign == c]) for c in names]
    groups.append((outside, [r for r in found if r.campaign not in names]))
    return [summary(readings_, label) for label, readings_ in groups if readings_]


def in_campaign(found: Iterable[Reading], campaign: int | None) -> list[Reading]:
    """The readings of one campaign; None: all of them."""
    return [r for r in found if campaign is None or r.campaign == campaign]


def visible_to(found: Iterable[Reading], viewer: str | None, sees_all: bool, blind_images: frozenset[str] | set[str],
               blind_campaigns: frozenset[int] | set[int] = frozenset()) -> list[Reading]:
    """What a viewer may see of the readings: an admin (`sees_all`) everything; anyone else their
    own readings, and of other readers only those outside blind campaigns (neither an image of
    one nor a reading made in one). Nobody (None) sees only the readings outside blind campaigns."""
    if sees_all:
        return list(found)
    own = name_key(viewer) if viewer else None
    return [r for r in found if (own is not None and name_key(r.reader) == own)
            or (r.image not in blind_images and r.campaign not in blind_campaigns)]


def with_campaigns(found: Iterable[Reading], assigned: dict[tuple[str, str], set[int]]) -> list[Reading]:
    """A reading shown from another queue (no campaign) belongs to the campaign that assigned the
    image to its reader, when exactly one did; `assigned`: (reader key, image) -> campaign ids."""
    result = []
    for reading in found:
        ids = assigned.get((name_key(reading.reader), reading.image), set())
        if reading.campaign is None and len(ids) == 1:
            reading = Reading(reading.reader, reading.image, next(iter(ids)), reading.started_at, reading.saved_at,
                              reading.seconds, reading.idle_seconds)
        result.append(reading)
    return result


@dataclass(frozen=True)
class LastView:
    """What a session recorded last: for whom, which image, when (epoch seconds)."""

    reader_key: str
    image: str
    at: float


def next_event(last: LastView | None, reader: str, image: str, now: float) -> str | None:
    """What a run of the Review page records: SHOWN for an image newly drawn for this reader,
    ACTIVE for the same image when the last record is `ACTIVE_EVERY_S` old or more, else nothing
    (a rerun of the same image within a minute writes nothing)."""
    if last is None or last.reader_key != name_key(reader) or last.image != image:
        return SHOWN
    return ACTIVE if now - last.at >= ACTIVE_EVERY_S else None
