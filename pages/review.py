"""Review: walk a queue of images, fix their labels, save; every save is committed before "saved"."""

import streamlit as st

from cxrviz import review, ui, viewer
from cxrviz.errors import CxrvizError
from cxrviz.export import corrections_csv, data_entry_csv
from cxrviz.findings import ALL_LABELS, FINDINGS, NO_FINDING
from cxrviz.store import STATUSES

ui.run_through_app()

config = ui.settings()
model = ui.model_picker(config)
st.title("Review labels")
try:
    metadata = ui.metadata_for(config)
    boxes = ui.boxes_for(config)
    store = ui.store_for(config)
except CxrvizError as error:
    ui.show_error(error)
    st.stop()
index = ui.image_index(config)

reviewer = st.text_input("Your name (required)", key="reviewer").strip()
if not reviewer:
    st.info("Enter your name to start reviewing; it is recorded with every label you save.")
    st.stop()

sources = ["Browse filter"] + ([st.session_state[ui.QUEUE_SOURCE_KEY]] if st.session_state.get(ui.QUEUE_KEY) else [])
source = st.radio("Queue", sources, index=len(sources) - 1, horizontal=True, key="queue_choice")
if source == "Browse filter":
    rows = st.session_state.get("browse_rows")
    names = metadata.table["image"].to_numpy()[rows].tolist() if rows is not None else sorted(index.paths)
    queue = [n for n in names if n in index]
else:
    queue = st.session_state[ui.QUEUE_KEY]
if not queue:
    st.warning("The queue is empty: no image of the current Browse filter is present locally (`CXRVIZ_IMAGES`).")
    st.stop()

try:
    reviewed = store.reviewed_images()
except CxrvizError as error:
    ui.show_error(error)
    reviewed = set()
done = sum(1 for n in queue if n in reviewed)
st.progress(done / len(queue), text=f"{done} of {len(queue)} reviewed")

position = review.queue_position(queue, ui.current_image())
nav1, nav2, nav3 = st.columns([1, 1, 4])
if nav1.button("◀ Previous", disabled=position == 0, shortcut="ArrowLeft"):
    position -= 1
if nav2.button("Next ▶", disabled=position >= len(queue) - 1, shortcut="ArrowRight"):
    position += 1
name = queue[position]
ui.set_current_image(name)
nav3.markdown(f"**{name}** ({position + 1} / {len(queue)})")

flash = st.session_state.pop("review_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

row = metadata.row_of(name)
nih = {l for l, on in zip(ALL_LABELS, metadata.labels[row]) if on and l != NO_FINDING} if row is not None else set()
try:
    existing = store.reviews(name)
except CxrvizError as error:
    ui.show_error(error)
    existing = []
own = next((r for r in existing if r.reviewer == reviewer), None)
start = review.starting_labels(own, nih)


def review_form(probs) -> None:
    with st.form(f"form_{name}", border=True):
        st.markdown("**Your labels**")
        ticked = {label: st.checkbox(label, value=label in start, key=f"lab_{name}_{label}") for label in ALL_LABELS}
        status = st.radio("Status", STATUSES, index=STATUSES.index(own.status) if own else 0, horizontal=True, key=f"status_{name}")
        note = st.text_area("Note", value=own.note if own else "", key=f"note_{name}")
        submitted = st.form_submit_button("Save and next", type="primary", shortcut="Ctrl+Enter")
    if not submitted:
        return
    try:
        labels = review.chosen_labels(ticked)
    except review.LabelConflict as error:
        st.error(str(error))
        return
    final = review.resolve_status(status, nih, labels)
    shown = None if probs is None else {f: float(p) for f, p in zip(FINDINGS, probs)}
    try:
        store.save_review(name, reviewer, labels, final, note, model.spec.name if model else None, shown)
    except CxrvizError as error:
        ui.show_error(error)  # the form keeps its values: nothing typed is lost
        return
    st.session_state["review_flash"] = f"Saved {name} as {final}: {'|'.join(labels)}."
    if position < len(queue) - 1:
        ui.set_current_image(queue[position + 1])
    st.rerun()


try:
    gray = ui.gray_of(index.path_of(name))
except CxrvizError as error:
    ui.show_error(error)
    review_form(None)
    st.stop()
viewer.show(gray, model, image=name, nih_labels=nih, boxes_table=boxes, key_prefix="review", beside=review_form)

others = review.others(existing, reviewer)
st.subheader("Other reviewers of this image")
if others:
    st.dataframe(others, hide_index=True)
else:
    st.caption("Nobody else has reviewed this image yet.")

st.subheader("Export")
e1, e2 = st.columns(2)
e1.download_button("Corrections CSV", lambda: corrections_csv(store.reviews(), metadata), "cxrviz_corrections.csv", "text/csv", on_click="ignore", key="dl_corrections")
e2.download_button("Data_Entry_2017.csv with corrections", lambda: data_entry_csv(store.reviews(), metadata), "Data_Entry_2017_corrected.csv", "text/csv", on_click="ignore", key="dl_dataentry")
