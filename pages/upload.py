"""Upload: predict and explain your own PNG, JPEG or DICOM; nothing is written to disk."""

import streamlit as st

from cxrviz import ui, viewer
from cxrviz.errors import CxrvizError
from cxrviz.uploads import MAX_UPLOAD_BYTES, decode_upload

ui.run_through_app()

config = ui.settings()
model = ui.model_picker(config)
st.title("Upload an image")
st.caption(f"PNG, JPEG or DICOM, up to {MAX_UPLOAD_BYTES // 2**20} MB and 50 megapixels. Pixels stay in memory; nothing is stored.")
upload = st.file_uploader("Chest X-ray", type=["png", "jpg", "jpeg", "dcm", "dicom"], key="upload_file")
if upload is None:
    st.stop()
try:
    decoded = decode_upload(upload.getvalue(), upload.name)
except CxrvizError as error:
    ui.show_error(error)
    st.stop()
st.caption(" · ".join([decoded.kind, *(f"{k}: {v}" for k, v in decoded.details.items())]))
viewer.show(decoded.gray, model, key_prefix="upload")
