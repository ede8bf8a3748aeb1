"""cxrviz entry point: `streamlit run app.py` (or `make run`)."""

import streamlit as st

from cxrviz import ui

st.set_page_config(page_title="cxrviz", page_icon="🫁", layout="wide")
navigation = st.navigation(
    [
        st.Page("pages/browse.py", title="Browse", icon="🔎", default=True),
        st.Page("pages/image.py", title="Image", icon="🩻"),
        st.Page("pages/upload.py", title="Upload", icon="📤"),
        st.Page("pages/review.py", title="Review", icon="✅"),
        st.Page("pages/agreement.py", title="Agreement", icon="🤝"),
    ]
)
ui.sidebar(ui.settings())
navigation.run()
