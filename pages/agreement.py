import streamlit as st
st.title('agreement')
