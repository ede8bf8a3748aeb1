"""Page chrome for the pages built around one X-ray (Image, Upload): the X-ray and the page's main
action must be on screen without scrolling in a 1280×800 window (issue 24).

Streamlit leaves 6rem above a page's title (for its toolbar) and sizes an image by its column's
width alone; here the top space is the toolbar's own height, and the X-ray is kept no taller than
the window below the page's header rows (`XRAY_TOP`), scaled down whole when it would be."""

from __future__ import annotations

import streamlit as st

XRAY_TOP = "23rem"  # the title row, a caption, the viewer's controls and its overlay buttons above the X-ray
CSS = """
[data-testid="stMainBlockContainer"] { padding-top: 3.5rem; }
[data-testid="stMainBlockContainer"] h1 { padding-top: 0.25rem; padding-bottom: 0.25rem; }
[data-testid="stMainBlockContainer"] [data-testid="stImage"] img { max-height: calc(100vh - %s); object-fit: contain; }
"""


def xray_page() -> None:
    """Call once near the top of a page that shows one X-ray."""
    st.html(f"<style>{CSS % XRAY_TOP}</style>")
