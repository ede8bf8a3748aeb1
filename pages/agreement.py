"""Agreement: how far reviewers agree per finding (Krippendorff's alpha on every image with two or more
reviewers, Cohen's kappa when there are exactly two, positive and negative agreement) and where they differ.
Computed on the reviews the viewer may see: a blind reader's unread campaign images are left out.
Below, each reader's throughput (images per hour, seconds per image): an admin sees every reader's."""

import plotly.express as px
import streamlit as st

from cxrviz.app import acting, box_editor, resources, state, throughput_view
from cxrviz.app.messages import stop_on_error
from cxrviz.review.agreement import agreement_table, conflicts, formatted
from cxrviz.review.store import team

state.run_through_app()

config = resources.settings()
st.title("Reviewer agreement")
viewer = acting.viewer(config)  # whose view: the gate leaves out what a blind reader may not see
with stop_on_error():
    store = resources.store_for(config)
    shared = team.shared_with(store, viewer)  # the reviews and boxes this viewer may see, nothing else
reviews = shared.reviews
if shared.visibility.locked:
    st.caption(f"Blind campaigns: the {len(shared.visibility.locked)} images whose other readings you may not see yet are left out.")
st.caption(f"{len(reviews)} reviews by {len({r.reviewer for r in reviews})} reviewers on {len({r.image for r in reviews})} images.")
table = agreement_table(reviews)
if table["images"].max() == 0:
    st.info("No image has been reviewed by two or more reviewers yet.")
    box_editor.agreement_section(config, shared.boxes)
    throughput_view.section(store, viewer)
    st.stop()
st.caption(f"{table['images'].max()} images have two or more reviewers; skipped reviews are left out. "
           "A statistic that cannot be computed is shown as n/a, with the reason.")
defined = table.dropna(subset=["alpha"])
if defined.empty:
    st.info("Krippendorff's alpha is not defined for any finding yet: see the reason column.")
else:
    figure = px.bar(defined, x="alpha", y="finding", orientation="h", range_x=[-1, 1], text="alpha",
                    hover_data=["images", "images_with_positive", "kappa"], title="Krippendorff's alpha per finding")
    figure.update_traces(texttemplate="%{x:.2f}", textposition="outside", cliponaxis=False)
    figure.add_vline(x=0, line_color="grey")
    st.plotly_chart(figure)
st.dataframe(formatted(table), hide_index=True)
st.subheader("Conflicts")
st.dataframe(conflicts(reviews), hide_index=True)
box_editor.agreement_section(config, shared.boxes)
throughput_view.section(store, viewer)  # each reader's images per hour, as this viewer may see them
