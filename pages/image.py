"""Image: one NIH image with the model's probabilities, Grad-CAM and the ground-truth boxes."""

import streamlit as st

from cxrviz import ui, viewer
from cxrviz.errors import CxrvizError
from cxrviz.findings import ALL_LABELS

ui.run_through_app()

config = ui.settings()
model = ui.model_picker(config)
name = ui.current_image()
st.title(f"Image {name}" if name else "Image")
if not name:
    st.info("Choose an image in Browse (Open), or open a link such as `?image=00000100_000.png`.")
    st.stop()
try:
    metadata = ui.metadata_for(config)
    boxes = ui.boxes_for(config)
except CxrvizError as error:
    ui.show_error(error)
    st.stop()
path = ui.image_index(config).path_of(name)
if path is None:
    st.warning(f"{name} is not in the image folder (`CXRVIZ_IMAGES` = `{config.images}`).")
    st.stop()
try:
    gray = ui.gray_of(path)
except CxrvizError as error:
    ui.show_error(error)
    st.stop()
row = metadata.row_of(name)
labels = None
if row is not None:
    record = metadata.table.iloc[row]
    labels = {l for l, on in zip(ALL_LABELS, metadata.labels[row]) if on and l != "No Finding"}
    age = "unknown" if record["age"] != record["age"] else f"{record['age']:.0f}"
    st.caption(f"Patient {record['patient_id']} · follow-up {record['follow_up']} · age {age} · {record['gender']} · {record['view']} · file {gray.shape[1]}×{gray.shape[0]} px")
viewer.show(gray, model, image=name, nih_labels=labels, boxes_table=boxes, key_prefix="image")
