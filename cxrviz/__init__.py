"""cxrviz: review, explain and correct NIH ChestX-ray14 labels in a Streamlit dashboard."""

__version__ = "0.1.0"
