"""The box section of the Image page through AppTest: the rule on unticked findings, saving a box
by coordinates, moving and deleting it, and the NIH box marked wrong."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.store import Store
from cxrviz.review.store.boxes import add_box, list_boxes
from tests.conftest import BOXED_1024, REPO, shown

TIMEOUT = 240


def _image_page(reviewer: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["image"] = BOXED_1024
    at.query_params["reviewer"] = reviewer
    at.switch_page("pages/image.py")
    at.run()
    return at.button(key="image_draw").click().run()  # "Draw boxes" (B): the box controls come with the canvas


def test_without_a_ticked_finding_the_page_says_so_and_nih_box_can_be_marked_wrong(app_env):
    at = _image_page("ann")
    assert not at.exception, [e.value for e in at.exception]
    assert any("Tick the finding in your review" in shown(i.value) for i in at.info)
    table = at.dataframe[-1].value
    assert list(table["who"]) == ["NIH"] and list(table["finding"]) == ["Cardiomegaly"]
    at.button(key="image_boxes_mark_wrong").click().run()
    [mark] = list_boxes(Store(str(app_env / "reviews.sqlite")), BOXED_1024)
    assert (mark.reviewer, mark.status, mark.corrects, mark.finding) == ("ann", "wrong", f"{BOXED_1024}:Cardiomegaly:0", "Cardiomegaly")
    assert any("marked the nih box" in shown(w.value).lower() for w in at.warning)


def test_own_box_moves_and_deletes_and_others_boxes_are_listed(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    store.save_review(BOXED_1024, "ann", ["Cardiomegaly"], "confirmed")
    mine = add_box(store, ReviewerBox(BOXED_1024, "ann", "Cardiomegaly", 100, 100, 200, 150, 1024, 1024))
    add_box(store, ReviewerBox(BOXED_1024, "bob", "Mass", 500, 500, 50, 50, 1024, 1024))
    at = _image_page("ann")
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[-1].value
    assert sorted(table["who"]) == ["NIH", "ann", "bob"]
    at.number_input(key=f"image_boxes_x_{mine}").set_value(1000.0).run()
    at.button(key="image_boxes_move").click().run()
    moved = next(b for b in list_boxes(store, BOXED_1024) if b.id == mine)
    assert moved.box == (1000, 100, 24, 150)  # clipped at the right edge
    assert any("clipped" in shown(w.value) for w in at.warning)
    # a rerun with no action (the freshly keyed canvas sends its first value) keeps the outcome shown
    at.run()
    assert any("clipped" in shown(w.value) for w in at.warning)
    at.button(key="image_boxes_delete").click().run()
    assert [b.reviewer for b in list_boxes(store, BOXED_1024)] == ["bob"]
    said = [shown(w.value) for w in at.warning]
    assert any(f"Deleted box #{mine}" in s for s in said) and not any("clipped" in s for s in said)


def test_agreement_page_box_section(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    # ann and bob agree on Cardiomegaly (IoU 2/3); ann's box also matches the NIH box exactly
    # (00009745_000.png's NIH Cardiomegaly box, read from the bundled table)
    from cxrviz.data.boxes import load_boxes
    from cxrviz.review.boxes import nih_boxes_of

    [(ref, _, nih)] = nih_boxes_of(load_boxes(), BOXED_1024)
    add_box(store, ReviewerBox(BOXED_1024, "ann", "Cardiomegaly", nih.x, nih.y, nih.w, nih.h, 1024, 1024))
    add_box(store, ReviewerBox(BOXED_1024, "bob", "Cardiomegaly", nih.x + nih.w / 5, nih.y, nih.w, nih.h, 1024, 1024))
    add_box(store, ReviewerBox(BOXED_1024, "bob", "Cardiomegaly", nih.x, nih.y, nih.w, nih.h, 1024, 1024, "wrong", ref))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("pages/agreement.py").run()
    assert not at.exception, [e.value for e in at.exception]
    between, against = at.dataframe[-2].value.set_index("finding"), at.dataframe[-1].value.set_index("finding")
    assert between.loc["Cardiomegaly", "matched pairs"] == 1 and between.loc["Cardiomegaly", "unmatched boxes"] == 0
    assert between.loc["Cardiomegaly", "mean IoU of matches"] == round(4 / 6, 3)  # 0.8 w overlap: 0.8 / 1.2
    assert against.loc["Cardiomegaly", "matched pairs"] == 2  # ann's exact box and bob's shifted one
    assert against.loc["Cardiomegaly", "NIH boxes marked wrong"] == 1


def test_browse_filter_has_a_reviewer_box(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    add_box(store, ReviewerBox(BOXED_1024, "ann", "Cardiomegaly", 10, 10, 100, 100, 1024, 1024))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    at.checkbox(key="f_hasreviewerbox").check().run()
    assert {m.label: m.value for m in at.metric}["Images"] == "1"


def test_image_viewer_scores_the_cam_box_against_reviewer_boxes(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    add_box(store, ReviewerBox(BOXED_1024, "bob", "Cardiomegaly", 300, 400, 450, 380, 1024, 1024))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params["image"] = BOXED_1024
    at.switch_page("pages/image.py").run()
    assert not at.exception, [e.value for e in at.exception]
    # the model's top finding on this image is Cardiomegaly (as in tests/app/test_app.py): the CAM box is scored
    metrics = at.table[0].value
    assert {"Cardiomegaly", "Cardiomegaly (bob)"} <= set(metrics.index)
    assert 0 <= metrics.loc["Cardiomegaly (bob)", "IoU"] <= 1
    assert "Blue: reviewers' boxes." in at.get("image")[0].proto.imgs[0].caption


def test_a_double_click_on_save_keeps_one_box_and_says_why(app_env):
    # what the Save button runs, twice with the same rectangles (a double click before the canvas clears)
    from cxrviz.app.box_editor import Drawing, save_drawn
    from cxrviz.data.boxes import Box

    store = Store(str(app_env / "reviews.sqlite"))
    store.save_review(BOXED_1024, "ann", ["Cardiomegaly"], "confirmed")
    drawing = Drawing(store, BOXED_1024, "ann", (), frozenset({"Cardiomegaly"}), (), "image_boxes")
    drawn = [("Cardiomegaly", Box(300.4, 400.2, 200.0, 150.0))]
    assert save_drawn(drawing, drawn, "(a new box)", 1024, 1024) == ["Saved a Cardiomegaly box."]
    [said] = save_drawn(drawing, drawn, "(a new box)", 1024, 1024)
    assert said.startswith(f"You already saved this Cardiomegaly box on {BOXED_1024}")
    assert len(list_boxes(store, BOXED_1024)) == 1
