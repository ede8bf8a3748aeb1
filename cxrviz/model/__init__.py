"""The model layer: architectures, weight files, the registry of models, preprocessing, the one
inference path (`inference.predict_batch`), batch prediction, training, evaluation and devices.

May import: `cxrviz.data` and the top-level modules, torch/torchvision/torchxrayvision.
Never SQL or Streamlit.
"""
