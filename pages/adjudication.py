"""Adjudication: the images of a campaign whose readers disagree, every reading side by side (marked
when it was saved after the reader could see the others', with their first independent reading),
and the final labels recorded with a reason; the adjudicated-labels export. Adjudicators and
admins; an image they are themselves an unread reader of waits until they have read it."""

import streamlit as st

from cxrviz.app import acting, resources, state
from cxrviz.app.messages import show_error, warn_on_error
from cxrviz.errors import CxrvizError
from cxrviz.findings import ALL_LABELS, NO_FINDING
from cxrviz.review import roles
from cxrviz.review.adjudicated_export import adjudicated_csv
from cxrviz.review.identity import name_key
from cxrviz.review.store import team

state.run_through_app()
config = resources.settings()
st.title("Adjudication")
store, actor = acting.require_page(config, roles.ADJUDICATE)

campaigns = team.list_campaigns(store)
if not campaigns:
    st.info("No campaign yet: an admin creates one on the Admin page.")
    st.stop()
campaign = st.selectbox("Campaign", campaigns, format_func=lambda c: f"{c['id']}: {c['name']}", key="adj_campaign")
st.download_button("Adjudicated labels CSV", lambda: adjudicated_csv(store, campaign["id"], actor), f"cxrviz_campaign_{campaign['id']}_adjudicated.csv",
                   "text/csv", on_click="ignore", key="dl_adjudicated")
queue = team.adjudication_queue(store, campaign["id"], actor)
if not queue:
    st.success("No disagreement is waiting for adjudication in this campaign.")
    st.stop()
row = st.selectbox("Disagreement", queue, format_func=lambda r: f"{r['image']} ({'; '.join(r['disagreement'])})", key="adj_image")
image = row["image"]
path = resources.image_index(config).path_of(image)
if path is None:
    st.caption("This image is not present locally (CXRVIZ_IMAGES).")
else:
    try:
        st.image(resources.gray_of(path), caption=image, width=512, output_format="PNG")  # lossless, not JPEG
    except CxrvizError as error:  # the readings are what is judged; go on without the picture
        show_error(error)
st.subheader("Readings")
readings = {r.reviewer: r for r in team.visible_reviews(store, actor, image) if r.reviewer in row["readings"]}
history = team.reading_history(store, actor, image)
for column, (reader, review) in zip(st.columns(len(readings)), sorted(readings.items())):
    column.text(reader)
    column.text("\n".join(review.labels))
    column.text(f"status: {review.status}")
    if review.note:
        column.text(review.note)
    past = history.get(name_key(reader), {})
    if past.get("others_visible"):
        first = past.get("independent")
        column.warning("Made after others' readings were visible: not an independent reading.", icon=":material/visibility:")
        column.text(f"first independent reading: {(first['labels'] or 'No Finding').replace('|', ', ')} "
                    f"({first['status']}, {first['at']})" if first else "no independent reading was saved")
st.subheader("Final labels")
union = sorted({label for labels in row["readings"].values() for label in labels}, key=ALL_LABELS.index)
if len(union) > 1:  # a valid starting point: every finding any reader saw ('No Finding' excludes them)
    union = [label for label in union if label != NO_FINDING]
final = st.multiselect("Final labels", ALL_LABELS, default=union, key=f"adj_final_{campaign['id']}_{image}",
                       help="Nothing chosen means No Finding.")
reason = st.text_area("Reason (required)", key=f"adj_reason_{campaign['id']}_{image}", max_chars=5000)
if st.button("Record final labels", type="primary", key="adj_record"):
    with warn_on_error():
        team.adjudicate(store, actor, campaign["id"], image, final, reason)
        st.toast(f"{image}: final labels recorded.")
        st.rerun()
