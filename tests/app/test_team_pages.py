"""The Admin and Adjudication pages through AppTest, signed in as an admin, an adjudicator and a
reader: roles, a campaign from a list of names, blind reading on the Review page, adjudication and
the export."""

from __future__ import annotations

import csv
import io

from streamlit.testing.v1 import AppTest

from cxrviz.review.adjudicated_export import adjudicated_csv
from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.store import Store, team
from tests.app.test_auth import AUTH
from tests.conftest import BOXED_1024, REPO, RGBA_1024, SMALL_512

TIMEOUT = 240
IMAGES = (BOXED_1024, RGBA_1024, SMALL_512)


def _as(email: str, page: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.user = {"is_logged_in": True, "name": email.split("@")[0], "email": email}
    at.secrets = AUTH
    at.switch_page(page)
    return at.run()


def test_admin_sets_roles_and_creates_a_campaign_and_a_reader_is_refused(app_env):
    at = _as("ann@example.org", "pages/admin.py")  # first user: admin
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="role_new_user").set_value("bob@example.org")
    at.selectbox(key="role_value").set_value("reader")
    at.button[0].click().run()  # the form's submit button
    store = Store(str(app_env / "reviews.sqlite"))
    assert team.role_of(store, "bob@example.org") == "reader"
    team.set_role(store, "ann@example.org", "cy@example.org", "reader")

    at = _as("ann@example.org", "pages/admin.py")
    at.text_input(key="campaign_name").set_value("pilot")
    at.radio(key="campaign_source").set_value("List of image names")
    at.text_area(key="campaign_names").set_value("\n".join(IMAGES))
    at.multiselect(key="campaign_readers").set_value(["bob@example.org", "cy@example.org"])
    submit = [b for b in at.button if b.label == "Create campaign"][0]
    submit.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == ["Campaign 1 created with 3 images."]
    assert {i: len(r) for i, r in team.assignments_of(store, 1).items()} == {i: 2 for i in IMAGES}
    assert {m.label: m.value for m in at.metric} == {"images": "3", "images fully read": "0", "readings submitted": "0",
                                                     "readings assigned": "6"}

    at = _as("bob@example.org", "pages/admin.py")
    assert [e.value for e in at.error] and "cannot manage roles and campaigns" in at.error[0].value


def test_blind_reading_and_adjudication_end_to_end(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    team.sign_in(store, "ann@example.org")
    for reader in ("bob@example.org", "cy@example.org"):
        team.set_role(store, "ann@example.org", reader, "reader")
    team.set_role(store, "ann@example.org", "judy@example.org", "adjudicator")
    cid = team.create_campaign(store, "ann@example.org", CampaignSpec("pilot", IMAGES, ("bob@example.org", "cy@example.org"), 2, True))
    image = IMAGES[0]
    store.save_review(image, "bob@example.org", ["Cardiomegaly"], "confirmed")

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.user = {"is_logged_in": True, "name": "cy", "email": "cy@example.org"}
    at.secrets = AUTH
    at.query_params["image"] = image
    at.switch_page("pages/review.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Blind campaign" in c.value for c in at.caption)  # bob's reading is hidden from cy
    assert not [d for d in at.dataframe if "bob@example.org" in d.value.to_string()]
    assert any("Exports hold what you may see" in c.value for c in at.caption)  # exports are filtered (tests/app/test_blind_pages.py)
    assert any("NIH labels, boxes and the model are hidden" in c.value for c in at.caption)
    ticked = [b.key.removeprefix(f"lab_{image}_") for b in at.button if (b.key or "").startswith(f"lab_{image}_") and b.proto.type == "primary"]
    assert ticked == ["No Finding"]  # the form does not start from the NIH labels (Cardiomegaly)
    assert not any("NIH labels:" in m.value for m in at.markdown)  # not even a false "No Finding" reference
    progress = [p.proto.text for p in at.get("progress")]
    assert progress and not any("anyone" in p for p in progress)  # how many others read would hint at a blind image
    from cxrviz.review.boxes import ReviewerBox
    from cxrviz.review.store.boxes import add_box

    add_box(store, ReviewerBox(image, "bob@example.org", "Cardiomegaly", 100, 100, 200, 200, 1024, 1024))
    at.button(key="review_draw").click().run()  # "Draw boxes" (B) on the viewer
    assert not at.exception, [e.value for e in at.exception]
    assert not any("bob@example.org" in d.value.to_string() for d in at.dataframe)  # bob's box is not listed

    at.selectbox(key="campaign_queue").set_value(team.campaigns_of(store, "cy@example.org")[0]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="queue_choice").value == "Campaign 1: pilot"
    assert at.session_state["review_queue"] == team.reader_queue(store, cid, "cy@example.org") == list(IMAGES)

    store.save_review(image, "cy@example.org", ["Cardiomegaly", "Effusion"], "corrected")
    at = _as("judy@example.org", "pages/adjudication.py")
    assert not at.exception, [e.value for e in at.exception]
    assert "bob@example.org" in [t.value for t in at.text] and "cy@example.org" in [t.value for t in at.text]
    at.text_area(key=f"adj_reason_{cid}_{image}").set_value("effusion seen on the lateral costophrenic angle")
    at.multiselect(key=f"adj_final_{cid}_{image}").set_value(["Cardiomegaly", "Effusion"])
    at.button(key="adj_record").click().run()
    assert not at.exception, [e.value for e in at.exception]
    rows = list(csv.reader(io.StringIO(adjudicated_csv(store, cid, "judy@example.org").decode())))
    final = {r[1]: (r[2], r[3]) for r in rows[1:]}
    assert final[image] == ("Cardiomegaly|Effusion", "adjudicated")

    at = _as("bob@example.org", "pages/adjudication.py")
    assert "cannot adjudicate" in at.error[0].value

    at = _as("ann@example.org", "pages/admin.py")  # reader quality, for admins
    assert not at.exception, [e.value for e in at.exception]
    quality = [d.value for d in at.dataframe if "exact agreement" in d.value.columns]
    assert quality and dict(zip(quality[0]["reader"], quality[0]["exact agreement"])) == {"bob@example.org": 0.0, "cy@example.org": 1.0}
