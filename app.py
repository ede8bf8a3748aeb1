"""cxrviz entry point: `streamlit run app.py` (or `make run`)."""

import os

# Torch's OpenMP threads busy-wait between operations by default. With a CPU-bound process beside the
# server (a batch predict), one prediction + GradCAM took ~10 s instead of ~0.6 s on 2 cores; waiting
# passively keeps it there (benchmarks/bench_browser.py --load). It must be set before torch loads its
# OpenMP runtime, which nothing imported above the pages does (tests/app/test_server_threads.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402

from cxrviz.app import auth, links, resources, sidebar, state  # noqa: E402
from cxrviz.logs import configure_logging  # noqa: E402

configure_logging()
st.set_page_config(page_title="cxrviz", page_icon=":material/pulmonology:", layout="wide")
state.mark_app_run()
pages = [
    st.Page("pages/browse.py", title="Browse", icon=":material/search:", default=True),
    st.Page("pages/image.py", title="Image", icon=":material/radiology:"),
    st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
    st.Page("pages/review.py", title="Review", icon=":material/fact_check:"),
    st.Page("pages/agreement.py", title="Agreement", icon=":material/handshake:"),
    st.Page("pages/teach.py", title="Teach", icon=":material/school:"),
    st.Page("pages/model.py", title="Model", icon=":material/monitoring:"),
    st.Page("pages/label_audit.py", title="Label audit", icon=":material/rule:"),
    st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:"),
    st.Page("pages/adjudication.py", title="Adjudication", icon=":material/gavel:"),
]
navigation = st.navigation(pages)
auth.gate(resources.settings(), resources.store_for)
sidebar.sidebar(resources.settings())
links.say_unknown_page([page.url_path or "browse" for page in pages])  # `/nosuchpage` would show Browse without a word
navigation.run()
resources.settle_long_lived_objects()  # after the first run that loaded the model
