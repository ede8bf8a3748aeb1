"""The sidebar: the read-only configuration and the model picker."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cxrviz.app import resources
from cxrviz.app.messages import show_error
from cxrviz.config import Settings
from cxrviz.errors import CxrvizError

MODEL_KEY = "model_name"
USER_WEIGHTS_KEY = "user_weights"


def sidebar(config: Settings) -> None:
    """Read-only view of the configuration, so users see what the app is pointed at."""
    with st.sidebar:
        st.caption("Not for clinical use: a research and teaching tool.")
        with st.expander("Configuration (environment variables)"):
            rows = config.as_rows()
            st.table({"variable": [r[0] for r in rows], "value": [r[1] for r in rows]})


def model_picker(config: Settings):
    """Sidebar choice of model; returns a `LoadedModel`, or None with the reason shown."""
    from cxrviz.model.devices import pick_device
    from cxrviz.model.registry import availability, registered_specs

    with st.sidebar:
        typed = st.text_input("DenseNet-121 checkpoint (optional path)", key=USER_WEIGHTS_KEY, help="A CheXNet-style state dict with 14 outputs; `module.` prefixes are fine.")
        user_weights = Path(typed).expanduser() if typed.strip() else config.weights
        try:
            specs = registered_specs(user_weights)
        except CxrvizError as error:
            show_error(error)
            return None
        names = [s.name for s in specs]
        default = config.model if config.model in names else names[0]
        if st.session_state.get(MODEL_KEY) not in names:
            st.session_state[MODEL_KEY] = default
        name = st.selectbox("Model", names, key=MODEL_KEY)
        spec = specs[names.index(name)]
        problem = availability(spec)
        device = pick_device(config.device)
        if problem:
            st.warning(problem, icon=":material/warning:")
            return None
        try:
            model = resources.loaded_model(spec, device, resources.mtime(spec.weights))
        except CxrvizError as error:
            show_error(error)
            return None
        st.caption(f"{spec.description} · on {device}")
        return model
