"""Explanations of a model's output: Grad-CAM family heatmaps, rendering an image with overlays
and boxes, and localisation accuracy against ground-truth boxes.

May import: `cxrviz.data`, `cxrviz.model` and the top-level modules, pytorch-grad-cam.
Never SQL or Streamlit.
"""
