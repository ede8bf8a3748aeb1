import streamlit as st
st.title('upload')
