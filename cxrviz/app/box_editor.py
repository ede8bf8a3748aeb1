"""The box editor: draw reviewer boxes on the X-ray the reader is reading, move, resize and delete
one's own, mark an NIH box wrong or propose a corrected one, and see the NIH and other reviewers'
boxes.

There is no second copy of the image: in the viewer's "Draw boxes" mode (`cxrviz.app.viewer`, key
B) the viewer's own picture, at its zoom, window and overlays, becomes the background of a
`streamlit-drawable-canvas` (0.13, a components-v2 element, no iframe) in `labeled_rect` mode, and
`draw_panel` puts the controls under it. Each rectangle is stamped with the finding chosen when it
was drawn; the viewer's `Frame` turns it into the original image frame before anything is stored.
The canvas is keyed by the view, so changing zoom, centre or size clears unsaved rectangles instead
of misplacing them.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image
from streamlit.errors import StreamlitAPIException

from cxrviz.app.messages import show_error
from cxrviz.app.text import escape_markdown
from cxrviz.data.boxes import Box
from cxrviz.data.frames import Frame
from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS
from cxrviz.review.boxes import ReviewerBox, check_box, nih_boxes_of
from cxrviz.review.identity import name_key
from cxrviz.review.store import team
from cxrviz.review.store.boxes import add_box, delete_box, move_box

log = logging.getLogger(__name__)

CANVAS_WIDTHS = (400, 1200)  # the drawing canvas's width in screen px (a fixed size: the component does not stretch)
DEFAULT_CANVAS_WIDTH = 500  # fits the viewer's column of a 1280-px-wide window; wider screens choose more
MINE_COLOUR = (255, 60, 60)
OTHERS_COLOUR = (80, 160, 255)
_FLASH = "_box_editor_flash"


@dataclass(frozen=True)
class Drawing:
    """What the viewer needs to let a reader draw on one image: the store, who draws, the NIH boxes
    ((reference, finding, box in the 1024 frame)), the findings of the reader's saved review (None:
    not reviewed yet, the only findings they can draw boxes for) and the boxes on the image (only
    their own without `show_others`, a blind reading)."""

    store: object
    image: str
    reviewer: str
    nih_boxes: tuple
    ticked: frozenset | None
    boxes: tuple
    key_prefix: str = "boxes"
    show_others: bool = True
    with_downloads: bool = True

    @property
    def mine(self) -> list[ReviewerBox]:
        return [b for b in self.boxes if name_key(b.reviewer) == name_key(self.reviewer)]

    @property
    def others(self) -> list[ReviewerBox]:
        return [b for b in self.boxes if name_key(b.reviewer) != name_key(self.reviewer)]


def drawing_for(store, image: str, reviewer: str | None, nih_table: pd.DataFrame | None, key_prefix: str = "boxes",
                show_others: bool = True, with_downloads: bool = True, view=None) -> Drawing | None:
    """The `Drawing` for `viewer.show(drawing=...)`, or None without a reviewer name or when the
    store cannot be read (the error is shown; the viewer then shows the image without drawing).
    `view`: the image as the blind-reading gate gave it (`team.image_under_review`), read here when
    not given; other readers' boxes of a blind image are never in it."""
    if not reviewer:
        return None
    try:
        view = view if view is not None else team.image_under_review(store, image, reviewer)
    except CxrvizError as error:
        show_error(error)
        return None
    show_others = show_others and not view.blind
    boxes = list(view.boxes)
    if not show_others:
        boxes = [b for b in boxes if name_key(b.reviewer) == name_key(reviewer)]
    return Drawing(store, image, reviewer, tuple(nih_boxes_of(nih_table, image)), frozenset(view.own.labels) if view.own else None,
                   tuple(boxes), key_prefix, show_others, with_downloads)


def box_layer(drawing: Drawing, frame: Frame) -> list[tuple[tuple, str, tuple]]:
    """The reviewer boxes to draw (original pixels of `frame`), for the viewer's renderer: others'
    in blue, the reader's own in red with their id; marks of NIH boxes as wrong are not boxes."""
    layer = [(tuple(b.in_frame(frame)), f"{b.reviewer}: {b.finding}", OTHERS_COLOUR) for b in drawing.others if b.status != "wrong"]
    layer += [(tuple(b.in_frame(frame)), f"#{b.id} {b.finding}", MINE_COLOUR) for b in drawing.mine if b.status != "wrong"]
    return layer


def _table(nih: tuple, boxes: tuple, frame: Frame) -> pd.DataFrame:
    rows = [{"who": "NIH", "id": ref, "finding": f, "status": "NIH", "corrects": "",
             **dict(zip("xywh", (round(v, 1) for v in frame.from_nih(b))))} for ref, f, b in nih]
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
        st.image(background, output_format="PNG")
        st.caption("The drawing canvas could not load here; move or delete your boxes by their coordinates below.")
        return None
    return st_canvas(fill_color="rgba(255, 60, 60, 0.12)", stroke_width=2, stroke_color="#ff3c3c", background_image=background,
                     height=background.height, width=background.width, drawing_mode="labeled_rect", label=label,
                     font_size=14, key=key)


def canvas_background(png: bytes, frame: Frame) -> Image.Image:
    """The viewer's rendered crop (`png`) at the canvas's size, `frame.display_width` px wide."""
    return Image.open(io.BytesIO(png)).convert("RGB").resize((round(frame.display_width), round(frame.display_height)),
                                                             Image.Resampling.LANCZOS)


def canvas_boxes(result, frame: Frame) -> list[tuple[str, Box]]:
    """(label, box in original pixels) for each rectangle on the canvas; `frame` is the view the
    canvas shows, at the canvas's width."""
    return [(d["label"], frame.to_original(Box(d["left"], d["top"], d["width"], d["height"]))) for d in (result.boxes if result else [])]


def finding_choice(drawing: Drawing) -> str:
    """The finding stamped on the next rectangle ("" when the reader has ticked none)."""
    choices = [f for f in FINDINGS if f in (drawing.ticked or set())]
    finding = st.selectbox("Finding of the next box", choices or ["(tick a finding first)"], key=f"{drawing.key_prefix}_finding",
                           disabled=not choices)
    return finding if choices else ""


def draw_panel(drawing: Drawing, png: bytes, frame: Frame, label: str, show_nih: bool = True) -> None:
    """The drawing canvas in place of the viewer's image (its rendered `png`, shown as `frame`
    says), and the box controls under it; `label`: the finding stamped on new rectangles. Without
    `show_nih` (the reader hid the NIH boxes) they are neither listed nor offered to mark wrong."""
    key_prefix, image, reviewer = drawing.key_prefix, drawing.image, drawing.reviewer
    width, height = frame.width, frame.height
    where = (key_prefix, image, name_key(reviewer))
    for message in _flashed(where):
        st.warning(escape_markdown(message), icon=":material/info:")
    if not label:
        st.info("Tick the finding in your review and save it; then draw its box here. "
                "(A box for a finding you have not ticked is refused: labels stay your decision.)")
    background = canvas_background(png, frame)
    generation = st.session_state.setdefault(f"{key_prefix}_generation", 0)
    zoom, (cx, cy) = frame.zoom, frame.centre
    canvas_key = f"{key_prefix}_canvas_{image}_{zoom}_{cx}_{cy}_{round(frame.display_width)}_{generation}"
    result = _canvas(background, label, canvas_key)
    st.caption(("Green: NIH boxes. " if show_nih else "") + "Blue: other reviewers'. Red: yours (with their id). Drag to draw; "
               "changing zoom, centre or the drawing width clears rectangles not yet saved. B leaves drawing.")
    drawn = canvas_boxes(result, frame)

    def reset_canvas() -> None:
        st.session_state[f"{key_prefix}_generation"] = generation + 1

    nih_boxes = drawing.nih_boxes if show_nih else ()
    nih_refs = [ref for ref, _, _ in nih_boxes]
    if drawn:
        st.text("Drawn, not saved: " + "; ".join(f"{lab or '?'} at x={b.x:.0f} y={b.y:.0f} w={b.w:.0f} h={b.h:.0f}" for lab, b in drawn))
        s1, s2 = st.columns(2)
        corrects = s2.selectbox("…or as a correction of the NIH box", ["(a new box)", *nih_refs], key=f"{key_prefix}_corrects")
        if s1.button(f"Save {len(drawn)} drawn box{'es' if len(drawn) > 1 else ''}", type="primary", key=f"{key_prefix}_save"):
            _flash(save_drawn(drawing, drawn, corrects, width, height), where)
            reset_canvas()
            st.rerun()

    if nih_refs:
        n1, n2 = st.columns([3, 1], vertical_alignment="bottom")
        wrong = n1.selectbox("Mark an NIH box wrong (wrong finding or wrong place)", nih_refs, key=f"{key_prefix}_wrong")
        if n2.button("Mark wrong", key=f"{key_prefix}_mark_wrong"):
            ref, f, b = next(item for item in nih_boxes if item[0] == wrong)
            s = frame.from_nih(b)
            try:
                add_box(drawing.store, ReviewerBox(image, reviewer, f, s.x, s.y, s.w, s.h, width, height, "wrong", ref))
                _flash([f"Marked the NIH box {ref} wrong; the NIH table itself is unchanged."], where)
            except CxrvizError as error:
                _flash([str(error)], where)
            st.rerun()

    mine = drawing.mine
    if mine:
        st.markdown("**Your boxes** (original pixels)")
        labels = {b.id: f"#{b.id} {b.finding} ({b.status}) x={b.x:.0f} y={b.y:.0f} w={b.w:.0f} h={b.h:.0f}" for b in mine}
        chosen_id = st.selectbox("Box", list(labels), format_func=labels.get, key=f"{key_prefix}_chosen")
        chosen = next(b for b in mine if b.id == chosen_id)
        m = st.columns(4)
        values = [m[i].number_input(c, value=float(round(getattr(chosen, c), 1)), step=1.0, key=f"{key_prefix}_{c}_{chosen.id}")
                  for i, c in enumerate("xywh")]
        b1, b2, b3 = st.columns(3)
        store = drawing.store
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

    table = _table(nih_boxes, drawing.boxes, frame)
    if len(table):
        st.dataframe(table, hide_index=True)
    box_files(drawing)


def box_files(drawing: Drawing) -> None:
    """The box downloads (what this reader may see) and the box CSV import, drawing or not."""
    if drawing.with_downloads:
        downloads(drawing.store, drawing.reviewer, drawing.key_prefix)
        from cxrviz.app import box_import

        box_import.upload(drawing.store, drawing.reviewer, drawing.key_prefix)  # a box CSV in: limits stated, progress bar


def save_drawn(drawing: Drawing, drawn: list[tuple[str, Box]], corrects: str, width: int, height: int) -> list[str]:
    """Save the drawn rectangles (original pixels of a `width` × `height` image); the messages to show."""
    messages = []
    for label, b in drawn:
        status, ref = ("drawn", None) if corrects == "(a new box)" else ("corrected", corrects)
        try:
            candidate = ReviewerBox(drawing.image, drawing.reviewer, label, b.x, b.y, b.w, b.h, width, height, status, ref)
            kept, notes = check_box(candidate, set(drawing.ticked or ()))
            add_box(drawing.store, kept)
            messages += notes + [f"Saved a {label} box."]
        except CxrvizError as error:
            messages.append(str(error))
    return messages


def _try(action) -> list[str]:
    """Run a store action; its messages (clipping) or the error's, for the flash."""
    try:
        return action() or []
    except CxrvizError as error:
        return [str(error)]


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
    from cxrviz.app import acting, resources

    try:
        boxed = {b.image for b in team.visible_boxes(resources.store_for(config), acting.viewer(config))}
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
    frame = Frame.of(shape)
    return [(b.reviewer, b.finding, b.in_frame(frame)) for b in boxes if b.status != "wrong"]
