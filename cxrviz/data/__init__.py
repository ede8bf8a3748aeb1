"""The dataset layer: NIH metadata and boxes, the image folder, decoding images and uploads,
filters and statistics.

May import: `cxrviz.config`, `cxrviz.errors`, `cxrviz.findings`, numpy/pandas/scipy/Pillow/pydicom.
Never torch, SQL or Streamlit: everything above builds on this layer.
"""
