"""Upload: predict and explain your own PNG, JPEG or DICOM; nothing is written to disk.

A session keeps one decoded upload (`decode_once`): a new file replaces the previous one, and
removing the file drops it. The file name and anything read from the file are shown as text."""

import streamlit as st

from cxrviz.app import resources, sidebar, state, viewer
from cxrviz.app.messages import stop_on_error
from cxrviz.data.imaging import MAX_PIXELS
from cxrviz.data.uploads import MAX_UPLOAD_BYTES, MIN_SIDE, decode_once, forget_upload

state.run_through_app()

config = resources.settings()
model = sidebar.model_picker(config)
st.title("Upload an image")
st.caption(
    f"PNG, JPEG or DICOM, up to {MAX_UPLOAD_BYTES // 2**20} MB, {MAX_PIXELS / 1e6:.0f} megapixels and at least "
    f"{MIN_SIDE} px on a side. Pixels stay in memory for this session only; nothing is stored."
)
upload = st.file_uploader("Chest X-ray", type=["png", "jpg", "jpeg", "dcm", "dicom"], key="upload_file")
if upload is None:
    forget_upload(st.session_state)
    st.stop()
st.text(f"File: {upload.name}")
with stop_on_error():
    decoded = decode_once(st.session_state, upload.file_id, upload.getvalue, upload.name)
st.text(" · ".join([decoded.kind, *(f"{k}: {v}" for k, v in decoded.details.items())]))
viewer.show(decoded.gray, model, key_prefix="upload")
