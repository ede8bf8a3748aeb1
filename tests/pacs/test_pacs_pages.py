"""The PACS on the Browse, Image and Review pages (AppTest against the real Orthanc): a page of
studies with their tags and thumbnails, filters matched by the PACS, an image opened with the
model, a review saved under the SOP Instance UID, and the failures said in the page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cxrviz.data.dicomweb import PAGE_SIZE
from cxrviz.review.store import Store
from tests.conftest import REPO, shown

TIMEOUT = 240


@pytest.fixture()
def pacs_env(app_env, orthanc, pacs_content, monkeypatch):
    monkeypatch.setenv("CXRVIZ_DICOMWEB", orthanc.dicomweb)
    monkeypatch.setenv("CXRVIZ_DICOMWEB_TIMEOUT", "10")
    return app_env


def _app(orthanc, page: str, secrets: bool = True, **params) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    if secrets:
        at.secrets["dicomweb"] = {"username": orthanc.auth[0], "password": orthanc.auth[1]}
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _pacs_browse(orthanc, **kwargs) -> AppTest:
    at = _app(orthanc, "pages/browse.py", source="pacs", **kwargs)
    assert at.title[0].value == "Browse the PACS"
    return at


def _listed(at: AppTest) -> list[str]:
    return [b.key.removeprefix("open_pacs_").replace("-", ".") for b in at.button if b.key and b.key.startswith("open_pacs_")]


def test_browse_lists_one_page_of_xrays_with_thumbnails_and_pages_on(pacs_env, orthanc, pacs_content):
    made = {m.sop_uid: m for m in pacs_content["made"]}
    at = _pacs_browse(orthanc)
    first = _listed(at)
    assert len(first) == min(PAGE_SIZE, len(made)) and set(first) <= set(made)
    assert pacs_content["ct"].sop_uid not in first
    table = at.dataframe[0].value
    assert set(table["SOP Instance UID"]) == set(first)
    row = table.set_index("SOP Instance UID").loc[first[0]]
    m = made[first[0]]
    assert (row["Age"], row["Sex"], row["View"], row["Study date"], row["Modality"]) == (m.age, m.sex, m.view, m.study_date, m.modality)
    assert len(at.get("image")) == len(first)  # a thumbnail per tile
    thumbs = sorted((pacs_env / "cache" / "pacs-thumbs").iterdir())
    assert {p.name.split("-")[0] for p in thumbs} == set(first)  # cached by SOP Instance UID, nothing else fetched


def test_only_the_page_shown_is_fetched_and_next_turns_it(pacs_env, orthanc, pacs_content, monkeypatch):
    from cxrviz.data import dicomweb

    monkeypatch.setattr(dicomweb, "PAGE_SIZE", 3)
    at = _pacs_browse(orthanc)
    first = _listed(at)
    thumbs = pacs_env / "cache" / "pacs-thumbs"
    assert len(first) == 3 and len(list(thumbs.iterdir())) == 3  # no crawl: three thumbnails fetched, no more
    at.button(key="pacs_next").click().run()
    second = _listed(at)
    assert len(second) == 3 and not set(first) & set(second) and len(list(thumbs.iterdir())) == 6
    at.button(key="pacs_review").click().run()
    assert at.session_state["review_queue"] == second  # the page shown, in its order
    at.switch_page("pages/review.py").run()
    at.text_input(key="reviewer").input("Dr Ada").run()
    assert at.session_state["image"] == second[0]
    assert "(1 / 3)" in " ".join(t.value for t in at.text)


def test_filters_are_the_pacs_query(pacs_env, orthanc, pacs_content):
    at = _pacs_browse(orthanc)
    at.multiselect(key="pacs_sex").select("M").run()
    at.multiselect(key="pacs_view").select("PA").run()
    assert set(_listed(at)) == {m.sop_uid for m in pacs_content["made"] if m.sex == "M" and m.view == "PA"}
    at.slider(key="pacs_age").set_value((70, 120)).run()
    assert set(_listed(at)) == {m.sop_uid for m in pacs_content["made"] if m.sex == "M" and m.view == "PA" and m.age >= 70}


def test_open_a_pacs_image_with_the_model(pacs_env, orthanc, pacs_content):
    m = pacs_content["made"][0]  # MONOCHROME1
    at = _app(orthanc, "pages/image.py", image=m.sop_uid)
    caption = " ".join(shown(c.value) for c in at.caption)
    assert "PACS" in caption and "MONOCHROME1" in caption and f"{m.age} y" in caption
    assert at.get("plotly_chart"), "the model's probabilities are shown"
    assert not at.error
    at.button(key="pacs_stow_heatmap").click().run()  # the heatmap overlay, on request, into the image's study
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    (stored,) = [shown(s.value) for s in at.success]
    uid = stored.split(":")[0]
    try:
        assert stored.endswith("stored")
    finally:
        orthanc.delete(uid)


def test_review_a_pacs_image_saves_under_its_sop_uid(pacs_env, orthanc, pacs_content):
    m = pacs_content["made"][1]
    at = _app(orthanc, "pages/image.py", image=m.sop_uid)
    at.button(key="pacs_review_one").click().run()
    at.switch_page("pages/review.py").run()
    at.text_input(key="reviewer").input("Dr Ada").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["image"] == m.sop_uid
    at.button(key=f"lab_{m.sop_uid}_Effusion").click().run()
    at.button(key=f"save_{m.sop_uid}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = Store(str(pacs_env / "reviews.sqlite")).reviews(m.sop_uid)
    assert [(r.image, r.reviewer, "Effusion" in r.labels) for r in saved] == [(m.sop_uid, "Dr Ada", True)]


def test_wrong_credentials_are_a_sentence_and_the_nih_source_still_works(pacs_env, orthanc):
    at = _pacs_browse(orthanc, secrets=False)
    errors = " ".join(shown(e.value) for e in at.error)
    assert "401" in errors and "secrets.toml" in errors
    assert at.get("button_group")  # the Source control (NIH folder | PACS)
    at.segmented_control(key="browse_source").set_value("NIH folder").run()
    assert at.title[0].value == "Browse NIH ChestX-ray14" and not at.exception


def test_pacs_down_on_the_image_page_is_a_sentence(pacs_env, orthanc, pacs_content, monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CXRVIZ_DICOMWEB", f"http://127.0.0.1:{port}/dicom-web")
    at = _app(orthanc, "pages/image.py", image=pacs_content["made"][0].sop_uid)
    assert any("cannot be reached" in shown(e.value) for e in at.error)


def test_review_keeps_the_typed_note_when_the_pacs_is_down(pacs_env, orthanc, pacs_content, monkeypatch):
    m = pacs_content["made"][2]
    at = _app(orthanc, "pages/image.py", image=m.sop_uid)
    at.button(key="pacs_review_one").click().run()
    at.switch_page("pages/review.py").run()
    at.text_input(key="reviewer").input("Dr Ada").run()
    at.text_area(key=f"note_{m.sop_uid}").input("left effusion?").run()
    orthanc_url = orthanc.dicomweb
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = at.session_state["_cxrviz_settings"]
    import dataclasses

    at.session_state["_cxrviz_settings"] = dataclasses.replace(settings, dicomweb=f"http://127.0.0.1:{port}/dicom-web")
    from cxrviz.app import pacs_view

    pacs_view._opened.clear()  # the decoded image is cached: forget it, as after a restart
    at.run()
    assert any("cannot be reached" in shown(e.value) for e in at.error), orthanc_url
    assert at.text_area(key=f"note_{m.sop_uid}").value == "left effusion?"  # nothing typed is lost


def test_a_pacs_link_without_a_pacs_configured_says_so(app_env, orthanc, pacs_content, monkeypatch):
    monkeypatch.delenv("CXRVIZ_DICOMWEB", raising=False)
    at = _app(orthanc, "pages/image.py", image=pacs_content["made"][0].sop_uid)
    assert any("no PACS is configured" in shown(e.value) and "CXRVIZ_DICOMWEB" in shown(e.value) for e in at.error)
    at.switch_page("pages/browse.py").run()  # and Browse has no PACS source to offer
    assert at.title[0].value == "Browse NIH ChestX-ray14" and not at.get("button_group")


def test_a_reviewers_box_on_a_pacs_image_is_drawn_on_the_image_page(pacs_env, orthanc, pacs_content):
    from cxrviz.review.boxes import ReviewerBox
    from cxrviz.review.store import boxes as store_boxes

    m = pacs_content["made"][3]
    store = Store(str(pacs_env / "reviews.sqlite"))
    store_boxes.add_box(store, ReviewerBox(m.sop_uid, "Dr Bo", "Nodule", 300, 300, 120, 100, m.dataset.Columns, m.dataset.Rows))
    at = _app(orthanc, "pages/image.py", image=m.sop_uid)
    legends = [shown(i.proto.imgs[0].caption) for i in at.get("image") if i.proto.imgs]
    assert any("Blue: reviewers' boxes." in c for c in legends), legends
