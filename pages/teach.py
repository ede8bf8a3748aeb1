"""Teach: build a quiz from real cases, take it (image only, keys, reveal), present it, score it.

`?quiz=ID` is a learner's link and offers only the quiz; `?teach=ID` opens the teacher's views
(presenter, scores), which the store refuses to a signed-in user who is not the quiz's teacher."""

import streamlit as st

from cxrviz.app import quiz_view, resources, sidebar, state
from cxrviz.app.messages import stop_on_error
from cxrviz.app.text import escape_markdown
from cxrviz.review import quiz
from cxrviz.review.store import quizzes as quiz_store

state.run_through_app()

config = resources.settings()
with stop_on_error():
    metadata = resources.metadata_for(config)
    boxes = resources.boxes_for(config)
    store = resources.store_for(config)
index = resources.image_index(config)
teacher = quiz_view.viewer_identity()

teach_id = st.query_params.get(quiz_view.TEACH_PARAM)
quiz_id = st.query_params.get(quiz_view.QUIZ_PARAM)
if not teach_id and not quiz_id:
    st.title("Teach")
    quiz_view.builder(store, metadata, boxes, index, teacher)
    with stop_on_error():
        quiz_view.saved_quizzes(store, teacher)
    st.stop()

with stop_on_error():
    spec = quiz_store.teacher_quiz(store, teach_id, teacher) if teach_id else quiz_store.load_quiz(store, quiz_id)
if spec is None:
    st.error(escape_markdown(f"There is no quiz {teach_id or quiz_id!r} here: the link may be mistyped, or the quiz was made on "
                             "another server. Ask your teacher for the link again."), icon=":material/link_off:")
    st.button("Build or pick a quiz", key="teach_home", on_click=quiz_view.home)
    st.stop()

with stop_on_error():
    if teach_id:
        quiz_view.teacher_views(store, teach_id, spec, metadata, boxes, index, teacher)
    else:
        st.text(f"Quiz: {spec.name} · {len(spec.images)} cases · asks {quiz.asked_text(spec.asked)}")
        quiz_view.take(store, quiz_id, spec, metadata, boxes, index, sidebar.model_picker(config) if spec.reveal_model else None)
