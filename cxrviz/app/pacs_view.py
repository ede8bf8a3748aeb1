"""The PACS in the app: Browse's PACS section (one page of X-ray instances at a time, filtered by
the PACS, with thumbnails), and a PACS image opened on the Image and Review pages by its SOP
Instance UID (`?image=1.2.840…`), shown by the same viewer as an NIH image.

Credentials come from `.streamlit/secrets.toml` (`[dicomweb]`: username and password, or token),
never from the URL bar. A PACS that fails (down, slow, 401/403) is a sentence in the section or
page; the rest of the app keeps working. Nothing is fetched but the page of results shown, its
thumbnails (cached on disk by SOP Instance UID) and the image opened.
"""

from __future__ import annotations

import datetime as dt
import functools

import streamlit as st

from cxrviz.app import state
from cxrviz.app.messages import show_error, warn_on_error
from cxrviz.app.text import escape_markdown
from cxrviz.config import Settings
from cxrviz.data import dicomweb
from cxrviz.data.dicomweb import Credentials, Pacs, PacsQuery, is_sop_uid
from cxrviz.errors import CxrvizError

NIH_SOURCE, PACS_SOURCE = "NIH folder", "PACS"
SOURCE_KEY = "browse_source"
PAGE_KEY = "pacs_page"
FILTER_KEYS = ("pacs_sex", "pacs_view", "pacs_age", "pacs_dates", "pacs_patient", SOURCE_KEY)
VIEWS = ("PA", "AP", "LL", "RL", "LATERAL")
SEXES = ("F", "M", "O")
PACS_QUEUE = "PACS page"


def is_pacs_image(name: str | None) -> bool:
    return is_sop_uid(name)


def page_title(sop_uid: str) -> str:
    """A UID is 64 digits: the title names the source, the caption below has the whole UID."""
    return "PACS image"


def credentials() -> Credentials:
    """`[dicomweb]` from the app's secrets; none when there is no secrets file or no such table."""
    from streamlit.errors import StreamlitSecretNotFoundError

    try:
        table = st.secrets.get("dicomweb")
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        table = None
    return Credentials.from_mapping(dict(table) if table else None)


@st.cache_resource(show_spinner=False, max_entries=4)
def _pacs(url: str, _credentials: Credentials, secrets_key: tuple, timeout: float) -> Pacs:
    return Pacs(url, _credentials, timeout)


def pacs_for(config: Settings) -> Pacs | None:
    """The configured PACS (CXRVIZ_DICOMWEB), or None; one client per URL, credentials and timeout."""
    if not config.dicomweb:
        return None
    found = credentials()
    key = (found.username, hash((found.password, found.token)))
    return _pacs(config.dicomweb, found, key, config.dicomweb_timeout)


@st.cache_data(show_spinner=False, max_entries=16)  # decoded images: a few MB each, bounded
def _opened(url: str, sop_uid: str, _pacs: Pacs):
    instance, decoded = _pacs.open_image(sop_uid)
    return instance, decoded.gray, decoded.details


def open_image(config: Settings, sop_uid: str):
    """(PacsInstance, gray, details) of one PACS image; raises `CxrvizError` with the sentence."""
    pacs = pacs_for(config)
    if pacs is None:
        raise CxrvizError(f"{sop_uid} is a PACS image (a SOP Instance UID), and no PACS is configured here: "
                          "set CXRVIZ_DICOMWEB to the PACS's DICOMweb URL.")
    return _opened(pacs.url, sop_uid, pacs)


@st.cache_data(show_spinner=False, max_entries=64)  # attributes only: small
def _header(url: str, sop_uid: str, _pacs: Pacs):
    return _pacs.instance_header(sop_uid)


def source_header(config: Settings, sop_uid: str):
    """The PACS image's DICOM attributes (no pixels), which its report's SR references."""
    pacs = pacs_for(config)
    if pacs is None:
        raise CxrvizError(f"{sop_uid} is a PACS image and no PACS is configured here: set CXRVIZ_DICOMWEB.")
    return _header(pacs.url, sop_uid, pacs)


def pacs_gray(config: Settings, sop_uid: str):
    return open_image(config, sop_uid)[1]


def pacs_instance(config: Settings, sop_uid: str):
    return open_image(config, sop_uid)[0]


def source_picker(config: Settings) -> str:
    """Browse's source (NIH folder or PACS) when a PACS is configured; NIH otherwise."""
    if not config.dicomweb:
        return NIH_SOURCE
    state.keep_widget_state(*FILTER_KEYS)
    if SOURCE_KEY not in st.session_state:  # a link with ?source=pacs opens the PACS section
        st.session_state[SOURCE_KEY] = PACS_SOURCE if st.query_params.get("source") == "pacs" else NIH_SOURCE
    chosen = st.segmented_control("Source", (NIH_SOURCE, PACS_SOURCE), key=SOURCE_KEY) or NIH_SOURCE
    state.remember_widget_state(SOURCE_KEY)
    return chosen


def query_from_form(sexes, views, age_range, dates, patient_id: str) -> PacsQuery:
    """The PACS section's widgets as a query; an unfinished date range (one day picked) is ignored."""
    date_range = None
    if isinstance(dates, (tuple, list)) and len(dates) == 2:
        date_range = tuple(d.strftime("%Y%m%d") for d in dates)
    age = tuple(int(a) for a in age_range) if age_range else None
    if age == (0, dicomweb.MAX_AGE):
        age = None
    return PacsQuery(tuple(sexes), tuple(views), age, date_range, patient_id.strip() or None)


def _tile_key(sop_uid: str) -> str:
    return "pacs_" + sop_uid.replace(".", "-")


def browse(config: Settings) -> None:
    """The PACS section of Browse: filters, one page of results (table + thumbnails), Open, Review."""
    from cxrviz.app import gallery

    pacs = pacs_for(config)
    st.caption(escape_markdown(f"PACS: {config.dicomweb} · CR and DX X-rays, {dicomweb.PAGE_SIZE} per page, "
                               "filtered by the PACS"))
    state.keep_widget_state(*FILTER_KEYS, PAGE_KEY)
    with st.container(border=True):
        c1, c2, c3, c4, c5 = st.columns([1, 1, 2, 2, 2])
        sexes = c1.multiselect("Sex", SEXES, key="pacs_sex")
        views = c2.multiselect("View", VIEWS, key="pacs_view")
        age_range = c3.slider("Age", 0, dicomweb.MAX_AGE, (0, dicomweb.MAX_AGE), key="pacs_age")
        dates = c4.date_input("Study date", value=(), min_value=dt.date(1980, 1, 1), key="pacs_dates")
        patient = c5.text_input("Patient ID", key="pacs_patient")
    query = query_from_form(sexes, views, age_range, dates, patient)
    if st.session_state.get("_pacs_query") != query:  # a new filter starts at its first page
        st.session_state["_pacs_query"] = query
        st.session_state[PAGE_KEY] = 1
    page_number = int(st.session_state.setdefault(PAGE_KEY, 1))
    try:
        with st.spinner("Asking the PACS…"):
            page = pacs.search(query, page_number, dicomweb.PAGE_SIZE)
    except CxrvizError as error:
        show_error(error)
        return
    finally:
        state.remember_widget_state(*FILTER_KEYS, PAGE_KEY)
    n1, n2, n3, n4 = st.columns([1, 1, 3, 2], vertical_alignment="center")
    n1.button("◀ Previous", key="pacs_prev", disabled=page_number <= 1, on_click=_turn, args=(-1,), width="stretch")
    n2.button("Next ▶", key="pacs_next", disabled=not page.has_next, on_click=_turn, args=(1,), width="stretch")
    if not page.instances:
        n3.write("No CR or DX image on the PACS matches these filters." if page_number == 1 else "No more images.")
        return
    n3.text(f"Page {page_number}: images {page.first}–{page.first + len(page.instances) - 1}"
            + (" (more on the next page)" if page.has_next else ""))
    uids = [i.sop_uid for i in page.instances]
    if n4.button(f"Review these {len(uids)}", key="pacs_review", type="primary", width="stretch"):
        state.set_queue(uids, f"{PACS_QUEUE} {page_number}")
        state.open_page("pages/review.py", uids[0])
    st.html(f"<style>{gallery.TILE_CSS}</style>")
    columns = st.columns(6)
    for i, instance in enumerate(page.instances):
        with columns[i % 6], st.container(key=f"tile_{_tile_key(instance.sop_uid)}"):
            try:
                thumb = dicomweb.thumbnail(pacs, config.cache, instance)
                st.image(str(thumb), caption=escape_markdown(_caption(instance)), width="stretch")
            except CxrvizError as error:
                st.error(escape_markdown(f"{_caption(instance)}: {error}"))
            if st.button("Open", key=f"open_{_tile_key(instance.sop_uid)}"):
                state.open_page("pages/image.py", instance.sop_uid)
    st.dataframe([i.row() for i in page.instances], hide_index=True, key="pacs_table")


def _caption(instance) -> str:
    age = f"{instance.age} y" if instance.age is not None else "?"
    return f"{instance.view or '?'} · {age} · {instance.sex or '?'} · {instance.study_date or 'no date'}"


def _turn(step: int) -> None:
    st.session_state[PAGE_KEY] = max(1, int(st.session_state.get(PAGE_KEY, 1)) + step)


def image_page(config: Settings, model, name: str) -> None:
    """The Image page for a PACS image: the same viewer, boxes and blind-reading gate as for an NIH
    image (no NIH labels or boxes: the PACS has none)."""
    from cxrviz.app import acting, auth, box_editor, measure_view, viewer
    from cxrviz.review.store import team
    from cxrviz.review.visibility import unknown_view

    try:
        instance, gray, details = open_image(config, name)
    except CxrvizError as error:
        show_error(error)
        st.page_link("pages/browse.py", label="Browse the PACS", icon=":material/search:", query_params={"source": "pacs"})
        return
    st.caption(escape_markdown(f"PACS · {instance.describe()} · {details.get('photometric', '')} · file {details.get('size', '')}"))
    st.caption(escape_markdown(f"SOP Instance UID {instance.sop_uid} · study {instance.study_uid}"))
    if note := details.get("note"):
        st.caption(escape_markdown(note))
    from cxrviz.app import resources

    reviewer = acting.person(config)
    store, view = None, unknown_view(name, reviewer)
    with warn_on_error():
        store = resources.store_for(config)
        view = team.image_under_review(store, name, reviewer)
    if view.references_hidden:
        model = None
        st.caption("Campaign reading: the model is hidden until you have read this image on the Review page.")
    drawing = None
    if reviewer and store is not None:
        with warn_on_error():
            drawing = box_editor.drawing_for(store, name, reviewer, None, key_prefix="image_boxes", view=view)
    viewer.show(gray, model, image=name, key_prefix="image",
                reviewer_boxes=box_editor.viewer_boxes(config, name, gray.shape, boxes=view.boxes), drawing=drawing,
                measuring=measure_view.measuring_for_pacs(store, instance, reviewer, gray.shape, "image_measure"))
    if not reviewer:
        st.caption("Sign in (sidebar) to draw boxes on this image." if auth.auth_configured()
                   else "Enter your name in the sidebar (Your name) to draw boxes on this image.")
    if model is not None:  # on request: the heatmap overlay back to the PACS, as a derived image of its study
        store_button(config, functools.partial(heatmap_capture_of, config, model, name, gray),
                     label="Store the heatmap overlay in the PACS", key="pacs_stow_heatmap",
                     help="A derived Secondary Capture (GradCAM of the model's top finding over this image) in the image's "
                          "own study, marked DERIVED; each object's outcome is shown.")
    if st.button("Review this image", key="pacs_review_one", icon=":material/rate_review:"):
        state.set_queue([name], "PACS image")
        state.open_page("pages/review.py", name)


def heatmap_capture_of(config: Settings, model, sop_uid: str, gray) -> list:
    """[the derived Secondary Capture of the GradCAM heatmap of the model's top finding on this PACS image]."""
    from cxrviz.explain import cam, render
    from cxrviz.findings import FINDINGS
    from cxrviz.model.inference import predict_gray
    from cxrviz.review.dicom_sr import heatmap_capture

    probs = predict_gray(model, gray)
    top = int(probs.argmax())
    rgb = render.overlay(gray, cam.heatmap(model, gray, top, "GradCAM"))
    return [heatmap_capture(source_header(config, sop_uid), rgb, FINDINGS[top], "GradCAM", model.spec.name)]


def store_button(config: Settings, datasets, label: str = "Store in the PACS", key: str = "pacs_stow",
                 help: str | None = None) -> list | None:
    """A button that stores DICOM objects (e.g. a signed report's SR, a heatmap's Secondary
    Capture) in the configured PACS over STOW-RS and shows each object's outcome: stored, already
    there, or refused with the PACS's reason. `datasets`: the pydicom Datasets, or a callable
    making them (called only on a press). Nothing shown without a PACS. Returns the results of a
    press, else None; a PACS that cannot be asked is a sentence, nothing else on the page stops."""
    if not config.dicomweb:
        return None
    if not st.button(label, key=key, icon=":material/cloud_upload:", help=help or f"STOW-RS to {config.dicomweb}"):
        return None
    try:
        results = dicomweb.stow(pacs_for(config), datasets() if callable(datasets) else datasets)
    except CxrvizError as error:
        show_error(error)
        return None
    for result in results:
        text = escape_markdown(result.describe())
        if result.outcome == dicomweb.STORED:
            st.success(text, icon=":material/check_circle:")
        elif result.outcome == dicomweb.ALREADY_THERE:
            st.info(text, icon=":material/info:")
        else:
            st.warning(text, icon=":material/warning:")
    return results
