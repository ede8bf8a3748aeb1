"""The Teach page's widgets: the quiz builder, taking a quiz (image only, findings ticked with keys,
submit, reveal), the presenter view and the scores. The rules live in `review/quiz.py`, the rows
in `review/store/quizzes.py`; every name a teacher or learner typed is shown as text.

Every press runs in a widget callback (applied before the script, in order), like the Review form:
a quick second key press is never dropped, and a submit is committed before the reveal shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cxrviz.app import image_view, resources, state, viewer
from cxrviz.app.messages import show_error
from cxrviz.app.review_form import LABEL_KEYS
from cxrviz.app.text import escape_markdown
from cxrviz.data.boxes import Box
from cxrviz.errors import CxrvizError
from cxrviz.explain.render import TRUTH_COLOUR
from cxrviz.findings import FINDINGS
from cxrviz.review import quiz
from cxrviz.review.identity import name_key
from cxrviz.review.store import quizzes as quiz_store

QUIZ_PARAM, LEARNER_PARAM, MODE_PARAM = "quiz", "learner", "mode"
MODES = {"take": "Take the quiz", "present": "Presenter view", "scores": "Scores"}
TICKS = "_quiz_ticks"  # (quiz, learner key, image) -> set of findings ticked, until submitted
POSITIONS = "_quiz_positions"  # (quiz, learner key or "present") -> case index
PROBLEMS = "_quiz_problems"  # (quiz, learner key, image) -> message of a failed submit
SUBMITTED = "_quiz_submitted"  # slots submitted in this session: a repeated press must not overwrite them
REVEALED = "_quiz_present_revealed"  # quiz -> case indices revealed in the presenter view
CREATED = "_quiz_created"
SUBMIT_KEY, REVEAL_KEY = "Ctrl+Enter", "V"


@st.cache_resource(show_spinner=False)
def expert_labels() -> dict[str, dict[str, bool]]:
    return quiz.default_expert_labels()


def link(quiz_id: str) -> str:
    return f"/teach?{QUIZ_PARAM}={quiz_id}"


# ---- the builder ------------------------------------------------------------------------------

def builder(store, metadata, boxes: pd.DataFrame, index) -> None:
    """Build a quiz from a source, save it, show its link."""
    st.subheader("New quiz")
    source = st.radio("Cases from", quiz.SOURCES, horizontal=True, key="teach_source")
    typed = ""
    if source == "Image names":
        typed = st.text_area("Image names (one per line, or separated by commas)", key="teach_names", height=100)
    expert = []
    if source == "Expert-adjudicated":
        try:
            expert = list(expert_labels())
        except CxrvizError as error:
            show_error(error)
    rows = st.session_state.get("browse_rows")
    if source == "Browse filter" and rows is None:
        st.info("Open Browse and set a filter first: its images become the quiz's cases.")
    candidates, refused = quiz.candidates_for(
        source, image_names=metadata.table["image"].to_numpy(), browse_rows=rows, local=index,
        box_images=boxes["image"], expert_images=expert, typed=typed)
    if refused:
        st.warning("Not NIH image names present here, left out: " + escape_markdown(", ".join(refused[:20])), icon=":material/warning:")
    if not candidates and (source != "Browse filter" or rows is not None) and (source != "Image names" or typed.strip()):
        st.warning("This source holds no local image: the quiz would be empty. Widen the Browse filter or choose another source.",
                   icon=":material/warning:")
    st.caption(f"{len(candidates):,} local cases to draw from.")
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    name = c1.text_input("Quiz name", key="teach_name", max_chars=quiz.MAX_QUIZ_NAME)
    n = c2.number_input("Cases", 1, quiz.MAX_CASES, 10, key="teach_n")
    order = c3.radio("Order", quiz.ORDERS, key="teach_order")
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0, key="teach_seed", disabled=order != "random")
    asked = st.multiselect("Findings asked", FINDINGS, default=list(FINDINGS), key="teach_asked")
    reveal_model = st.checkbox("Reveal the model's probabilities and heatmap", value=True, key="teach_reveal_model")
    if st.button("Create quiz", type="primary", key="teach_create"):
        try:
            spec = quiz.build_quiz(name, candidates, asked, int(n), order, int(seed), source, reveal_model, reveal_model)
            st.session_state[CREATED] = quiz_store.save_quiz(store, spec)
        except CxrvizError as error:
            show_error(error)
    created = st.session_state.get(CREATED)
    if created:
        st.success("Quiz saved. Learners open it with this link (add the server address in front):", icon=":material/check_circle:")
        st.code(link(created), language=None)
        st.button("Open it", key="teach_open_created", on_click=open_quiz, args=(created,))


def open_quiz(quiz_id: str, mode: str = "take") -> None:
    st.query_params[QUIZ_PARAM] = quiz_id
    st.query_params[MODE_PARAM] = mode
    st.session_state.pop("teach_mode", None)


def saved_quizzes(store) -> None:
    st.subheader("Saved quizzes")
    rows = quiz_store.list_quizzes(store)
    if not rows:
        st.caption("No quiz yet.")
        return
    table = pd.DataFrame(rows).assign(link=[link(r["id"]) for r in rows])
    st.dataframe(table[["name", "cases", "answers", "created_at", "link"]], hide_index=True)
    ids = [r["id"] for r in rows]
    chosen = st.selectbox("Quiz", ids, format_func=lambda i: next(f"{r['name']} ({r['id']})" for r in rows if r["id"] == i), key="teach_pick")
    b1, b2, b3 = st.columns(3)
    for column, (mode, label) in zip((b1, b2, b3), MODES.items()):
        column.button(label, key=f"teach_open_{mode}", on_click=open_quiz, args=(chosen, mode), width="stretch")


# ---- a case's image ---------------------------------------------------------------------------

def _truths(boxes: pd.DataFrame, image: str, shape) -> list[tuple[str, Box]]:
    return viewer.truth_boxes(boxes, image, shape)


def case_image(gray: np.ndarray, key_prefix: str, truths: list[tuple[str, Box]] = (), controls: bool = True) -> None:
    """The X-ray alone (no model output): window, zoom, invert; ground-truth boxes only when given."""
    key = viewer.image_key(gray)
    view = image_view.view_controls(key_prefix, st.popover("Adjust view", icon=":material/tune:")) if controls else image_view.View()
    drawn = tuple(((b.x, b.y, b.w, b.h), f"GT {label}", TRUTH_COLOUR) for label, b in truths)
    png = image_view.render(gray, None, (key, "quiz"), drawn, view, 0.0)
    st.image(png, width="stretch", caption=viewer.box_legend(bool(truths), False))


def _gray(index, image: str):
    path = index.path_of(image)
    if path is None:
        st.error(escape_markdown(f"{image} is not in the image folder of this server (CXRVIZ_IMAGES): skip it."), icon=":material/warning:")
        return None
    try:
        return resources.gray_of(path)
    except CxrvizError as error:
        show_error(error)
        return None


# ---- taking a quiz ----------------------------------------------------------------------------

def learner_name() -> str | None:
    """The signed-in user when sign-in is configured (nothing to type); else the learner's name,
    kept across page switches and reloads in `?learner=`."""
    from cxrviz.app import auth

    if auth.auth_configured():
        return auth.signed_in_reviewer(resources.settings())
    return state.person_name("learner", LEARNER_PARAM)


def _set_position(slot: tuple, position: int) -> None:
    st.session_state.setdefault(POSITIONS, {})[slot] = position


def _toggle(slot: tuple, finding: str) -> None:
    ticks = st.session_state.setdefault(TICKS, {}).setdefault(slot, set())
    ticks.symmetric_difference_update({finding})


def _submit(store, quiz_id: str, learner: str, image: str) -> None:
    slot = (quiz_id, name_key(learner), image)
    submitted = st.session_state.setdefault(SUBMITTED, set())
    if slot in submitted:  # a second press (a repeated key) after this case was saved: keep the first answer
        return
    ticks = st.session_state.setdefault(TICKS, {}).get(slot, set())
    problems = st.session_state.setdefault(PROBLEMS, {})
    try:
        quiz_store.save_answer(store, quiz_id, learner, image, sorted(ticks))
    except CxrvizError as error:  # locked or unreachable: the ticks stay, submit again
        problems[slot] = str(error)
        return
    problems.pop(slot, None)
    submitted.add(slot)
    st.session_state[TICKS].pop(slot, None)


def take(store, quiz_id: str, spec: quiz.QuizSpec, metadata, boxes: pd.DataFrame, index, model) -> None:
    learner = learner_name()
    if not learner:
        st.info("Enter your name to start: your answers are saved under it, so you can reload or come back later.")
        return
    key = name_key(learner)
    done = {a.image: a for a in quiz_store.answers(store, quiz_id, learner)}
    slot = (quiz_id, key)
    positions = st.session_state.setdefault(POSITIONS, {})
    if slot not in positions:
        positions[slot] = quiz.resume_position(spec.images, done)
        if done:
            st.info(f"Welcome back: your {len(done)} submitted answers are kept; carrying on at case {positions[slot] + 1}.",
                    icon=":material/history:")
    position = min(positions[slot], len(spec.images) - 1)
    image = spec.images[position]
    st.progress(len(done) / len(spec.images), text=f"{len(done)} of {len(spec.images)} answered")
    n1, n2, n3 = st.columns([1, 1, 4])
    n1.button("◀ Previous", key="quiz_prev", disabled=position == 0, shortcut="ArrowLeft",
              on_click=_set_position, args=(slot, position - 1))
    n2.button("Next ▶", key="quiz_next", disabled=position >= len(spec.images) - 1, shortcut="ArrowRight",
              on_click=_set_position, args=(slot, position + 1))
    n3.text(f"Case {position + 1} of {len(spec.images)}")
    gray = _gray(index, image)
    answer = done.get(image)
    if answer is None:
        left, right = st.columns([3, 2])
        with left:
            if gray is not None:
                case_image(gray, f"quiz_{quiz_id}")
        with right:
            _answer_form(store, quiz_id, learner, image, spec)
        return
    nih = metadata.findings_of(image)
    expert = None
    try:
        expert = expert_labels().get(image)
    except CxrvizError as error:
        show_error(error)
    truths = _truths(boxes, image, gray.shape) if gray is not None else []
    shown = quiz.reveal(image, spec.asked, answer.findings, nih, expert, [(f, b) for f, b in _truths(boxes, image, (1024, 1024))],
                        answer.click)

    def panel(_probs=None) -> None:
        reveal_panel(shown, nih)

    if gray is None:
        panel()
    elif spec.reveal_model and model is not None:
        viewer.show(gray, model, image=image, nih_labels=nih, boxes_table=boxes, key_prefix=f"quiz_reveal_{quiz_id}", beside=panel)
    else:
        left, right = st.columns([3, 2])
        with left:
            case_image(gray, f"quiz_{quiz_id}", truths)
        with right:
            panel()
            if spec.reveal_model:
                st.caption("The model's output is part of this quiz's reveal, but no model is loaded (see the sidebar).")
    if len(done) == len(spec.images):
        st.success("All cases answered: see how you did under Scores.", icon=":material/celebration:")


def _answer_form(store, quiz_id: str, learner: str, image: str, spec: quiz.QuizSpec) -> None:
    slot = (quiz_id, name_key(learner), image)
    ticks = st.session_state.setdefault(TICKS, {}).get(slot, set())
    with st.container(border=True):
        problem = st.session_state.get(PROBLEMS, {}).get(slot)
        if problem:
            st.error(escape_markdown(problem), icon=":material/warning:")
        st.markdown("**Which findings do you see?** Tick with the keys shown; nothing ticked means no finding.")
        columns = st.columns(2)
        for i, finding in enumerate(spec.asked):
            columns[i % 2].button(finding.replace("_", " "), key=f"quiz_tick_{image}_{finding}",
                                  type="primary" if finding in ticks else "secondary", shortcut=LABEL_KEYS[finding],
                                  on_click=_toggle, args=(slot, finding), width="stretch")
        st.button("Submit", key=f"quiz_submit_{image}", type="primary", shortcut=SUBMIT_KEY, width="stretch",
                  on_click=_submit, args=(store, quiz_id, learner, image))


def reveal_panel(shown: quiz.Reveal, nih: set[str] | None) -> None:
    with st.container(border=True):
        st.markdown("**The answer**")
        if nih is None:
            st.warning("This image is not in the NIH metadata: no label to compare with.", icon=":material/warning:")
        table = pd.DataFrame(shown.rows)
        if not table.empty:
            st.dataframe(table, hide_index=True, width="stretch")
        st.text("NIH labels: " + (", ".join(sorted(nih)) if nih else "No Finding"))
        if shown.expert is not None:
            st.dataframe(pd.DataFrame([{"expert finding": f, "expert panel": "yes" if v else "no"} for f, v in shown.expert.items()]),
                         hide_index=True)
            if shown.debatable:
                st.warning("Debatable case: the NIH label (mined from the report text) and Google's expert panel disagree on "
                           + escape_markdown(", ".join(shown.debatable)) + ".", icon=":material/balance:")
        else:
            st.caption("No expert panel label for this image: the NIH label is mined from report text and can be wrong.")
        if shown.click_in is not None:
            st.text("Your click fell inside the box of: " + ", ".join(shown.click_in) if shown.click_in else
                    "Your click fell outside every ground-truth box.")


# ---- presenter view ---------------------------------------------------------------------------

def _toggle_reveal(quiz_id: str, position: int) -> None:
    revealed = st.session_state.setdefault(REVEALED, {}).setdefault(quiz_id, set())
    revealed.symmetric_difference_update({position})


def present(quiz_id: str, spec: quiz.QuizSpec, metadata, boxes: pd.DataFrame, index) -> None:
    slot = (quiz_id, "present")
    position = min(st.session_state.setdefault(POSITIONS, {}).get(slot, 0), len(spec.images) - 1)
    revealed = position in st.session_state.setdefault(REVEALED, {}).get(quiz_id, set())
    image = spec.images[position]
    n1, n2, n3, n4 = st.columns([1, 1, 1, 3])
    n1.button("◀", key="present_prev", disabled=position == 0, shortcut="ArrowLeft", on_click=_set_position, args=(slot, position - 1),
              width="stretch")
    n2.button("▶", key="present_next", disabled=position >= len(spec.images) - 1, shortcut="ArrowRight",
              on_click=_set_position, args=(slot, position + 1), width="stretch")
    n3.button("Hide (V)" if revealed else "Reveal (V)", key="present_reveal", shortcut=REVEAL_KEY, type="primary",
              on_click=_toggle_reveal, args=(quiz_id, position), width="stretch")
    n4.header(f"Case {position + 1} / {len(spec.images)}")
    gray = _gray(index, image)
    if revealed:
        nih = metadata.findings_of(image)
        asked = [f for f in spec.asked if f in (nih or set())]
        st.header(escape_markdown("NIH: " + (", ".join(asked) if asked else "none of the asked findings")))
        try:
            expert = expert_labels().get(image)
        except CxrvizError:
            expert = None
        if expert:
            said = [f for f, v in expert.items() if v]
            st.header(escape_markdown("Experts: " + (", ".join(said) or "none")))
            debatable = quiz.disagreements(nih or set(), expert, spec.asked)
            if debatable:
                st.header(escape_markdown("Debatable: NIH and experts disagree on " + ", ".join(debatable)))
    if gray is not None:
        truths = _truths(boxes, image, gray.shape) if revealed else []
        case_image(gray, f"present_{quiz_id}", truths, controls=False)


# ---- scores -------------------------------------------------------------------------------------

def score_plot(scores: list[quiz.FindingScore]) -> go.Figure:
    findings = [s.finding for s in scores]
    figure = go.Figure([
        go.Bar(name="sensitivity", x=findings, y=[s.sensitivity for s in scores]),
        go.Bar(name="specificity", x=findings, y=[s.specificity for s in scores]),
    ])
    figure.update_layout(barmode="group", yaxis={"range": [0, 1], "title": "fraction"}, height=360,
                         margin={"t": 30, "b": 10}, title="Class, per finding (against the NIH labels)")
    return figure


def scores(store, quiz_id: str, spec: quiz.QuizSpec, metadata) -> None:
    answers = quiz_store.answers(store, quiz_id)
    if not answers:
        st.info("Nobody has answered this quiz yet.")
        return
    truth = {image: found for image in spec.images if (found := metadata.findings_of(image)) is not None}
    show_names = st.toggle("Show learner names", value=False, key="quiz_show_names",
                           help="Off by default: the class view numbers learners in the order they first answered.")
    names = {a.learner: a.learner for a in answers} if show_names else quiz.anonymise(a.learner for a in answers)
    shown = [quiz.Answer(a.quiz_id, names[a.learner], a.image, a.findings, a.click, a.answered_at) for a in answers]
    pooled = quiz.class_scores(shown, spec.asked, truth)
    st.plotly_chart(score_plot(pooled), key="quiz_score_plot")
    st.markdown("**Class**")
    st.dataframe(pd.DataFrame([s.row() for s in pooled]).drop(columns=["learner"]).round(3), hide_index=True)
    st.markdown("**Per learner**")
    st.dataframe(pd.DataFrame([s.row() for s in quiz.score(shown, spec.asked, truth)]).round(3), hide_index=True)
    st.download_button("Answers CSV", quiz.answers_csv(shown, spec.asked), f"quiz_{quiz_id}_answers.csv", "text/csv",
                       on_click="ignore", key="quiz_csv")
