"""Agreement: how far reviewers agree per finding (Cohen's or Fleiss' kappa) and where they differ."""

import plotly.express as px
import streamlit as st

from cxrviz.app import resources, state
from cxrviz.app.messages import stop_on_error
from cxrviz.review.agreement import agreement_table, conflicts

state.run_through_app()

config = resources.settings()
st.title("Reviewer agreement")
with stop_on_error():
    reviews = resources.store_for(config).reviews()
st.caption(f"{len(reviews)} reviews by {len({r.reviewer for r in reviews})} reviewers on {len({r.image for r in reviews})} images.")
table = agreement_table(reviews)
if table["images"].max() == 0:
    st.info("No image has been reviewed by two or more reviewers yet.")
    st.stop()
st.plotly_chart(px.bar(table.dropna(subset=["kappa"]), x="kappa", y="finding", orientation="h", range_x=[-1, 1], color="statistic", title="Kappa per finding"))
st.dataframe(table, hide_index=True)
st.subheader("Conflicts")
st.dataframe(conflicts(reviews), hide_index=True)
