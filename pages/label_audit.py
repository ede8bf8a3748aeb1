"""Label audit: how far the NIH labels (and the reviewers' corrections) agree with Google's 2019
expert adjudication, follow-up flips, and the labels cleanlab finds most likely wrong (from `python -m cxrviz audit`), sent to Review as a queue."""

import streamlit as st

from cxrviz.app import label_audit, resources, state
from cxrviz.app.messages import stop_on_error, warn_on_error
from cxrviz.data.expert import NIH_EQUIVALENTS
from cxrviz.review.audit_run import queue_images, suspect_queue

state.run_through_app()

config = resources.settings()
st.title("Label audit")

st.subheader("NIH labels against the experts")
expert = None
with warn_on_error():
    expert = label_audit.expert_labels()
    stats = label_audit.expert_statistics()
    st.plotly_chart(label_audit.statistics_plot(stats))
    st.dataframe(label_audit.statistics_table(stats), hide_index=True)
    st.caption(f"{len(expert):,} images adjudicated by three radiologists (Google, 2019), taken as the reference. "
               "Mapping: " + "; ".join(f"{e} → {', '.join(n) or 'no NIH finding'}" for e, n in NIH_EQUIVALENTS.items())
               + ". Airspace opacity spans several NIH findings (the paper's definition), so its figures measure the mapping as "
               "much as the labels.")

if expert is not None:
    with warn_on_error():
        ref = st.selectbox("Disagreements on", ["all", *[f for f, nih in NIH_EQUIVALENTS.items() if nih]], key="disagree_finding")
        found, disagree_images = label_audit.disagreement_images(config, expert, None if ref == "all" else ref)
        st.caption(f"{len(found):,} (image, finding) pairs where NIH and the experts differ; {len(disagree_images):,} of those images are local.")
        if st.button(f"Review the {len(disagree_images):,} local images where NIH and the experts disagree", key="disagree_review",
                     disabled=not disagree_images):
            label_audit.send_disagreements_to_review(config, found, disagree_images)

    st.subheader("Reviewers' corrections against the experts")
    with warn_on_error():
        corrected, moved = label_audit.reviewer_statistics(config, expert)
        if corrected.empty:
            st.info("No reviewed image has an expert label yet. Once reviewers save (confirm or correct) some of the "
                    f"{len(expert):,} adjudicated images, their labels are compared with the experts here, beside NIH's.",
                    icon=":material/info:")
        else:
            st.plotly_chart(label_audit.corrections_plot(corrected), key="corrections_plot")
            st.dataframe(label_audit.statistics_table(corrected), hide_index=True)
            st.caption(f"{int(corrected['images'].max()):,} adjudicated images with a confirmed or corrected review; per "
                       "image the latest such review counts (skipped and uncertain ones are left out). "
                       + label_audit.moves_caption(moved))

st.subheader("Follow-up flips")
with warn_on_error():
    flips, rates = label_audit.follow_up_flips(config)
    st.plotly_chart(label_audit.flip_rate_plot(rates))
    flip_finding = st.selectbox("Flips of", ["all", *rates.loc[rates["flips"] > 0, "finding"]], key="flip_finding")
    chosen, flip_images = label_audit.flips_of(config, flips, None if flip_finding == "all" else flip_finding)
    st.caption(f"{len(chosen):,} flips on {len(flip_images):,} local images: each row names the patient's prior and next "
               "study (the first 2,000 shown).")
    st.dataframe(chosen.head(2000), hide_index=True, height=240)
    if st.button(f"Review the {len(flip_images):,} local images in this list", key="flip_review", disabled=not flip_images):
        label_audit.send_flips_to_review(config, chosen, flip_images)

st.subheader("Likely wrong labels")
with stop_on_error():
    queue = suspect_queue(resources.store_for(config), expert)
if queue.empty:
    st.info("No label audit has been run yet. Run `python -m cxrviz audit --images DIR` (out-of-fold predictions and "
            "cleanlab); its suspect labels appear here.")
    st.stop()
runs = sorted(set(zip(queue["model"], queue["scheme"])))
c1, c2, c3 = st.columns([2, 2, 1])
run = c1.selectbox("Audit", runs, format_func=lambda r: f"{r[0]} · {r[1]}", key="audit_run")
finding = c2.selectbox("Finding", ["all", *sorted(set(queue["finding"]))], key="audit_finding")
flagged_only = c3.checkbox("Flagged only", value=True, key="audit_flagged",
                           help="Only the labels cleanlab's confident learning flags; otherwise the most suspect ones too.")
with stop_on_error():
    queue = suspect_queue(resources.store_for(config), expert, model=run[0], scheme=run[1],
                          finding=None if finding == "all" else finding, flagged_only=flagged_only)
images = queue_images(queue)
st.caption(f"{len(queue):,} suspect labels on {len(images):,} images, most suspect first (cleanlab's per-finding label "
           "quality: low = likely wrong). Expert: the Google 2019 adjudication where there is one.")
if queue.empty:
    st.info("No suspect labels for this choice.")
    st.stop()
st.plotly_chart(label_audit.queue_plot(queue))
st.dataframe(queue.drop(columns=["model", "scheme"]).round(3), hide_index=True, height=360)
local = label_audit.local_queue_images(config, queue)
if not local:
    st.info("None of these images is in this server's image folder (CXRVIZ_IMAGES), so there is nothing to review here.")
elif st.button(f"Review these {len(local):,} images in this order"
               + (f" ({len(images) - len(local):,} not present locally are left out)" if len(local) < len(images) else ""),
               type="primary", key="audit_review"):
    label_audit.send_to_review(queue, local)
