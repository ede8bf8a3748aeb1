"""Teach: build a quiz from real cases, take it (image only, keys, reveal), present it, score it."""

import streamlit as st

from cxrviz.app import quiz_view, resources, sidebar, state
from cxrviz.app.messages import stop_on_error
from cxrviz.app.text import escape_markdown
from cxrviz.review.store import quizzes as quiz_store

state.run_through_app()

config = resources.settings()
st.title("Teach")
with stop_on_error():
    metadata = resources.metadata_for(config)
    boxes = resources.boxes_for(config)
    store = resources.store_for(config)
index = resources.image_index(config)

quiz_id = st.query_params.get(quiz_view.QUIZ_PARAM)
if not quiz_id:
    quiz_view.builder(store, metadata, boxes, index)
    with stop_on_error():
        quiz_view.saved_quizzes(store)
    st.stop()

with stop_on_error():
    spec = quiz_store.load_quiz(store, quiz_id)
if spec is None:
    st.error(escape_markdown(f"There is no quiz {quiz_id!r} here: the link may be mistyped, or the quiz was made on another "
                             "server. Ask your teacher for the link again."), icon=":material/link_off:")
    st.button("Build or pick a quiz", key="teach_home", on_click=st.query_params.clear)
    st.stop()

st.text(f"Quiz: {spec.name} · {len(spec.images)} cases · asks {', '.join(spec.asked)}")
modes = list(quiz_view.MODES)
if "teach_mode" not in st.session_state:
    wanted = st.query_params.get(quiz_view.MODE_PARAM, "take")
    st.session_state["teach_mode"] = wanted if wanted in modes else "take"
mode = st.radio("Mode", modes, format_func=quiz_view.MODES.get, horizontal=True, key="teach_mode", label_visibility="collapsed")
st.query_params[quiz_view.MODE_PARAM] = mode
with stop_on_error():
    if mode == "take":
        quiz_view.take(store, quiz_id, spec, metadata, boxes, index, sidebar.model_picker(config) if spec.reveal_model else None)
    elif mode == "present":
        quiz_view.present(quiz_id, spec, metadata, boxes, index)
    else:
        quiz_view.scores(store, quiz_id, spec, metadata)
