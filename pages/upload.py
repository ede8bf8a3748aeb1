"""Upload: predict and explain your own PNG, JPEG or DICOM; nothing is written to disk.

A session keeps one decoded upload (`decode_once`): a new file replaces the previous one, and
removing the file drops it. The file name and anything read from the file are shown as text."""

import streamlit as st

from cxrviz.app import layout, measure_view, resources, sidebar, state, viewer
from cxrviz.app.messages import stop_on_error
from cxrviz.data.imaging import MAX_PIXELS
from cxrviz.data.uploads import MAX_UPLOAD_BYTES, MIN_SIDE, decode_once, forget_upload

state.run_through_app()

config = resources.settings()
model = sidebar.model_picker(config)
layout.xray_page()
limits = (f"PNG, JPEG or DICOM, up to {MAX_UPLOAD_BYTES // 2**20} MB, {MAX_PIXELS / 1e6:.0f} megapixels and at least "
          f"{MIN_SIDE} px on a side. Pixels stay in memory for this session only; nothing is stored.")
head, chooser = st.columns([2, 3], vertical_alignment="center")
head.title("Upload", anchor=False)
upload = chooser.file_uploader("Chest X-ray (PNG, JPEG or DICOM)", type=["png", "jpg", "jpeg", "dcm", "dicom"],
                               key="upload_file", help=limits)
if upload is None:
    st.caption(limits)
    forget_upload(st.session_state)
    st.stop()
with stop_on_error():
    decoded = decode_once(st.session_state, upload.file_id, upload.getvalue, upload.name)
st.text(" · ".join([f"File: {upload.name}", decoded.kind, *(f"{k}: {v}" for k, v in decoded.details.items())]))
viewer.show(decoded.gray, model, key_prefix="upload",  # measured with the DICOM's pixel spacing (key L), nothing stored
            measuring=measure_view.measuring_for_upload(upload.name, upload.getvalue(), decoded.gray.shape, decoded.details.get("view")))
