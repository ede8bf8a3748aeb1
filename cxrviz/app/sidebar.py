"""The sidebar: the read-only configuration and the model picker.

The picker offers only weights the operator allows: the registry's models, the `CXRVIZ_WEIGHTS`
file and the files of the weights folder (`CXRVIZ_WEIGHTS_DIR`), by name; or a checkpoint the
user uploads, read in memory. No server path can be typed. The choice is kept in a session key
that is not a widget's, so it survives pages that do not draw the picker (Streamlit drops a
widget's state on a run that does not render it).
"""

from __future__ import annotations

import streamlit as st

from cxrviz.app import resources
from cxrviz.app.messages import show_error
from cxrviz.app.text import escape_markdown
from cxrviz.config import Settings
from cxrviz.errors import CxrvizError

MODEL_KEY = "model_name"  # the selectbox (widget state: dropped on pages without the picker)
CHOSEN_MODEL_KEY = "_cxrviz_model"  # the chosen model's name (plain session state: kept)
UPLOAD_KEY = "model_upload"  # the checkpoint file uploader
UPLOADED_MODEL_KEY = "_cxrviz_uploaded_model"  # (upload file id, LoadedModel) of this session's upload
UPLOAD_ERROR_KEY = "_cxrviz_upload_error"  # the WeightsError of the last upload, shown beside it


def sidebar(config: Settings) -> None:
    """Read-only view of the configuration, so users see what the app is pointed at."""
    with st.sidebar:
        st.caption("Not for clinical use: a research and teaching tool.")
        with st.expander("Configuration (environment variables)"):
            rows = config.as_rows()
            st.table({"variable": [r[0] for r in rows], "value": [r[1] for r in rows]})


def _take_upload(device: str) -> None:
    """on_change of the checkpoint uploader: load the new file in memory and choose it."""
    from cxrviz.model.registry import load_model, upload_spec
    from cxrviz.model.weights import sha256_bytes

    st.session_state.pop(UPLOAD_ERROR_KEY, None)
    upload = st.session_state.get(UPLOAD_KEY)
    if upload is None:  # the file was removed from the uploader: the loaded model stays chosen
        return
    data = upload.getvalue()
    try:
        model = load_model(upload_spec(upload.name, sha256_bytes(data)), device, data=data)
    except CxrvizError as error:
        st.session_state[UPLOAD_ERROR_KEY] = error
        return
    st.session_state[UPLOADED_MODEL_KEY] = (upload.file_id, model)
    st.session_state[CHOSEN_MODEL_KEY] = st.session_state[MODEL_KEY] = model.spec.name


def _remember_choice() -> None:
    st.session_state[CHOSEN_MODEL_KEY] = st.session_state[MODEL_KEY]


def _offer_download(spec, config: Settings) -> None:
    """A button that downloads a torchxrayvision model's weights (only when pressed), with a progress bar."""
    from cxrviz.model.download import fetch, xrv_download

    if not st.button(f"Download {spec.name}", key=f"download_{spec.name}", icon=":material/download:",
                     help="Fetches torchxrayvision's weight file into its cache folder, checked against the registry."):
        return
    bar = st.progress(0.0, text="connecting…")

    def progress(done: int, total: int | None) -> None:
        megabytes = f"{done / 2**20:.1f} MB"
        bar.progress(min(done / total, 1.0) if total else 0.0, text=megabytes if not total else f"{megabytes} of {total / 2**20:.1f} MB")

    try:
        fetch(xrv_download(spec.xrv_id, config.weights_url, spec.weights.parent), progress)
    except CxrvizError as error:
        bar.empty()
        show_error(error)
        return
    st.rerun()


def model_picker(config: Settings):
    """Sidebar choice of model; returns a `LoadedModel`, or None with the reason shown."""
    from cxrviz.model.devices import pick_device
    from cxrviz.model.registry import availability, registered_specs
    from cxrviz.model.weights import MAX_UPLOAD_BYTES

    with st.sidebar:
        try:
            specs = registered_specs(config.weights, config.weights_dir)
        except CxrvizError as error:
            show_error(error)
            return None
        device = pick_device(config.device)
        uploaded = st.session_state.get(UPLOADED_MODEL_KEY)
        if uploaded is not None:
            specs.append(uploaded[1].spec)
        names = [s.name for s in specs]
        chosen = st.session_state.get(CHOSEN_MODEL_KEY)
        if chosen not in names:
            chosen = config.model if config.model in names else names[0]
        if st.session_state.get(MODEL_KEY) != chosen:
            st.session_state[MODEL_KEY] = chosen  # give the widget back its value after a page switch
        name = st.selectbox("Model", names, key=MODEL_KEY, on_change=_remember_choice,
                            help="Checkpoints come from the weights folder (CXRVIZ_WEIGHTS_DIR) or an upload below.")
        st.session_state[CHOSEN_MODEL_KEY] = name
        with st.expander("Upload a DenseNet-121 checkpoint"):
            st.file_uploader(
                f"CheXNet-style state dict with 14 outputs (*.pt, *.pth or *.safetensors, up to "
                f"{MAX_UPLOAD_BYTES // 2**20} MB); read in memory, never stored",
                type=["pt", "pth", "safetensors"], key=UPLOAD_KEY, on_change=_take_upload, args=(device,),
            )
            if UPLOAD_ERROR_KEY in st.session_state:
                show_error(st.session_state[UPLOAD_ERROR_KEY])
        spec = specs[names.index(name)]
        if spec.source == "upload":
            model = uploaded[1]
        else:
            problem = availability(spec)
            if problem:
                st.warning(escape_markdown(problem), icon=":material/warning:")
                if spec.source == "xrv":
                    _offer_download(spec, config)
                return None
            try:
                model = resources.loaded_model(spec, device, resources.mtime(spec.weights))
            except CxrvizError as error:
                show_error(error)
                return None
        st.text(f"{spec.description} · on {device}")  # a file name: shown as text, never Markdown
        return model
