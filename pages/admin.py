"""Admin: who may do what (roles), review campaigns (blind or open double reading), their
progress, and the log of every role and campaign change. Admins only."""

import pandas as pd
import streamlit as st

from cxrviz.app import acting, plots, resources, state
from cxrviz.app.messages import warn_on_error
from cxrviz.review import roles, rules
from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.store import team

state.run_through_app()
config = resources.settings()
st.title("Admin")
store, actor = acting.require_page(config, roles.MANAGE)

st.header("Users and roles")
users = team.list_users(store)
st.dataframe(pd.DataFrame(users, columns=["name", "email", "role", "created_at", "last_seen_at"]), hide_index=True)
with st.form("role_form"):
    c1, c2 = st.columns(2)
    known = [u["name"] for u in users]
    target = c1.selectbox("User", known, key="role_user", index=None, placeholder="choose a user")
    new_user = c1.text_input("…or a user not seen yet (their sign-in email)", key="role_new_user", max_chars=100)
    role = c2.selectbox("Role", ["(none)", *roles.ROLES], key="role_value")
    if st.form_submit_button("Set role"):
        with warn_on_error():
            team.set_role(store, actor, (new_user or "").strip() or target or "", None if role == "(none)" else role)
            st.rerun()

st.header("New campaign")
with st.form("campaign_form"):
    name = st.text_input("Campaign name", key="campaign_name", max_chars=200)
    source = st.radio("Images", ["Browse filter", "List of image names", "CSV file"], key="campaign_source", horizontal=True,
                      help="Browse filter: the local images of the filter last set on the Browse page. CSV: an 'Image Index' "
                           "column (a Data_Entry, corrections or BBox export), else the first column.")
    typed = st.text_area("Image names, one per line (for a list)", key="campaign_names", height=100)
    uploaded = st.file_uploader("CSV of image names (for a CSV file)", type=["csv"], key="campaign_csv")
    readers = st.multiselect("Readers", [u["name"] for u in users], key="campaign_readers")
    c1, c2, c3, c4 = st.columns(4)
    per_image = c1.number_input("Readers per image", 1, 10, 2, key="campaign_per_image")
    blind = c2.checkbox("Blind", value=True, key="campaign_blind", help="A reader sees no other reading of an image before saving their own.")
    hide = c3.checkbox("Hide references", value=True, key="campaign_hide", help="Hide the NIH labels, boxes and the model from readers.")
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0, key="campaign_seed")
    if st.form_submit_button("Create campaign", type="primary"):
        with warn_on_error():
            if source == "Browse filter":
                images = rules.build_queue(rules.BROWSE_SOURCE, st.session_state.get(state.BROWSE_ROWS_KEY), resources.metadata_for(config),
                                           resources.image_index(config), None)
            elif source == "CSV file":
                images = rules.image_names_from_csv(uploaded.getvalue() if uploaded is not None else b"")
            else:
                images = [line.strip() for line in typed.splitlines() if line.strip()]
            campaign_id = team.create_campaign(store, actor, CampaignSpec(name, tuple(images), tuple(readers), int(per_image), blind, hide, int(seed)))
            st.success(f"Campaign {campaign_id} created with {len(set(images))} images.")

st.header("Campaigns and progress")
campaigns = team.list_campaigns(store)
if not campaigns:
    st.caption("No campaign yet.")
for campaign in campaigns:
    per_reader, total = team.campaign_progress(store, campaign["id"])
    with st.expander(f"{campaign['id']}: {campaign['name']}" + (" · blind" if campaign["blind"] else " · open"), expanded=True):
        columns = st.columns(len(total))
        for column, (label, value) in zip(columns, total.items()):
            column.metric(label, value)
        st.dataframe(pd.DataFrame(per_reader, columns=["reader", "assigned", "submitted", "left"]), hide_index=True)
        with warn_on_error():
            quality = team.reader_quality(store, campaign["id"])
        if quality:
            st.caption("Reader quality against the settled labels (unanimous or adjudicated images); time is the median "
                       "gap between a reader's saves, breaks over 10 minutes left out. Admins only.")
            st.plotly_chart(plots.reader_quality(quality), key=f"quality_{campaign['id']}")
            st.dataframe(pd.DataFrame(quality).round(3), hide_index=True, key=f"quality_table_{campaign['id']}")

st.header("Team log")
st.dataframe(pd.DataFrame(team.team_log(store), columns=["at", "actor", "action", "target", "old_values", "new_values"]), hide_index=True)
