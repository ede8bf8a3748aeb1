"""Importing a box CSV on the Image page (AppTest): the limits beside the uploader, a bad file
refused with row and column and nothing written, a good one imported."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cxrviz.app.box_import import progress_text
from cxrviz.review.box_export import MAX_BOX_ROWS
from cxrviz.review.store import Store
from cxrviz.review.store.boxes import list_boxes
from tests.conftest import BOXED_1024, REPO, shown

TIMEOUT = 240
HEADER = "Image Index,Finding Label,x,y,w,h,Reviewer,Status,Corrects,Time,Image Width,Image Height\n"
GOOD = HEADER + (f"{BOXED_1024},Cardiomegaly,300.00,400.00,400.00,300.00,bob,drawn,,2026-01-01T10:00:00.000000Z,1024,1024\n"
                 "00000001_000.png,Mass,10.00,20.00,30.00,40.00,cy,drawn,,2026-01-02T10:00:00.000000Z,512,512\n")


def test_the_limits_are_stated_a_bad_file_writes_nothing_and_a_good_one_imports(app_env):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["image"] = BOXED_1024
    at.query_params["reviewer"] = "ann"
    at.switch_page("pages/image.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"At most {MAX_BOX_ROWS:,} boxes and 64 MiB per file" in c.value for c in at.caption)
    store = Store(str(app_env / "reviews.sqlite"))
    bad = GOOD.replace("300.00,400.00,400.00", "-3,400.00,400.00")
    uploader = next(u for u in at.get("file_uploader") if u.key == "image_boxes_box_upload")
    uploader.set_value(("boxes.csv", bad.encode(), "text/csv")).run()
    at.button(key="image_boxes_box_import").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [shown(e.value) for e in at.error]
    assert any(e.startswith("Nothing was imported from boxes.csv") and "\n- row 2 (line 2), x: -3 is negative" in e for e in errors), errors
    assert list_boxes(store) == []
    uploader = next(u for u in at.get("file_uploader") if u.key == "image_boxes_box_upload")
    uploader.set_value(("boxes.csv", GOOD.encode(), "text/csv")).run()
    at.button(key="image_boxes_box_import").click().run()
    assert any("Imported 2 boxes from boxes.csv" in shown(s.value) for s in at.success), [s.value for s in at.success]
    assert sorted(b.reviewer for b in list_boxes(store)) == ["bob", "cy"]


def test_the_progress_bar_fills_checking_then_writing():
    assert progress_text("checking", 5_000, 10_000) == (0.25, "Checking rows… 5,000 of about 10,000")
    fraction, text = progress_text("writing", 5_000, 10_000)
    assert fraction == 0.75 and text.startswith("Writing boxes… 5,000 of 10,000")
    assert progress_text("checking", 12_000, 10_000)[0] == 0.5  # the row estimate may be short: never past its half
