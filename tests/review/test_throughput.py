"""Throughput with a fake clock: hand-computed seconds per image, images per hour and medians,
idle gaps over 5 minutes left out, a re-save counting only the time since the first save."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cxrviz.review import throughput
from cxrviz.review.throughput import ACTIVE, SHOWN, Save, View


class FakeClock:
    """Server time that moves only when told: `clock()` is an ISO stamp as the store writes them."""

    def __init__(self, start: str = "2026-03-02T09:00:00Z") -> None:
        self.now = datetime.fromisoformat(start.replace("Z", "+00:00"))

    def advance(self, seconds: float) -> FakeClock:
        self.now += timedelta(seconds=seconds)
        return self

    def __call__(self) -> str:
        return self.now.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _ann_session():
    clock, views, saves = FakeClock(), [], []

    def show(image, kind=SHOWN, campaign=None):
        views.append(View("Dr Ann", image, clock(), kind, campaign))

    def save(image):
        saves.append(Save("dr ann", image, clock()))  # the same reader however the name is cased

    show("a.png")
    clock.advance(40)
    save("a.png")  # 40 s
    show("b.png")
    clock.advance(60)
    save("b.png")  # 60 s
    show("c.png")
    clock.advance(1000)
    save("c.png")  # 1000 s with nothing in between: idle, left out
    show("d.png")
    clock.advance(200)
    show("d.png", ACTIVE)
    clock.advance(60)
    show("d.png", ACTIVE)
    clock.advance(600)
    save("d.png")  # gaps 200 + 60 active, 600 idle: 260 s
    show("e.png")
    clock.advance(30)
    save("e.png")  # 30 s
    clock.advance(10)
    save("e.png")  # saved again on the same showing: 10 s more, not 40
    return views, saves


def test_seconds_per_reading_leave_idle_gaps_out():
    views, saves = _ann_session()
    found = throughput.readings(views, saves)
    assert [(r.image, r.seconds, r.idle_seconds) for r in found] == [
        ("a.png", 40.0, 0.0), ("b.png", 60.0, 0.0), ("c.png", None, 1000.0), ("d.png", 260.0, 600.0),
        ("e.png", 30.0, 0.0), ("e.png", 10.0, 0.0)]


def test_rates_are_the_hand_computed_ones():
    views, saves = _ann_session()
    (ann,) = throughput.rates(throughput.readings(views, saves))
    # images with a time: a 40, b 60, d 260, e 30+10 = 400 s for 4 images
    assert ann.reader == "dr ann" and ann.images == 4 and ann.left_out == 1
    assert ann.active_hours == pytest.approx(400 / 3600)
    assert ann.images_per_hour == pytest.approx(36.0)  # 4 / (400 s / 3600)
    assert ann.median_seconds == pytest.approx(50.0)  # median of 40, 40, 60, 260
    assert ann.row() == {"reader": "dr ann", "images": 4, "active hours": 0.111, "images per hour": 36.0,
                         "median seconds per image": 50.0, "readings left out": 1}


def test_the_five_minute_boundary_the_latest_showing_and_saves_never_shown():
    clock = FakeClock()
    views = [View("bob", "a.png", clock(), SHOWN, 7), View("dan", "a.png", clock())]
    saves = [Save("carol", "a.png", clock.advance(50)())]  # carol never had it shown: no time
    views.append(View("carol", "a.png", clock.advance(10)()))  # a showing after her save does not count for it
    saves.append(Save("bob", "a.png", clock.advance(240)()))  # exactly 300 s after bob's showing: not idle
    views.append(View("bob", "b.png", clock()))
    saves.append(Save("bob", "b.png", clock.advance(1.5)()))
    views.append(View("dan", "a.png", clock.advance(198.5)()))  # dan came back to it at 500 s
    saves.append(Save("dan", "a.png", clock.advance(20)()))  # 20 s after his latest showing, not 520
    found = {(r.reader, r.image): r for r in throughput.readings(views, saves)}
    assert found["carol", "a.png"].seconds is None and found["carol", "a.png"].started_at is None
    assert found["bob", "a.png"].seconds == pytest.approx(300.0) and found["bob", "a.png"].campaign == 7
    assert found["dan", "a.png"].seconds == pytest.approx(20.0)
    rates = {r.reader: r for r in throughput.rates(found.values())}
    assert rates["bob"].images == 2 and rates["bob"].images_per_hour == pytest.approx(2 / (301.5 / 3600))  # 23.88
    assert rates["bob"].median_seconds == pytest.approx(150.75)
    assert rates["carol"].images == 0 and rates["carol"].left_out == 1 and rates["carol"].images_per_hour is None
    assert throughput.in_campaign(found.values(), 7) == [found["bob", "a.png"]]


def test_campaigns_and_who_sees_what():
    clock = FakeClock()
    views = [View("ann", "x.png", clock()), View("bob", "x.png", clock()), View("bob", "y.png", clock(), SHOWN, 2)]
    saves = [Save("ann", "x.png", clock.advance(10)()), Save("bob", "x.png", clock()), Save("bob", "y.png", clock.advance(5)())]
    found = throughput.with_campaigns(throughput.readings(views, saves), {("ann", "x.png"): {1}, ("bob", "x.png"): {1, 3}})
    assert [(r.reader, r.image, r.campaign) for r in found] == [("ann", "x.png", 1), ("bob", "x.png", None), ("bob", "y.png", 2)]
    everyone = throughput.visible_to(found, "ann", True, frozenset({"x.png"}))
    assert everyone == found  # an admin sees every reader
    ann_sees = throughput.visible_to(found, "Ann", False, frozenset({"x.png"}), frozenset({2}))
    assert [(r.reader, r.image) for r in ann_sees] == [("ann", "x.png")]  # bob's blind readings are not hers to see
    assert [(r.reader, r.image) for r in throughput.visible_to(found, "ann", False, frozenset())] == [
        ("ann", "x.png"), ("bob", "x.png"), ("bob", "y.png")]  # nothing blind: the open campaign's figures are shared
    assert throughput.visible_to(found, None, False, frozenset({"x.png"}), frozenset({2})) == []


def test_per_image_seconds_for_the_export():
    views, saves = _ann_session()
    assert throughput.per_image_seconds(throughput.readings(views, saves)) == {
        ("dr ann", "a.png"): 40.0, ("dr ann", "b.png"): 60.0, ("dr ann", "d.png"): 260.0, ("dr ann", "e.png"): 40.0}


def test_a_session_records_a_showing_once_and_activity_at_most_once_a_minute():
    last = None
    recorded = []
    for reader, image, now in [("ann", "a.png", 0), ("ann", "a.png", 5), ("Ann", "a.png", 59.9), ("ann", "a.png", 60),
                               ("ann", "a.png", 100), ("ann", "b.png", 101), ("bob", "b.png", 102), ("bob", "a.png", 103)]:
        kind = throughput.next_event(last, reader, image, now)
        if kind is not None:
            recorded.append((reader, image, now, kind))
            last = throughput.LastView(reader.lower(), image, now)
    assert recorded == [("ann", "a.png", 0, SHOWN), ("ann", "a.png", 60, ACTIVE), ("ann", "b.png", 101, SHOWN),
                        ("bob", "b.png", 102, SHOWN), ("bob", "a.png", 103, SHOWN)]


def test_per_campaign_figures_count_each_readers_image():
    clock = FakeClock()
    views = [View("ann", "x.png", clock(), SHOWN, 1), View("bob", "x.png", clock(), SHOWN, 1), View("bob", "z.png", clock())]
    saves = [Save("ann", "x.png", clock.advance(30)()), Save("bob", "x.png", clock.advance(60)()), Save("bob", "z.png", clock.advance(10)())]
    found = throughput.readings(views, saves)  # ann x 30 s, bob x 90 s (both in campaign 1), bob z 100 s (no campaign)
    pilot, outside = throughput.campaign_rates(found, {1: "pilot", 2: "empty"})
    assert (pilot.reader, pilot.images, pilot.active_hours * 3600, pilot.median_seconds) == ("pilot", 2, pytest.approx(120.0), 60.0)
    assert pilot.images_per_hour == pytest.approx(60.0)  # 2 readings in 120 s
    assert (outside.reader, outside.images, outside.images_per_hour) == ("outside campaigns", 1, pytest.approx(36.0))
