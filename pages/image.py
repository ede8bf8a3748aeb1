"""Image: one NIH image with the model's probabilities, Grad-CAM, the NIH boxes, and reviewers' boxes (drawn here).
What it shows of other readers and of the references comes from the blind-reading gate (`team.image_under_review`)."""

import streamlit as st

from cxrviz.app import box_editor, resources, sidebar, state, viewer
from cxrviz.app.messages import stop_on_error, warn_on_error
from cxrviz.app.text import escape_markdown, folder_name
from cxrviz.review.store import team
from cxrviz.review.visibility import unknown_view

state.run_through_app()

config = resources.settings()
model = sidebar.model_picker(config)
name = state.current_image()
st.title(f"Image {escape_markdown(name)}" if name else "Image", anchor=False)
if not name:
    st.info("Choose an image in Browse (Open), or open a link such as `?image=00000100_000.png`.")
    st.stop()
with stop_on_error():
    metadata = resources.metadata_for(config)
    boxes = resources.boxes_for(config)
path = resources.image_index(config).path_of(name)
if path is None:
    where = f"the image folder {folder_name(config.images)}" if config.images is not None else "an image folder (none is configured)"
    st.warning(escape_markdown(f"{name} is not in {where}.") + " Check `CXRVIZ_IMAGES`.", icon=":material/warning:")
    st.stop()
with stop_on_error():
    gray = resources.gray_of(path)
row = metadata.row_of(name)
if row is not None:
    st.caption(escape_markdown(metadata.describe(row) + f" · file {gray.shape[1]}×{gray.shape[0]} px"))
reviewer = state.reviewer_name()
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
viewer.show(gray, model, image=name, nih_labels=nih, boxes_table=boxes, key_prefix="image",
            reviewer_boxes=box_editor.viewer_boxes(config, name, gray.shape, boxes=view.boxes), drawing=drawing)
if view.blind:
    st.caption("Blind campaign: other readers' boxes of this image appear once you have read it.")
if not reviewer:
    st.caption("Enter your name in the sidebar to draw boxes on this image.")
