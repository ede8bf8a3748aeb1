"""Image: one NIH image with the model's probabilities, Grad-CAM, the NIH boxes, and reviewers' boxes (drawn here).
What it shows of other readers and of the references comes from the blind-reading gate (`team.image_under_review`)."""

import streamlit as st

from cxrviz.app import acting, auth, box_editor, image_nav, layout, measure_view, pacs_view, resources, sidebar, state, viewer
from cxrviz.app.messages import stop_on_error, warn_on_error
from cxrviz.app.text import escape_markdown, folder_name
from cxrviz.review.store import team
from cxrviz.review.visibility import unknown_view

state.run_through_app()

config = resources.settings()
model = sidebar.model_picker(config)
layout.xray_page()
name = state.current_image()
head, back, forward = st.columns([4, 1, 1], vertical_alignment="center")
head.title(pacs_view.page_title(name) if pacs_view.is_pacs_image(name) else f"Image {escape_markdown(name)}" if name else "Image",
           anchor=False)
if not name:
    st.info("Choose an image in Browse (click its thumbnail), or open a link such as `?image=00000100_000.png`.")
    st.stop()
if pacs_view.is_pacs_image(name):  # a SOP Instance UID: the image is on the PACS (CXRVIZ_DICOMWEB)
    pacs_view.image_page(config, model, name)
    st.stop()
with stop_on_error():
    metadata = resources.metadata_for(config)
    boxes = resources.boxes_for(config)
    present, _ = resources.row_masks(config)
route = image_nav.walk(metadata.table["image"].to_numpy(), st.session_state.get(state.BROWSE_ROWS_KEY), present)
image_nav.nav_buttons(route, name, back, forward)
path = resources.image_index(config).path_of(name)
if path is None:
    text, folder_to_blame = image_nav.missing_image(name, metadata.row_of(name) is not None,
                                                    folder_name(config.images) if config.images is not None else None)
    st.warning(escape_markdown(text) + (" Check `CXRVIZ_IMAGES`." if folder_to_blame else ""), icon=":material/warning:")
    st.page_link("pages/browse.py", label="Browse the images", icon=":material/search:")
    st.stop()
with stop_on_error():
    gray = resources.gray_of(path)
row = metadata.row_of(name)
if row is not None:
    st.caption(escape_markdown(metadata.describe(row) + f" · file {gray.shape[1]}×{gray.shape[0]} px · {route.where(name)} (keys ← →)"))
reviewer = acting.person(config)
store, view = None, unknown_view(name, reviewer)  # the store unreadable: show neither references nor others
with warn_on_error():
    store = resources.store_for(config)
    view = team.image_under_review(store, name, reviewer)  # only what a blind campaign lets this viewer see
nih = metadata.findings_of(name)
if view.references_hidden:  # a campaign reads this image without references until this reader has read it
    nih, boxes, model = None, None, None
    st.caption("Campaign reading: the NIH labels, boxes, expert labels and the model are hidden until you have read this image "
               "(confirmed, corrected or uncertain) on the Review page.")
else:
    with warn_on_error():
        if note := resources.expert_note(name):
            st.caption(escape_markdown(note))
drawing = None
if reviewer and store is not None:
    with warn_on_error():  # boxes are drawn on the viewer itself ("Draw boxes", key B)
        drawing = box_editor.drawing_for(store, name, reviewer, boxes, key_prefix="image_boxes", view=view)
measuring = measure_view.measuring_for(store, name, reviewer, metadata, gray.shape, "image_measure")  # length and CTR (key L)
viewer.show(gray, model, image=name, nih_labels=nih, boxes_table=boxes, key_prefix="image",
            reviewer_boxes=box_editor.viewer_boxes(config, name, gray.shape, boxes=view.boxes), drawing=drawing, measuring=measuring)
if reviewer and store is not None:
    measure_view.download(store, reviewer, "image_measure")
if view.blind:
    st.caption("Blind campaign: other readers' boxes of this image appear once you have read it.")
if not reviewer:
    st.caption("Sign in (sidebar) to draw boxes on this image." if auth.auth_configured()
               else "Enter your name in the sidebar (Your name) to draw boxes on this image.")
