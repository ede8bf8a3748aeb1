"""Upload: predict and explain your own PNG, JPEG or DICOM; nothing is written to disk."""

import streamlit as st

from cxrviz.app import resources, sidebar, state, viewer
from cxrviz.app.messages import stop_on_error
from cxrviz.data.uploads import MAX_UPLOAD_BYTES, decode_upload

state.run_through_app()

config = resources.settings()
model = sidebar.model_picker(config)
st.title("Upload an image")
st.caption(f"PNG, JPEG or DICOM, up to {MAX_UPLOAD_BYTES // 2**20} MB and 50 megapixels. Pixels stay in memory; nothing is stored.")
upload = st.file_uploader("Chest X-ray", type=["png", "jpg", "jpeg", "dcm", "dicom"], key="upload_file")
if upload is None:
    st.stop()
with stop_on_error():
    decoded = decode_upload(upload.getvalue(), upload.name)
st.caption(" · ".join([decoded.kind, *(f"{k}: {v}" for k, v in decoded.details.items())]))
viewer.show(decoded.gray, model, key_prefix="upload")
