"""Reviewer boxes: coordinate transforms under zoom and crop, the rules, IoU matching (hand-computed)
and agreement tables."""

import math

import pandas as pd
import pytest

from cxrviz.data.boxes import Box
from cxrviz.review.boxes import (
    BoxError,
    ReviewerBox,
    Viewport,
    check_box,
    check_count,
    clip,
    match,
    nih_agreement,
    nih_boxes_of,
    nih_ref,
    parse_nih_ref,
    reviewer_agreement,
)


def _close(a: Box, b: Box, tol: float) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a, b))


# ---- transforms -------------------------------------------------------------------------

def test_unzoomed_1024_image_shown_at_512_doubles_coordinates():
    view = Viewport(1024, 1024, display_width=512)
    assert view.to_original(Box(100, 50, 20, 40)) == Box(200, 100, 40, 80)
    assert view.display_height == 512


def test_zoom_2_centred_crops_the_middle_half():
    # zoom 2 at the centre shows x, y in [256, 768) of a 1024 image; at 512 display px, 1 display px = 1 original px
    view = Viewport(1024, 1024, display_width=512, zoom=2.0, centre=(0.5, 0.5))
    assert view.crop() == (256, 256, 512, 512)
    assert view.to_original(Box(0, 0, 10, 10)) == Box(256, 256, 10, 10)
    assert view.to_original(Box(100, 200, 50, 60)) == Box(356, 456, 50, 60)


def test_zoom_near_the_edge_clamps_the_crop_like_the_viewer():
    # centre (0.95, 0.1) at zoom 4: crop 256 wide, pushed back inside the image -> left 768, top 0
    view = Viewport(1024, 1024, display_width=700, zoom=4.0, centre=(0.95, 0.1))
    assert view.crop() == (768, 0, 256, 256)
    got = view.to_original(Box(350, 350, 70, 35))  # the crop's middle at 700 px wide
    assert _close(got, Box(768 + 128, 128, 25.6, 12.8), 1e-9)


@pytest.mark.parametrize("zoom,centre,width", [(1.0, (0.5, 0.5), 640), (1.75, (0.3, 0.7), 733), (3.25, (0.9, 0.05), 517), (4.0, (0.0, 1.0), 1280)])
def test_display_and_original_round_trip_within_2px_of_the_1024_frame(zoom, centre, width):
    view = Viewport(1024, 1024, display_width=width, zoom=zoom, centre=centre)
    left, top, cw, ch = view.crop()
    truth = Box(left + cw * 0.25, top + ch * 0.4, cw * 0.3, ch * 0.2)
    shown = view.to_display(truth)
    # the browser reports whole pixels: round the drawn box as a mouse would give it
    drawn = Box(*(round(v) for v in shown))
    assert _close(view.to_original(drawn), truth, 2.0)


def test_non_square_original_uses_its_own_frame():
    view = Viewport(2500, 2048, display_width=625)  # 4 original px per display px
    assert view.display_height == 512
    assert view.to_original(Box(10, 10, 100, 50)) == Box(40, 40, 400, 200)
    b = ReviewerBox("a.png", "ann", "Mass", 40, 40, 400, 200, 2500, 2048)
    assert _close(b.in_nih_frame(), Box(40 * 1024 / 2500, 40 * 1024 / 2048, 400 * 1024 / 2500, 200 * 1024 / 2048), 1e-9)


# ---- rules ------------------------------------------------------------------------------

def _box(**kw) -> ReviewerBox:
    base = dict(image="00000001_000.png", reviewer="ann", finding="Mass", x=100, y=100, w=50, h=40, frame_width=1024, frame_height=1024)
    return ReviewerBox(**{**base, **kw})


def test_a_box_inside_the_image_is_kept_as_is():
    kept, messages = check_box(_box(), ticked={"Mass"})
    assert kept.box == Box(100, 100, 50, 40) and messages == []


def test_zero_area_is_refused():
    with pytest.raises(BoxError, match="no area"):
        check_box(_box(w=0))
    with pytest.raises(BoxError, match="no area"):
        check_box(_box(h=0))


def test_outside_is_clipped_with_a_message_and_wholly_outside_refused():
    kept, messages = check_box(_box(x=1000, y=-10, w=50, h=30))
    assert kept.box == Box(1000, 0, 24, 20)
    assert len(messages) == 1 and "clipped" in messages[0]
    with pytest.raises(BoxError, match="outside"):
        check_box(_box(x=2000, y=2000))


def test_a_box_dragged_backwards_is_turned_round():
    assert clip(Box(150, 140, -50, -40), 1024, 1024) == (Box(100, 100, 50, 40), None)


def test_unticked_finding_is_refused_naming_it_and_wrong_marks_need_no_tick():
    with pytest.raises(BoxError, match="Nodule is not ticked"):
        check_box(_box(finding="Nodule"), ticked={"Mass"})
    kept, _ = check_box(_box(finding="Nodule", status="wrong", corrects=nih_ref("00000001_000.png", "Nodule", 0)), ticked={"Mass"})
    assert kept.status == "wrong"


def test_unknown_finding_status_and_missing_reference_are_refused():
    with pytest.raises(BoxError, match="14 findings"):
        check_box(_box(finding="No Finding"))
    with pytest.raises(BoxError, match="status"):
        check_box(_box(status="maybe"))
    with pytest.raises(BoxError, match="must name the NIH box"):
        check_box(_box(status="corrected"))
    with pytest.raises(BoxError, match="not a number"):
        check_box(_box(x=math.nan))


def test_more_than_20_boxes_refused():
    check_count(19)
    with pytest.raises(BoxError, match="at most 20"):
        check_count(20)


def test_nih_references_round_trip_and_index_per_finding():
    table = pd.DataFrame({"image": ["a.png", "a.png", "a.png", "b.png"], "finding": ["Mass", "Nodule", "Mass", "Mass"],
                          "x": [1, 2, 3, 4], "y": [1, 2, 3, 4], "w": [5, 5, 5, 5], "h": [5, 5, 5, 5]})
    refs = [r for r, _, _ in nih_boxes_of(table, "a.png")]
    assert refs == ["a.png:Mass:0", "a.png:Nodule:0", "a.png:Mass:1"]
    assert parse_nih_ref("a.png:Mass:1") == ("a.png", "Mass", 1)
    with pytest.raises(BoxError):
        parse_nih_ref("nonsense")


# ---- matching ---------------------------------------------------------------------------

def test_iou_matching_hand_computed():
    # a0 = b1 exactly (IoU 1); a1 vs b0: 10x10 boxes offset by 5 px in x -> inter 50, union 150 -> IoU 1/3 (< 0.5, unmatched)
    a = [Box(0, 0, 10, 10), Box(100, 100, 10, 10)]
    b = [Box(105, 100, 10, 10), Box(0, 0, 10, 10)]
    assert match(a, b) == [(0, 1, 1.0)]
    # offset by 2 px: inter 80, union 120 -> IoU 2/3, matched
    pairs = match([Box(0, 0, 10, 10)], [Box(2, 0, 10, 10)])
    assert len(pairs) == 1 and pairs[0][:2] == (0, 0) and pairs[0][2] == pytest.approx(2 / 3)
    assert match([], b) == [] and match(a, []) == []


def test_matching_is_one_to_one_and_maximises_total_iou():
    # a greedy pick of the best single pair (a0-b0, IoU 90/110) would leave a1 unmatched; Hungarian pairs a0-b1 and a1-b0
    a = [Box(0, 0, 10, 10), Box(2, 0, 10, 10)]
    b = [Box(1, 0, 10, 10), Box(-3, 0, 10, 10)]
    pairs = sorted(match(a, b))
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (1, 0)]
    assert pairs[0][2] == pytest.approx(70 / 130) and pairs[1][2] == pytest.approx(90 / 110)


def test_reviewer_agreement_per_finding():
    boxes = [
        _box(reviewer="ann", finding="Mass", x=0, y=0, w=10, h=10),
        _box(reviewer="bob", finding="Mass", x=2, y=0, w=10, h=10),      # IoU 2/3 with ann's
        _box(reviewer="bob", finding="Nodule", x=500, y=500, w=10, h=10),  # ann has none: unmatched
        _box(reviewer="cat", finding="Mass", image="other.png"),  # alone on its image: no pair
    ]
    table = reviewer_agreement(boxes).set_index("finding")
    assert table.loc["Mass", "matched pairs"] == 1 and table.loc["Mass", "unmatched boxes"] == 0
    assert table.loc["Mass", "mean IoU of matches"] == pytest.approx(2 / 3)
    assert table.loc["Nodule", "matched pairs"] == 0 and table.loc["Nodule", "unmatched boxes"] == 1
    assert "Effusion" not in table.index


def test_nih_agreement_compares_in_the_1024_frame_and_counts_wrong_marks():
    nih = pd.DataFrame({"image": ["a.png"], "finding": ["Mass"], "x": [200.0], "y": [200.0], "w": [100.0], "h": [100.0]})
    # a 512-px image: (100, 100, 50, 50) is (200, 200, 100, 100) in the 1024 frame
    boxes = [_box(image="a.png", x=100, y=100, w=50, h=50, frame_width=512, frame_height=512),
             _box(image="a.png", reviewer="bob", finding="Mass", status="wrong", corrects="a.png:Mass:0", x=200, y=200, w=100, h=100),
             _box(image="a.png", finding="Nodule")]  # no NIH Nodule box: not compared
    table = nih_agreement(boxes, nih).set_index("finding")
    assert list(table.index) == ["Mass"]
    assert table.loc["Mass", "matched pairs"] == 1 and table.loc["Mass", "mean IoU of matches"] == pytest.approx(1.0)
    assert table.loc["Mass", "NIH boxes marked wrong"] == 1
