"""Review: walk a queue of images, fix their labels, save; every save is committed before "saved"."""

import streamlit as st

from cxrviz.app import resources, sidebar, state, viewer
from cxrviz.app.messages import show_error, stop_on_error
from cxrviz.errors import CxrvizError
from cxrviz.findings import ALL_LABELS, FINDINGS
from cxrviz.review import rules
from cxrviz.review.export import corrections_csv, data_entry_csv
from cxrviz.review.record import STATUSES

state.run_through_app()

config = resources.settings()
model = sidebar.model_picker(config)
st.title("Review labels")
with stop_on_error():
    metadata = resources.metadata_for(config)
    boxes = resources.boxes_for(config)
    store = resources.store_for(config)
index = resources.image_index(config)

reviewer = st.text_input("Your name (required)", key="reviewer").strip()
if not reviewer:
    st.info("Enter your name to start reviewing; it is recorded with every label you save.")
    st.stop()

sources = [rules.BROWSE_SOURCE] + ([st.session_state[state.QUEUE_SOURCE_KEY]] if st.session_state.get(state.QUEUE_KEY) else [])
source = st.radio("Queue", sources, index=len(sources) - 1, horizontal=True, key="queue_choice")
queue = rules.build_queue(source, st.session_state.get("browse_rows"), metadata, index, st.session_state.get(state.QUEUE_KEY))
if not queue:
    st.warning("The queue is empty: no image of the current Browse filter is present locally (`CXRVIZ_IMAGES`).")
    st.stop()

try:
    reviewed = store.reviewed_images()
except CxrvizError as error:
    show_error(error)
    reviewed = set()
done = sum(1 for n in queue if n in reviewed)
st.progress(done / len(queue), text=f"{done} of {len(queue)} reviewed")

position = rules.queue_position(queue, state.current_image())
nav1, nav2, nav3 = st.columns([1, 1, 4])
if nav1.button("◀ Previous", disabled=position == 0, shortcut="ArrowLeft"):
    position -= 1
if nav2.button("Next ▶", disabled=position >= len(queue) - 1, shortcut="ArrowRight"):
    position += 1
name = queue[position]
state.set_current_image(name)
nav3.text(f"{name} ({position + 1} / {len(queue)})")

flash = st.session_state.pop("review_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

nih = metadata.findings_of(name) or set()
try:
    existing = store.reviews(name)
except CxrvizError as error:
    show_error(error)
    existing = []
own = next((r for r in existing if r.reviewer == reviewer), None)
start = rules.starting_labels(own, nih)


def review_form(probs) -> None:
    with st.form(f"form_{name}", border=True):
        st.markdown("**Your labels**")
        ticked = {label: st.checkbox(label, value=label in start, key=f"lab_{name}_{label}") for label in ALL_LABELS}
        status = st.radio("Status", STATUSES, index=STATUSES.index(own.status) if own else 0, horizontal=True, key=f"status_{name}")
        note = st.text_area("Note", value=own.note if own else "", key=f"note_{name}")
        submitted = st.form_submit_button("Save and next", type="primary", shortcut="Ctrl+Enter")
    if not submitted:
        return
    shown = None if probs is None else {f: float(p) for f, p in zip(FINDINGS, probs)}
    try:
        outcome = rules.save_and_advance(store, name, reviewer, ticked, status, note, nih, queue,
                                         model.spec.name if model else None, shown)
    except CxrvizError as error:
        show_error(error)  # the form keeps its values: nothing typed is lost
        return
    st.session_state["review_flash"] = outcome.message
    if outcome.next_image:
        state.set_current_image(outcome.next_image)
    st.rerun()


try:
    gray = resources.gray_of(index.path_of(name))
except CxrvizError as error:
    show_error(error)
    review_form(None)
    st.stop()
viewer.show(gray, model, image=name, nih_labels=nih, boxes_table=boxes, key_prefix="review", beside=review_form)

others = rules.others(existing, reviewer)
st.subheader("Other reviewers of this image")
if others:
    st.dataframe(others, hide_index=True)
else:
    st.caption("Nobody else has reviewed this image yet.")

st.subheader("Export")
e1, e2 = st.columns(2)
e1.download_button("Corrections CSV", lambda: corrections_csv(store.reviews(), metadata), "cxrviz_corrections.csv", "text/csv", on_click="ignore", key="dl_corrections")
e2.download_button("Data_Entry_2017.csv with corrections", lambda: data_entry_csv(store.reviews(), metadata), "Data_Entry_2017_corrected.csv", "text/csv", on_click="ignore", key="dl_dataentry")
