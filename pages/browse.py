"""Browse: filter the NIH metadata, see its plots, pick an image from the thumbnail grid."""

import numpy as np
import streamlit as st

from cxrviz.app import box_editor, gallery, links, pacs_view, plots, resources, sidebar, state
from cxrviz.app.messages import stop_on_error, warn_on_error
from cxrviz.app.text import escape_markdown, folder_name
from cxrviz.app.wording import count
from cxrviz.data import stats
from cxrviz.data.expert import mapping_text as expert_mapping_text
from cxrviz.data.filters import AGE_SLIDER, GENDERS, MATCH_MODES, VIEWS, Filter, apply_filter, filter_from_form, parse_patient_ids
from cxrviz.findings import FINDINGS
from cxrviz.review import triage

state.run_through_app()

config = resources.settings()
if pacs_view.source_picker(config) == pacs_view.PACS_SOURCE:  # shown only when CXRVIZ_DICOMWEB is set
    st.title("Browse the PACS")
    pacs_view.browse(config)
    st.stop()
st.title("Browse NIH ChestX-ray14")
with stop_on_error():
    metadata = resources.metadata_for(config)
    present, boxed = resources.row_masks(config)
for warning in metadata.warnings:
    st.warning(escape_markdown(warning), icon=":material/warning:")
index = resources.image_index(config)

if len(index) == 0:
    if config.images is None:
        st.info("No image folder is configured: browsing the metadata only. Set `CXRVIZ_IMAGES` to your NIH image folder and restart to see the images.", icon=":material/info:")
    else:
        st.warning(f"No NIH images (`NNNNNNNN_NNN.png`) were found in the folder {escape_markdown(folder_name(config.images))}: "
                   "browsing the metadata only. Check `CXRVIZ_IMAGES`.", icon=":material/warning:")

FILTER_KEYS = (*links.WIDGET_KEYS.values(), "grid_page")
default = Filter(has_image=len(index) > 0)  # what an unfiltered link means on this server
state.keep_widget_state(*FILTER_KEYS)
links.restore_filter(default)
with st.container(border=True):
    c1, c2, c3 = st.columns([3, 1, 1])
    findings = c1.multiselect("Findings", FINDINGS, key="f_findings")
    match = c2.radio("Match", MATCH_MODES, key="f_match", horizontal=False)
    no_finding = c3.checkbox("No Finding only", key="f_nofinding")
    c4, c5, c6, c7 = st.columns([2, 1, 1, 2])
    age_range = c4.slider("Age", *AGE_SLIDER, key="f_age")
    genders = c5.multiselect("Gender", GENDERS, key="f_gender")
    views = c6.multiselect("View", VIEWS, key="f_view")
    patients_text = c7.text_input("Patient ids (comma-separated)", key="f_patients")
    c8, c9, c10 = st.columns(3)
    has_image = c8.checkbox("Has a local image", key="f_hasimage")
    has_box = c9.checkbox("Has a ground-truth box", key="f_hasbox")
    has_reviewer_box = c10.checkbox("Has a reviewer box", key="f_hasreviewerbox")
    c11, c12, _ = st.columns(3)
    has_expert = c11.checkbox("Has an expert label (Google 2019)", key="f_hasexpert",
                              help="One of the 4,376 images Google's radiologists adjudicated in 2019 (Pneumothorax, "
                                   "Nodule or mass, Airspace opacity, Fracture).")
    nih_disagrees = c12.checkbox("NIH disagrees with the experts", key="f_nihdisagrees",
                                 help="For at least one adjudicated finding, the NIH label says the opposite of the experts: "
                                      + expert_mapping_text() + ". Fracture has no NIH label and is never compared.")
    expert_rows = disagree_rows = None
    with warn_on_error():  # a missing or malformed expert file: said here, these two filters keep nothing
        expert_rows, disagree_rows = resources.expert_masks(config)

patient_ids, not_ids = parse_patient_ids(patients_text)
if not_ids:
    st.warning("Patient ids must be whole numbers, e.g. 1, 30805. Ignored: " + escape_markdown(", ".join(not_ids)), icon=":material/warning:")
spec = filter_from_form(findings, match, no_finding, age_range, genders, views, patient_ids, has_image, has_box,
                        has_expert, nih_disagrees)
links.mirror_filter(spec, default)
mask = apply_filter(metadata, spec, present, boxed, expert_rows, disagree_rows)
if has_reviewer_box:
    mask &= box_editor.reviewer_box_mask(config, metadata)
rows = np.flatnonzero(mask)
n_patients = metadata.table["patient_id"].to_numpy()[mask]
m1, m2, m3, m4 = st.columns(4)
m1.metric("Images", f"{len(rows):,}")
m2.metric("Patients", f"{len(np.unique(n_patients)):,}")
m3.metric("Present locally", f"{int((mask & present).sum()):,}")
m4.metric("With boxes", f"{int((mask & boxed).sum()):,}")
st.session_state[state.BROWSE_ROWS_KEY] = rows
state.remember_widget_state(*FILTER_KEYS)

grid_tab, plot_tab, table_tab, triage_tab = st.tabs(["Images", "Plots", "Table", "Model triage"])
with grid_tab:
    local_rows = rows[present[rows]]
    if len(local_rows) == 0:
        st.write("No image of this selection is present locally.")
    else:
        pages = gallery.page_count(len(local_rows))
        page = st.number_input(f"Page (of {pages})", 1, pages, 1, key="grid_page")
        tiles = gallery.page_tiles(metadata, local_rows, index, config.cache, int(page))
        st.html(f"<style>{gallery.TILE_CSS}</style>")
        columns = st.columns(6)
        for i, tile in enumerate(tiles):
            with columns[i % 6], st.container(key=gallery.tile_key(tile.image)):
                if tile.thumbnail is not None:
                    st.image(str(tile.thumbnail), caption=escape_markdown(tile.caption), width="stretch")
                else:
                    st.error(escape_markdown(f"{tile.image}: {tile.problem}"))
                if st.button("Open", key=f"open_{tile.image}"):  # stretched over the tile: click the picture
                    state.open_page("pages/image.py", tile.image)
with plot_tab:
    p1, p2 = st.columns(2)
    p1.plotly_chart(plots.prevalence_bar(stats.prevalence(metadata, mask)), key="plot_prev")
    p2.plotly_chart(plots.age_histogram(stats.ages(metadata, mask)), key="plot_age")
    p2.plotly_chart(plots.view_bar(stats.by_view(metadata, mask)), key="plot_view")
    st.plotly_chart(plots.cooccurrence_heatmap(stats.cooccurrence(metadata, mask)), key="plot_cooc")
with table_tab:
    st.dataframe(metadata.table.iloc[rows[:5000]].rename(columns=gallery.TABLE_TITLES), hide_index=True)
    if len(rows) > 5000:
        st.caption(f"First 5,000 of {len(rows):,} rows.")
with triage_tab:
    local_names = metadata.table["image"].to_numpy()[rows[present[rows]]].tolist()
    st.write(f"Predict the {count(len(local_names), 'local image')} of this filter, then order them by a finding's "
             "probability or by disagreement with the NIH label: the first queue for finding wrong labels.")
    if st.toggle("Use model predictions", key="triage_on"):
        model = sidebar.model_picker(config)
        with stop_on_error():
            store = resources.store_for(config)
        if model is not None and local_names:
            b1, b2 = st.columns([1, 3])
            if b1.button(f"Predict {count(len(local_names), 'image')}", type="primary", key="triage_run"):
                bar = st.progress(0.0, text="Predicting…")
                st.button("Stop", key="triage_stop", help="Stops after the current batch; finished ones are kept.")
                triage.predict_missing(store, model, local_names, [index.paths[n] for n in local_names],
                                       lambda d, t: bar.progress(d / max(t, 1), text=f"{d:,} of {t:,} predicted"))
                bar.progress(1.0, text="Done.")
            probs = triage.prediction_frame(store, model, local_names)
            b2.caption(f"{len(probs):,} of {len(local_names):,} {'has' if len(local_names) == 1 else 'have'} "
                       f"cached predictions for {escape_markdown(model.spec.name)}.")
            if not probs.empty:
                t1, t2 = st.columns(2)
                order_by = t1.selectbox("Order by", ["disagreement", *FINDINGS], key="triage_by")
                minimum = t2.slider("Minimum score", 0.0, 1.0, 0.0, 0.05, key="triage_min")
                ordered = triage.ranked(metadata, probs, order_by, minimum)
                shown = probs.loc[ordered].assign(disagreement=triage.disagreement(metadata, probs).loc[ordered])
                st.dataframe(shown.round(3), height=320)
                if st.button(f"Review {'this image' if len(ordered) == 1 else f'these {len(ordered):,}'} in this order",
                             key="triage_review", disabled=not ordered):
                    state.set_queue(ordered, f"{order_by} order")
                    state.open_page("pages/review.py", ordered[0])
