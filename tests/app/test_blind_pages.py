"""Blind reading, page by page, as the browser receives it: a signed-in blind reader opens every
page that shows reviews or boxes (Browse, Image with `?image=`, Review, Agreement, Label audit,
Admin, Adjudication) and runs every download there, on SQLite and PostgreSQL; no other reader's
name, note or box may be anywhere in what the page sends (every element's proto, every table) or
in the bytes a download makes. Positive controls (the admin, the adjudicator, and the reader once
they have read the image) show the same markers, so the scan can fail."""

from __future__ import annotations

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.measurements import Measurement
from cxrviz.review.store import Store, team
from cxrviz.review.store import reports as store_reports
from cxrviz.review.store.boxes import add_box
from cxrviz.review.store.measurements import add_measurement
from tests.app.test_auth import AUTH
from tests.conftest import BOXED_1024, REPO, RGBA_1024, SMALL_512

TIMEOUT = 240
IMAGES = (BOXED_1024, RGBA_1024, SMALL_512)
ADMIN, JUDY, CY = "ann@example.org", "judy@example.org", "cy@example.org"  # cy: the blind reader
OTHERS = {"bob@example.org": ("Hernia", 123.25), "dee@example.org": ("Pneumothorax", 321.75)}
MARKERS = (*OTHERS, "MARKER-NOTE")  # the other readers' names and the start of their notes
BOX_MARKERS = ("123.25", "321.75")  # their boxes' x, as the downloads write it


@pytest.fixture()
def campaign(app_env, target, monkeypatch):
    """Three readers (bob and dee have read every image, with notes and boxes), an admin, an adjudicator."""
    monkeypatch.setenv("CXRVIZ_DB", target)
    store = Store(target)
    team.sign_in(store, ADMIN)
    for reader in (*OTHERS, CY):
        team.set_role(store, ADMIN, reader, "reader")
    team.set_role(store, ADMIN, JUDY, "adjudicator")
    team.create_campaign(store, ADMIN, CampaignSpec("pilot", IMAGES, (*OTHERS, CY), 3, blind=True, hide_references=True))
    for reader, (label, x) in OTHERS.items():
        for image in IMAGES:
            store.save_review(image, reader, [label], "corrected", f"MARKER-NOTE by {reader} on {image}")
        for image in IMAGES[:2]:  # both 1024-px originals
            add_box(store, ReviewerBox(image, reader, label, x, 200, 90, 90, 1024, 1024))
            add_measurement(store, Measurement(image, reader, "length", ((x, 500.0), (x + 100.0, 500.0)), 1024, 1024))
            store_reports.save_text(store, image, reader, f"MARKER-NOTE report by {reader}", [label])
            store_reports.sign(store, image, reader, 1)
    yield store
    store.dispose()


@pytest.fixture()
def downloads(monkeypatch):
    """file name -> the callable a page's download button would run when clicked, for the last run."""
    made: dict[str, object] = {}
    add = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[file_name] = data_callable
        return add(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return made


def _open(email: str, page: str, downloads: dict | None = None, **params) -> AppTest:
    if downloads is not None:
        downloads.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.user = {"is_logged_in": True, "name": email.split("@")[0], "email": email}
    at.secrets = AUTH
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _sent(at: AppTest) -> str:
    """Everything the page sends to the browser: each element's and block's proto (text, values,
    options, chart specs, table bytes) and each table as text."""
    parts = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        if getattr(node, "type", None) == "arrow_data_frame":
            parts.append(node.value.to_string())
    return "\n".join(parts)


def _leaks(at: AppTest, downloads: dict | None = None) -> list[str]:
    sent = _sent(at)
    found = [m for m in MARKERS if m in sent]
    for name, make in (downloads or {}).items():
        data = make()
        text = data.decode() if isinstance(data, bytes) else str(data)
        found += [f"{name}: {m}" for m in (*MARKERS, *BOX_MARKERS) if m in text]
    return found


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_a_blind_reader_receives_nothing_of_the_others_on_any_page_or_download(campaign, downloads):
    store, image = campaign, IMAGES[0]

    at = _open(CY, "pages/browse.py")
    assert _leaks(at) == []
    at.checkbox(key="f_hasreviewerbox").check().run()
    assert _metric(at, "Images") == "0"  # the others' boxes do not even tell which images have one

    at = _open(CY, "pages/image.py", downloads, image=image)
    assert _leaks(at, downloads) == [] and set(downloads) == {"cxrviz_boxes.csv", "cxrviz_boxes_coco.json", "cxrviz_measurements.csv"}
    at.button(key="image_draw").click().run()  # "Draw boxes" (B): the box table under the canvas
    assert not at.exception, [e.value for e in at.exception]
    assert _leaks(at, downloads) == []
    assert any("NIH labels, boxes, expert labels and the model are hidden" in c.value for c in at.caption)
    assert not any("NIH labels:" in m.value for m in at.markdown)  # references hidden
    assert not any("reviewers' boxes" in c for i in at.get("image") for c in i.captions)  # none drawn on the X-ray

    store.save_review(image, CY, [], "skipped")  # "peek by skipping": skipped opens nothing
    at = _open(CY, "pages/review.py", downloads, image=image)
    assert any("Blind campaign" in c.value for c in at.caption)
    at.button(key="review_draw").click().run()  # "Draw boxes" (B): the box panel under the canvas
    assert not at.exception, [e.value for e in at.exception]
    assert _leaks(at, downloads) == []
    assert set(downloads) == {"cxrviz_corrections.csv", "Data_Entry_2017_corrected.csv", "cxrviz_boxes.csv", "cxrviz_boxes_coco.json"}

    for page in ("pages/agreement.py", "pages/label_audit.py", "pages/admin.py", "pages/adjudication.py"):
        at = _open(CY, page, downloads)
        assert _leaks(at, downloads) == [], page
    assert "cannot adjudicate" in at.error[0].value

    # Positive controls: the same scan finds the markers where they may be seen.
    at = _open(ADMIN, "pages/image.py", downloads, image=image)
    assert any("NIH labels:" in m.value for m in at.markdown)
    assert any("Blue: reviewers' boxes." in c for i in at.get("image") for c in i.captions)
    at.button(key="image_draw").click().run()  # the box table names whose boxes they are
    sent = _sent(at)
    assert all(m in sent for m in OTHERS) and {f for f in _leaks(at, downloads) if "123.25" in f} == {
        "cxrviz_boxes.csv: 123.25", "cxrviz_boxes_coco.json: 123.25", "cxrviz_measurements.csv: 123.25"}  # boxes and measurements
    at = _open(ADMIN, "pages/agreement.py")
    assert all(m in _sent(at) for m in OTHERS)
    at = _open(ADMIN, "pages/browse.py")
    at.checkbox(key="f_hasreviewerbox").check().run()
    assert _metric(at, "Images") == "2"

    store.save_review(image, CY, ["Hernia"], "confirmed")  # cy reads the image: it opens, for that image only
    at = _open(CY, "pages/review.py", downloads, image=image)
    sent = _sent(at)
    assert all(m in sent for m in MARKERS) and "MARKER-NOTE by bob@example.org on " + image in sent
    assert f"on {IMAGES[1]}" not in sent
    corrections = downloads["cxrviz_corrections.csv"]().decode()
    assert f"MARKER-NOTE by bob@example.org on {image}" in corrections and f"on {IMAGES[1]}" not in corrections


def test_a_reading_after_seeing_the_others_is_marked_for_the_adjudicator(campaign):
    store, image = campaign, IMAGES[1]
    at = _open(CY, "pages/review.py", image=image)
    at.button(key=f"status_{image}_confirmed").click().run()
    at.button(key=f"save_{image}").click().run()  # cy's first reading, made blind: No Finding
    assert not at.exception, [e.value for e in at.exception]
    # Told apart from the NIH labels she did not see: "No Finding" against NIH's findings is a correction.
    from cxrviz.data.metadata import load_metadata
    from cxrviz.review.rules import resolve_status

    nih = load_metadata().findings_of(image)
    assert nih and [r.status for r in team.visible_reviews(store, CY, image) if r.reviewer == CY] == [
        resolve_status("confirmed", nih, ["No Finding"])] == ["corrected"]
    at = _open(CY, "pages/review.py", image=image)
    assert "MARKER-NOTE by bob@example.org on " + image in _sent(at)  # now open: she sees bob's Hernia...
    assert any("a save from now on is recorded as made after seeing the others' readings" in c.value for c in at.caption)
    store.save_review(image, CY, ["Hernia"], "corrected")  # ...and copies it

    at = _open(JUDY, "pages/adjudication.py")
    queue = [r["image"] for r in team.adjudication_queue(store, 1, JUDY)]
    at.selectbox(key="adj_image").select_index(queue.index(image)).run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    assert warnings == ["Made after others' readings were visible: not an independent reading."]  # cy's only
    assert any(t.value.startswith("first independent reading: No Finding (corrected,") for t in at.text)
    assert all(m in _sent(at) for m in MARKERS)  # the adjudicator sees every reading
