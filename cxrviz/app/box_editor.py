"""The box editor: draw reviewer boxes on the X-ray, move, resize and delete one's own, mark an NIH
box wrong or propose a corrected one, and see the NIH and other reviewers' boxes.

Drawing uses `streamlit-drawable-canvas` (0.13, a Streamlit components-v2 element, no iframe) in
its `labeled_rect` mode: each rectangle is stamped with the finding chosen when it was drawn.
The canvas shows the windowed, zoomed crop at `DISPLAY_WIDTH` px; `cxrviz.review.boxes.Viewport`
turns what was drawn into the original image frame before anything is stored. The canvas is keyed
by the view, so changing zoom or centre clears unsaved rectangles instead of misplacing them.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image
from streamlit.errors import StreamlitAPIException

from cxrviz.app.messages import show_error
from cxrviz.app.text import escape_markdown
from cxrviz.data.boxes import NIH_FRAME, Box, scale_box
from cxrviz.data.imaging import to_uint8
from cxrviz.errors import CxrvizError
from cxrviz.explain.render import TRUTH_COLOUR, LabelledBox, draw_boxes, window
from cxrviz.findings import FINDINGS
from cxrviz.review.boxes import ReviewerBox, Viewport, check_box
from cxrviz.review.identity import name_key
from cxrviz.review.store import team
from cxrviz.review.store.boxes import add_box, delete_box, move_box

log = logging.getLogger(__name__)

DISPLAY_WIDTH = 640
MINE_COLOUR = (255, 60, 60)
OTHERS_COLOUR = (80, 160, 255)
_FLASH = "_box_editor_flash"


def _background(gray: np.ndarray, view: Viewport, level: float, width: float, invert: bool, drawn: list[LabelledBox]) -> Image.Image:
    left, top, cw, ch = view.crop()
    crop = gray[top:top + ch, left:left + cw]
    shifted = [LabelledBox(Box(b.box.x - left, b.box.y - top, b.box.w, b.box.h), b.label, b.colour) for b in drawn]
    rgb = to_uint8(np.repeat(window(crop, level, width, invert)[..., None], 3, axis=2))
    image = draw_boxes(rgb, shifted)
    return image.resize((DISPLAY_WIDTH, round(view.display_height)), Image.Resampling.LANCZOS)


def _table(nih: list[tuple[str, str, Box]], boxes: list[ReviewerBox], shape: tuple[int, int]) -> pd.DataFrame:
    h, w = shape
    rows = [{"who": "NIH", "id": ref, "finding": f, "status": "NIH", "corrects": "",
             **dict(zip("xywh", (round(v, 1) for v in scale_box(b, w, h))))} for ref, f, b in nih]
    rows += [{"who": b.reviewer, "id": str(b.id), "finding": b.finding, "status": b.status, "corrects": b.corrects or "",
              **dict(zip("xywh", (round(v, 1) for v in b.box)))} for b in boxes]
    return pd.DataFrame(rows, columns=["who", "id", "finding", "status", "corrects", "x", "y", "w", "h"])


def _flash(messages: list[str], where: tuple) -> None:
    """The outcome of the last box action in one panel (`where`: key prefix, image, reviewer). It
    stays shown until the next action there or until the panel shows another image: popping it on
    the next run lost it whenever the freshly keyed canvas sent its first value and so reran the
    page straight away (the message flashed for a few ms)."""
    st.session_state[f"{_FLASH}_{where[0]}"] = (where, messages)


def _flashed(where: tuple) -> list[str]:
    key = f"{_FLASH}_{where[0]}"
    shown_for, messages = st.session_state.get(key, (None, []))
    if shown_for != where:  # another image or reader in this panel: the old outcome is gone for good
        st.session_state.pop(key, None)
        return []
    return messages


def _canvas(background: Image.Image, label: str, key: str):
    """The drawing canvas, or None where the component cannot load (bare script runs in tests)."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except (ImportError, StreamlitAPIException) as exc:  # it registers itself at import; outside a server it cannot
        log.warning("The drawing canvas is unavailable: %s", exc)
        st.image(background)
        st.caption("The drawing canvas could not load here; enter a box's coordinates below instead.")
        return None
    return st_canvas(fill_color="rgba(255, 60, 60, 0.12)", stroke_width=2, stroke_color="#ff3c3c", background_image=background,
                     height=background.height, width=background.width, drawing_mode="labeled_rect", label=label,
                     font_size=14, key=key)


def box_panel(store, image: str, reviewer: str, gray: np.ndarray, nih_boxes: list[tuple[str, str, Box]],
              ticked: set[str] | None, key_prefix: str = "boxes", show_others: bool = True, seen: list[ReviewerBox] | None = None) -> None:
    """The whole box section for one image. `nih_boxes`: (reference, finding, box in the 1024
    frame), from `cxrviz.review.boxes.nih_boxes_of`; `ticked`: the labels of the reviewer's saved
    review (None: not reviewed yet), the only findings they can draw boxes for. Without
    `show_others` other readers' boxes are neither drawn nor listed. `seen`: the image's boxes as
    the blind-reading gate gave them (`team.image_under_review`), else read through it here."""
    height, width = gray.shape
    try:
        boxes = list(seen) if seen is not None else team.visible_boxes(store, reviewer, image)
    except CxrvizError as error:
        show_error(error)
        return
    me = name_key(reviewer)
    mine = [b for b in boxes if name_key(b.reviewer) == me]
    others = [b for b in boxes if name_key(b.reviewer) != me] if show_others else []
    if not show_others:
        boxes = mine
    where = (key_prefix, image, me)
    for message in _flashed(where):
        st.warning(escape_markdown(message), icon=":material/info:")

    choices = [f for f in FINDINGS if f in (ticked or set())]
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    finding = c1.selectbox("Finding of the next box", choices or ["(tick a finding first)"], key=f"{key_prefix}_finding",
                           disabled=not choices)
    zoom = c2.slider("Zoom", 1.0, 4.0, 1.0, 0.25, key=f"{key_prefix}_zoom")
    cx = c3.slider("Centre x", 0.0, 1.0, 0.5, 0.01, key=f"{key_prefix}_cx", disabled=zoom == 1)
    cy = c4.slider("Centre y", 0.0, 1.0, 0.5, 0.01, key=f"{key_prefix}_cy", disabled=zoom == 1)
    w1, w2, w3 = st.columns([2, 2, 1])
    level = w1.slider("Window level", 0.0, 1.0, 0.5, 0.01, key=f"{key_prefix}_level")
    win = w2.slider("Window width", 0.05, 1.0, 1.0, 0.01, key=f"{key_prefix}_width")
    invert = w3.checkbox("Invert", key=f"{key_prefix}_invert")
    if not choices:
        st.info("Tick the finding in your review and save it; then draw its box here. "
                "(A box for a finding you have not ticked is refused: labels stay your decision.)")

    view = Viewport(width, height, DISPLAY_WIDTH, zoom, (cx, cy))
    shown = [LabelledBox(scale_box(b, width, height, NIH_FRAME), f"NIH {f}", TRUTH_COLOUR) for _, f, b in nih_boxes]
    shown += [LabelledBox(b.box, f"{b.reviewer}: {b.finding}", OTHERS_COLOUR) for b in others if b.status != "wrong"]
    shown += [LabelledBox(b.box, f"#{b.id} {b.finding}", MINE_COLOUR) for b in mine if b.status != "wrong"]
    generation = st.session_state.setdefault(f"{key_prefix}_generation", 0)
    canvas_key = f"{key_prefix}_canvas_{image}_{zoom}_{cx}_{cy}_{generation}"
    result = _canvas(_background(gray, view, level, win, invert, shown), finding if choices else "", canvas_key)
    st.caption("Green: NIH boxes. Blue: other reviewers'. Red: yours (with their id). Drag to draw; "
               "changing zoom or centre clears rectangles not yet saved.")
    drawn = [(d["label"], view.to_original(Box(d["left"], d["top"], d["width"], d["height"]))) for d in (result.boxes if result else [])]

    def reset_canvas() -> None:
        st.session_state[f"{key_prefix}_generation"] = generation + 1

    nih_refs = [ref for ref, _, _ in nih_boxes]
    if drawn:
        st.text("Drawn, not saved: " + "; ".join(f"{label or '?'} at x={b.x:.0f} y={b.y:.0f} w={b.w:.0f} h={b.h:.0f}" for label, b in drawn))
        s1, s2 = st.columns(2)
        corrects = s2.selectbox("…or as a correction of the NIH box", ["(a new box)", *nih_refs], key=f"{key_prefix}_corrects")
        if s1.button(f"Save {len(drawn)} drawn box{'es' if len(drawn) > 1 else ''}", type="primary", key=f"{key_prefix}_save"):
            messages = []
            try:
                for label, b in drawn:
                    status, ref = ("drawn", None) if corrects == "(a new box)" else ("corrected", corrects)
                    candidate = ReviewerBox(image, reviewer, label, b.x, b.y, b.w, b.h, width, height, status, ref)
                    kept, notes = check_box(candidate, ticked or set())
                    add_box(store, kept)
                    messages += notes + [f"Saved a {label} box."]
            except CxrvizError as error:
                messages.append(str(error))
            _flash(messages, where)
            reset_canvas()
            st.rerun()

    if nih_refs:
        n1, n2 = st.columns([3, 1])
        wrong = n1.selectbox("Mark an NIH box wrong (wrong finding or wrong place)", nih_refs, key=f"{key_prefix}_wrong")
        if n2.button("Mark wrong", key=f"{key_prefix}_mark_wrong"):
            ref, f, b = next(item for item in nih_boxes if item[0] == wrong)
            s = scale_box(b, width, height)
            try:
                add_box(store, ReviewerBox(image, reviewer, f, s.x, s.y, s.w, s.h, width, height, "wrong", ref))
                _flash([f"Marked the NIH box {ref} wrong; the NIH table itself is unchanged."], where)
            except CxrvizError as error:
                _flash([str(error)], where)
            st.rerun()

    if mine:
        st.markdown("**Your boxes** (original pixels)")
        labels = {b.id: f"#{b.id} {b.finding} ({b.status}) x={b.x:.0f} y={b.y:.0f} w={b.w:.0f} h={b.h:.0f}" for b in mine}
        chosen_id = st.selectbox("Box", list(labels), format_func=labels.get, key=f"{key_prefix}_chosen")
        chosen = next(b for b in mine if b.id == chosen_id)
        m = st.columns(4)
        values = [m[i].number_input(c, value=float(round(getattr(chosen, c), 1)), step=1.0, key=f"{key_prefix}_{c}_{chosen.id}")
                  for i, c in enumerate("xywh")]
        b1, b2, b3 = st.columns(3)
        if b1.button("Move / resize", key=f"{key_prefix}_move"):
            _flash(_try(lambda: move_box(store, chosen.id, reviewer, *values)) or [f"Moved box #{chosen.id}."], where)
            st.rerun()
        if b2.button("Move to the drawn rectangle", key=f"{key_prefix}_move_drawn", disabled=len(drawn) != 1):
            _flash(_try(lambda: move_box(store, chosen.id, reviewer, *drawn[0][1])) or [f"Moved box #{chosen.id}."], where)
            reset_canvas()
            st.rerun()
        if b3.button("Delete", key=f"{key_prefix}_delete"):
            _flash(_try(lambda: delete_box(store, chosen.id, reviewer)) or [f"Deleted box #{chosen.id}."], where)
            st.rerun()

    table = _table(nih_boxes, boxes, gray.shape)
    if len(table):
        st.dataframe(table, hide_index=True)


def _try(action) -> list[str]:
    """Run a store action; its messages (clipping) or the error's, for the flash."""
    try:
        return action() or []
    except CxrvizError as error:
        return [str(error)]


def box_section(store, image: str, reviewer: str, gray: np.ndarray, nih_table: pd.DataFrame | None, key_prefix: str = "boxes",
                show_others: bool = True, with_downloads: bool = True, view=None) -> None:
    """`box_panel` with what a page has at hand: the NIH box table and the store (the reviewer's
    saved review gives the ticked findings). `view`: the image as the blind-reading gate gave it
    (`team.image_under_review`), read here when not given; other readers' boxes of a blind image
    are never in it, and the downloads hold only what this reader may see."""
    from cxrviz.review.boxes import nih_boxes_of

    st.subheader("Boxes", anchor=False)
    try:
        view = view if view is not None else team.image_under_review(store, image, reviewer)
    except CxrvizError as error:
        show_error(error)
        return
    box_panel(store, image, reviewer, gray, nih_boxes_of(nih_table, image), set(view.own.labels) if view.own else None, key_prefix,
              show_others and not view.blind, list(view.boxes))
    if with_downloads:
        downloads(store, reviewer, key_prefix)


def downloads(store, reviewer: str | None, key_prefix: str = "boxes") -> None:
    """The reviewers' boxes `reviewer` may see (`team.shared_with`): the BBox_List-shaped CSV and
    COCO JSON, built when clicked."""
    d1, d2 = st.columns(2)
    d1.download_button("Boxes CSV (BBox_List_2017 shape)", lambda: team.shared_with(store, reviewer).boxes_csv(), "cxrviz_boxes.csv",
                       "text/csv", on_click="ignore", key=f"{key_prefix}_dl_csv")
    d2.download_button("Boxes COCO JSON", lambda: team.shared_with(store, reviewer).boxes_coco(), "cxrviz_boxes_coco.json",
                       "application/json", on_click="ignore", key=f"{key_prefix}_dl_coco")


def agreement_section(config, boxes: list[ReviewerBox]) -> None:
    """The Agreement page's box section: reviewers against each other and against the NIH boxes, per
    finding. `boxes`: those the viewer may see (`team.shared_with`)."""
    from cxrviz.app import resources
    from cxrviz.review.boxes import MATCH_IOU, nih_agreement, reviewer_agreement

    st.subheader("Box agreement", anchor=False)
    try:
        nih = resources.boxes_for(config)
    except CxrvizError as error:
        show_error(error)
        return
    if not boxes:
        st.info("No reviewer has drawn a box yet.")
        return
    st.caption(f"{len(boxes)} boxes by {len({name_key(b.reviewer) for b in boxes})} reviewers on {len({b.image for b in boxes})} images. "
               f"Boxes are paired one-to-one per finding (Hungarian matching on IoU, 1024-px frame); a pair counts "
               f"as matched at IoU ≥ {MATCH_IOU}. NIH boxes marked wrong are marks, not boxes.")
    st.markdown("**Between reviewers** (every image where two reviewers both drew boxes)")
    between = reviewer_agreement(boxes)
    if between.empty:
        st.caption("No image has boxes from two reviewers yet.")
    else:
        st.dataframe(between.round(3), hide_index=True)
    st.markdown("**Against the NIH boxes** (same image and finding, where both exist)")
    against = nih_agreement(boxes, nih)
    if against.empty:
        st.caption("No reviewer box shares an image and finding with an NIH box yet.")
    else:
        st.dataframe(against.round(3), hide_index=True)


def reviewer_box_mask(config, metadata) -> np.ndarray:
    """Per metadata row: does any reviewer have a box on that image that the viewer may see
    (Browse's "Has a reviewer box"; a blind reader's unread campaign images count only their own)."""
    from cxrviz.app import auth, resources

    try:
        boxed = {b.image for b in team.visible_boxes(resources.store_for(config), auth.current_viewer(config))}
    except CxrvizError as error:
        show_error(error)
        boxed = set()
    return metadata.table["image"].isin(boxed).to_numpy()


def viewer_boxes(config, image: str, shape: tuple[int, int], viewer: str | None = None,
                 boxes: list[ReviewerBox] | tuple[ReviewerBox, ...] | None = None) -> list[tuple[str, str, Box]]:
    """The reviewers' boxes on the image that `viewer` may see as (reviewer, finding, box in an
    array of `shape`), for `viewer.show(reviewer_boxes=...)`; marks of NIH boxes as wrong are left
    out. `boxes`: as the blind-reading gate gave them (`team.image_under_review`), else read through it."""
    from cxrviz.app import resources

    try:
        boxes = list(boxes) if boxes is not None else team.visible_boxes(resources.store_for(config), viewer, image)
    except CxrvizError as error:
        show_error(error)
        return []
    h, w = shape
    return [(b.reviewer, b.finding, Box(b.x * w / b.frame_width, b.y * h / b.frame_height, b.w * w / b.frame_width, b.h * h / b.frame_height))
            for b in boxes if b.status != "wrong"]
