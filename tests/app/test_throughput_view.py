"""Throughput in the app: the Review page records an image once per showing (not per rerun) and
its save is timed from there; the Agreement page's Throughput section shows a blind campaign's
reader only their own figures and an admin everyone's, with hand-computed rates."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from cxrviz.app import throughput_view
from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.store import Store, team, views
from tests.app.test_auth import AUTH
from tests.conftest import BOXED_1024, REPO, RGBA_1024, SMALL_512
from tests.review.test_throughput import FakeClock

TIMEOUT = 240
IMAGES = (BOXED_1024, RGBA_1024, SMALL_512)


def _kinds(store: Store, reader: str) -> list[tuple[str, str]]:
    throughput_view.flush()
    return [(v.kind, v.image) for v in views.views(store, reader)]


def test_the_review_page_records_each_image_once_and_times_its_save(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("pages/review.py")
    at.run()
    at.text_input(key="reviewer").input("Dr Timer").run()
    assert not at.exception, [e.value for e in at.exception]
    first = at.session_state["image"]
    assert _kinds(store, "dr timer") == [("shown", first)]
    at.button(key=f"lab_{first}_Hernia").click().run()  # a rerun of the same image within a minute: nothing written
    assert _kinds(store, "dr timer") == [("shown", first)]
    at.button(key=f"save_{first}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    second = at.session_state["image"]
    assert second != first and _kinds(store, "dr timer") == [("shown", first), ("shown", second)]
    (reading,) = views.readings(store)
    assert reading.image == first and reading.seconds is not None and 0 <= reading.seconds < 240


def _seed(store: Store) -> int:
    """A blind campaign read by bob and cy with a fake clock: bob 3 images in 30+60+90 s, cy 2 in 100+200 s,
    one more of cy's idle for 10 minutes (left out)."""
    team.sign_in(store, "ann@example.org")  # the first user: admin
    for reader in ("bob@example.org", "cy@example.org"):
        team.set_role(store, "ann@example.org", reader, "reader")
    cid = team.create_campaign(store, "ann@example.org", CampaignSpec("pilot", IMAGES, ("bob@example.org", "cy@example.org"), 2, True))
    clock = FakeClock()
    for reader, times in (("bob@example.org", (30, 60, 90)), ("cy@example.org", (100, 200, 600.5))):
        for image, seconds in zip(IMAGES, times):
            views.record_view(store, image, reader, campaign_id=cid, at=clock())
            store.save_review(image, reader, [], "confirmed", at=clock.advance(seconds)())
    return cid


def _throughput_table(email: str) -> tuple[AppTest, pd.DataFrame]:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.user = {"is_logged_in": True, "name": email.split("@")[0], "email": email}
    at.secrets = AUTH
    at.switch_page("pages/agreement.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.subheader if s.value == "Throughput"]
    tables = [d.value for d in at.dataframe if "images per hour" in d.value.columns and "reader" in d.value.columns]
    assert len(tables) == 1
    return at, tables[0]


def test_a_blind_reader_sees_only_their_own_throughput_and_an_admin_everyone(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    cid = _seed(store)
    at, cy = _throughput_table("cy@example.org")
    assert cy.to_dict("records") == [{"reader": "cy@example.org", "images": 2, "active hours": 0.083, "images per hour": 24.0,
                                      "median seconds per image": 150.0, "readings left out": 1}]  # 2 / (300 s / 3600)
    assert not any("bob" in d.value.to_string() for d in at.dataframe)
    assert [c for c in at.caption if "you see only your own figures" in c.value]
    (campaign,) = [d.value for d in at.dataframe if "campaign" in d.value.columns]
    assert campaign[["images", "images per hour"]].to_dict("records") == [{"images": 2, "images per hour": 24.0}]  # hers alone

    at, everyone = _throughput_table("ann@example.org")
    assert everyone.set_index("reader")["images per hour"].to_dict() == {"bob@example.org": 60.0, "cy@example.org": 24.0}  # 3 / 180 s
    assert everyone.set_index("reader")["median seconds per image"].to_dict() == {"bob@example.org": 60.0, "cy@example.org": 150.0}
    assert [c for c in at.caption if "every reader's figures" in c.value]
    (campaigns,) = [d.value for d in at.dataframe if "campaign" in d.value.columns]
    assert campaigns.to_dict("records") == [{"campaign": "Campaign 1: pilot (blind)", "images": 5, "active hours": 0.133,
                                             "images per hour": 37.5, "median seconds per image": 90.0, "readings left out": 1}]
    at.selectbox(key="throughput_campaign").set_value(cid).run()  # the campaign alone: the same readings
    assert [d.value for d in at.dataframe if "reader" in d.value.columns][0]["images"].tolist() == [3, 2]


def test_the_plots_show_a_name_as_written_and_survive_readings_without_time():
    from cxrviz.review import throughput

    rates = [throughput.ReaderRate("<b>Eve</b>", 1, 0, 10 / 3600, 360.0, 10.0), throughput.ReaderRate("zero", 1, 0, 0.0, None, 0.0)]
    per_image = pd.DataFrame([{"reader": "<b>Eve</b>", "image": "a.png", "seconds": 10.0}, {"reader": "zero", "image": "b.png", "seconds": 0.0}])
    chart, spread = throughput_view.figure(rates, per_image)
    assert list(chart.data[0].x) == ["&lt;b&gt;Eve&lt;/b&gt;"] and list(chart.data[0].y) == [360.0]  # no rate, no bar
    assert sorted(x for trace in spread.data for x in trace.x) == ["&lt;b&gt;Eve&lt;/b&gt;", "zero"]
    empty, _ = throughput_view.figure(rates[1:], per_image[1:])
    assert len(empty.data[0].x) == 0
