"""Image: one NIH image with the model's probabilities, Grad-CAM, the NIH boxes, and reviewers' boxes (drawn here)."""

import streamlit as st

from cxrviz.app import box_editor, resources, sidebar, state, viewer
from cxrviz.app.messages import stop_on_error, warn_on_error
from cxrviz.app.text import escape_markdown, folder_name

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
with warn_on_error():
    if note := resources.expert_note(name):
        st.caption(escape_markdown(note))
reviewer, drawing = state.reviewer_name(), None
with warn_on_error():  # boxes are drawn on the viewer itself ("Draw boxes", key B)
    drawing = box_editor.drawing_for(resources.store_for(config), name, reviewer, boxes, key_prefix="image_boxes") if reviewer else None
viewer.show(gray, model, image=name, nih_labels=metadata.findings_of(name), boxes_table=boxes, key_prefix="image",
            reviewer_boxes=box_editor.viewer_boxes(config, name, gray.shape), drawing=drawing)
if not reviewer:
    st.caption("Enter your name in the sidebar to draw boxes on this image.")
