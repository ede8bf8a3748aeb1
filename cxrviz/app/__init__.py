"""Everything that imports Streamlit: cached resources, session and URL state, the sidebar,
the image viewer, plots and the thumbnail gallery. Pages call into these modules.

May import every other `cxrviz` layer. Nothing outside `cxrviz.app` and `pages/` imports Streamlit
(`tests/test_layers.py` checks it).
"""
