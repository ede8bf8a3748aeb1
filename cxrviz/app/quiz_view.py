"""The Teach page's widgets: the quiz builder, taking a quiz (image only, findings ticked with keys,
submit, reveal), the presenter view and the scores. The rules live in `review/quiz.py`, the rows
in `review/store/quizzes.py`; every name a teacher or learner typed is shown as text.

Two kinds of link: a learner's (`/teach?quiz=ID`) offers only taking the quiz, whatever else the
URL says; a teacher's (`/teach?teach=ID&view=present&case=3`, reached from the builder's list)
opens the presenter view or the scores. With sign-in the store checks that the viewer is the
quiz's creator or an admin (`quizzes.teacher_quiz`); without sign-in nothing tells a teacher from a
learner, and the page says so.

Every press runs in a widget callback (applied before the script, in order), like the Review form:
a quick second key press is never dropped, and a submit is committed before the reveal shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cxrviz.app import acting, image_view, resources, state, viewer
from cxrviz.app.messages import show_error
from cxrviz.app.review_form import LABEL_KEYS
from cxrviz.app.text import escape_markdown
from cxrviz.data.boxes import Box
from cxrviz.data.expert import ExpertLabels, image_disagreements
from cxrviz.errors import CxrvizError
from cxrviz.explain.render import TRUTH_COLOUR
from cxrviz.findings import FINDINGS
from cxrviz.review import quiz
from cxrviz.review.identity import name_key
from cxrviz.review.store import quizzes as quiz_store

QUIZ_PARAM, TEACH_PARAM, VIEW_PARAM, CASE_PARAM, LEARNER_PARAM = "quiz", "teach", "view", "case", "learner"
VIEWS = {"present": "Presenter view", "scores": "Scores"}
TICKS = "_quiz_ticks"  # (quiz, learner key, image) -> set of findings ticked, until submitted
POSITIONS = "_quiz_positions"  # (quiz, learner key) -> case index (the presenter's is in the URL)
PROBLEMS = "_quiz_problems"  # (quiz, learner key, image) -> message of a failed submit
SUBMITTED = "_quiz_submitted"  # slots submitted in this session: a repeated press must not overwrite them
REVEALED = "_quiz_present_revealed"  # quiz -> case indices revealed in the presenter view
CREATED = "_quiz_created"
SUBMIT_KEY, REVEAL_KEY = "Ctrl+Enter", "V"
BUILDER_KEYS = {"source": "teach_source", "names": "teach_names", "name": "teach_name", "n": "teach_n",
                "order": "teach_order", "seed": "teach_seed", "asked": "teach_asked", "reveal_model": "teach_reveal_model"}
XRAY = "teach_xray"  # the keyed container of the X-ray: the style below keeps it inside the window
# The X-ray is square; its column's width alone would push it (and Submit) below the fold on a
# laptop, or leave it a thumbnail on a projector. It takes the column's width (`cqw`) or the
# window's height less what stands above it, whichever is smaller.
_FIT_STYLE = ("<style>.st-key-{key} {{container-type: inline-size;}} .st-key-{key} img {{width: min(100cqw, calc(100vh - {offset}rem))"
              " !important; height: auto; max-height: calc(100vh - {offset}rem); object-fit: contain; display: block;"
              " margin: 0 auto;}}</style>")
LEARNER_OFFSET_REM, PRESENTER_OFFSET_REM = 15.5, 9  # page padding, the quiz line, (the learner's) Adjust view, the caption
SIGN_IN_NOTE = ("Without sign-in nothing tells a teacher from a learner: the learner's link offers only the quiz, but "
                "anyone who opens Teach itself can reach this list, the presenter view and the scores. For marked tests, "
                "turn sign-in on: then only a quiz's creator (or an admin) can open them, checked on the server.")


def expert_labels() -> ExpertLabels:
    """The one expert-label table (`cxrviz.data.expert`), cached per file version."""
    from cxrviz.app import label_audit

    return label_audit.expert_labels()


def _expert_of(image: str) -> dict[str, bool] | None:
    try:
        return expert_labels().of(image) or None
    except CxrvizError as error:
        show_error(error)
        return None


def link(quiz_id: str) -> str:
    return f"/teach?{QUIZ_PARAM}={quiz_id}"


def teacher_link(quiz_id: str, view: str = "present") -> str:
    return f"/teach?{TEACH_PARAM}={quiz_id}&{VIEW_PARAM}={view}"


def viewer_identity() -> str | None:
    """The signed-in user, or None without sign-in (nobody can be told apart then)."""
    return acting.signed_in(resources.settings())


def fit_to_window(offset_rem: float) -> None:
    st.html(_FIT_STYLE.format(key=XRAY, offset=offset_rem))


# ---- the builder ------------------------------------------------------------------------------

def _restore_builder() -> None:
    """The builder's inputs from the session (a page switch drops unrendered widgets' state) or,
    on a fresh session (a reload), from the URL's `b_…` parameters; defaults otherwise."""
    state.keep_widget_state(*BUILDER_KEYS.values())
    from_url = quiz.builder_values(st.query_params.to_dict())
    for field, key in BUILDER_KEYS.items():
        if key not in st.session_state:
            value = from_url.get(field, quiz.BUILDER_DEFAULTS[field])
            st.session_state[key] = list(value) if field == "asked" else value


def _write_builder_url() -> None:
    values = {field: st.session_state.get(key, quiz.BUILDER_DEFAULTS[field]) for field, key in BUILDER_KEYS.items()}
    wanted = quiz.builder_params(values)
    for param in [p for p in st.query_params if p.startswith(quiz.BUILDER_PREFIX) and p not in wanted]:
        del st.query_params[param]
    for param, value in wanted.items():
        if st.query_params.get(param) != value:
            st.query_params[param] = value
    state.remember_widget_state(*BUILDER_KEYS.values())


def builder(store, metadata, boxes: pd.DataFrame, index, teacher: str | None) -> None:
    """Build a quiz from a source, save it, show its links. Its inputs live in the URL too, so a
    reload keeps a half-built quiz."""
    _restore_builder()
    st.subheader("New quiz")
    source = st.radio("Cases from", quiz.SOURCES, horizontal=True, key="teach_source")
    typed = ""
    if source == "Image names":
        typed = st.text_area("Image names (one per line, or separated by commas)", key="teach_names", height=100)
    expert = []
    if source == "Expert-adjudicated":
        try:
            expert = list(expert_labels().table.index)
        except CxrvizError as error:
            show_error(error)
    rows = st.session_state.get(state.BROWSE_ROWS_KEY)
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
    n = c2.number_input("Cases", 1, quiz.MAX_CASES, key="teach_n")
    order = c3.radio("Order", quiz.ORDERS, key="teach_order")
    seed = c4.number_input("Seed", 0, 2**31 - 1, key="teach_seed", disabled=order != "random")
    asked = st.multiselect("Findings asked", FINDINGS, key="teach_asked")
    reveal_model = st.checkbox("Reveal the model's probabilities and heatmap", key="teach_reveal_model")
    _write_builder_url()
    if st.button("Create quiz", type="primary", key="teach_create"):
        try:
            spec = quiz.build_quiz(name, candidates, asked, int(n), order, int(seed), source, reveal_model, reveal_model)
            st.session_state[CREATED] = quiz_store.save_quiz(store, spec, created_by=teacher)
        except CxrvizError as error:
            show_error(error)
    created = st.session_state.get(CREATED)
    if created:
        st.success("Quiz saved. Learners open it with this link (add the server address in front); it offers them only the quiz:",
                   icon=":material/check_circle:")
        st.code(link(created), language=None)
        st.caption("Your presenter view and the scores: " + teacher_link(created) + " (also under Saved quizzes below).")
        b1, b2, b3 = st.columns(3)
        b1.button("Take it as a learner", key="teach_open_created", on_click=open_quiz, args=(created,), width="stretch")
        b2.button("Present it", key="teach_present_created", on_click=open_teacher, args=(created, "present"), width="stretch")
        b3.button("Its scores", key="teach_scores_created", on_click=open_teacher, args=(created, "scores"), width="stretch")


def open_quiz(quiz_id: str) -> None:
    """The learner's view: only the quiz id (and the learner's name) in the URL."""
    learner = st.query_params.get(LEARNER_PARAM)
    st.query_params.from_dict({QUIZ_PARAM: quiz_id, **({LEARNER_PARAM: learner} if learner else {})})


def open_teacher(quiz_id: str, view: str) -> None:
    st.query_params.from_dict({TEACH_PARAM: quiz_id, VIEW_PARAM: view})


def home() -> None:
    st.query_params.from_dict({k: v for k, v in st.query_params.to_dict().items() if k.startswith(quiz.BUILDER_PREFIX)})


def saved_quizzes(store, teacher: str | None) -> None:
    st.subheader("Your quizzes" if teacher else "Saved quizzes")
    st.caption(f"Signed in as {teacher}: the quizzes you made (an admin sees every quiz)." if teacher else SIGN_IN_NOTE)
    rows = quiz_store.list_quizzes(store, teacher)
    if not rows:
        st.caption("No quiz yet.")
        return
    table = pd.DataFrame(rows).assign(**{"learner link": [link(r["id"]) for r in rows],
                                         "teacher link": [teacher_link(r["id"]) for r in rows]})
    st.dataframe(table[["name", "cases", "answers", "created_by", "created_at", "learner link", "teacher link"]], hide_index=True)
    ids = [r["id"] for r in rows]
    chosen = st.selectbox("Quiz", ids, format_func=lambda i: next(f"{r['name']} ({r['id']})" for r in rows if r["id"] == i), key="teach_pick")
    b1, b2, b3 = st.columns(3)
    b1.button("Take it as a learner", key="teach_open_take", on_click=open_quiz, args=(chosen,), width="stretch")
    for column, (view, label) in zip((b2, b3), VIEWS.items()):
        column.button(label, key=f"teach_open_{view}", on_click=open_teacher, args=(chosen, view), width="stretch")


# ---- a case's image ---------------------------------------------------------------------------

def _truths(boxes: pd.DataFrame, image: str, shape) -> list[tuple[str, Box]]:
    return viewer.truth_boxes(boxes, image, shape)


def case_image(gray: np.ndarray, key_prefix: str, truths: list[tuple[str, Box]] = (), controls: bool = True) -> None:
    """The X-ray alone (no model output), as tall as the window allows: window, zoom, invert in a
    popover above it; ground-truth boxes only when given."""
    key = viewer.image_key(gray)
    view = image_view.view_controls(key_prefix, st.popover("Adjust view", icon=":material/tune:")) if controls else image_view.View()
    drawn = tuple(((b.x, b.y, b.w, b.h), f"GT {label}", TRUTH_COLOUR) for label, b in truths)
    png = image_view.render(gray, None, (key, "quiz"), drawn, view, 0.0)
    fit_to_window(LEARNER_OFFSET_REM if controls else PRESENTER_OFFSET_REM)
    with st.container(key=XRAY):
        st.image(png, width="stretch", caption=viewer.box_legend(bool(truths), False), output_format="PNG")  # as rendered, not JPEG


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
    """The signed-in user when sign-in is configured (nothing to type); else the learner's name
    (sidebar), kept across page switches and reloads in `?learner=` (`acting.person`)."""
    return acting.person(resources.settings(), acting.LEARNER)


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
    """The learner's view, and nothing else: the image and the answer form side by side (both in
    the window), the reveal once this case is submitted, their own score at the end."""
    learner = learner_name()
    if not learner:
        st.info("Enter your name in the sidebar to start: your answers are saved under it, so you can reload or come back later.")
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
    gray = _gray(index, image)
    answer = done.get(image)

    def side(_probs=None) -> None:
        n1, n2, n3 = st.columns([5, 5, 4], vertical_alignment="center")  # the keys (← →) are shown on the buttons
        n1.button("Previous", key="quiz_prev", disabled=position == 0, shortcut="ArrowLeft",
                  on_click=_set_position, args=(slot, position - 1), width="stretch")
        n2.button("Next", key="quiz_next", disabled=position >= len(spec.images) - 1,
                  shortcut="ArrowRight", on_click=_set_position, args=(slot, position + 1), width="stretch")
        n3.text(f"Case {position + 1} of {len(spec.images)}")
        st.progress(len(done) / len(spec.images), text=f"{len(done)} of {len(spec.images)} answered")
        if answer is None:
            _answer_form(store, quiz_id, learner, image, spec)
        else:
            _reveal(image, spec, answer, metadata, boxes, model)
        if len(done) == len(spec.images):
            own_score(list(done.values()), spec, metadata)

    if answer is not None and gray is not None and spec.reveal_model and model is not None:
        viewer.show(gray, model, image=image, nih_labels=metadata.findings_of(image), boxes_table=boxes,
                    key_prefix=f"quiz_reveal_{quiz_id}", beside=side)
        return
    left, right = st.columns([1, 1])
    with right:
        side()
    with left:
        if gray is not None:
            case_image(gray, f"quiz_{quiz_id}", _truths(boxes, image, gray.shape) if answer is not None else [])


def _reveal(image: str, spec: quiz.QuizSpec, answer: quiz.Answer, metadata, boxes: pd.DataFrame, model) -> None:
    nih = metadata.findings_of(image)
    shown = quiz.reveal(image, spec.asked, answer.findings, nih, _expert_of(image),
                        _truths(boxes, image, (1024, 1024)), answer.click)
    reveal_panel(shown, nih)
    if spec.reveal_model and model is None:
        st.caption("The model's output is part of this quiz's reveal, but no model is loaded (see the sidebar).")


def own_score(answers: list[quiz.Answer], spec: quiz.QuizSpec, metadata) -> None:
    """A learner's own overall score (their answers only; the class's are the teacher's)."""
    truth = {a.image: found for a in answers if (found := metadata.findings_of(a.image)) is not None}
    summary = quiz.learner_summaries(answers, spec.asked, truth)
    st.success("All cases answered. Your score against the NIH labels:", icon=":material/celebration:")
    if summary:
        st.dataframe(pd.DataFrame([summary[0].row()]).drop(columns=["learner"]), hide_index=True)


def _answer_form(store, quiz_id: str, learner: str, image: str, spec: quiz.QuizSpec) -> None:
    slot = (quiz_id, name_key(learner), image)
    ticks = st.session_state.setdefault(TICKS, {}).get(slot, set())
    with st.container(border=True):
        problem = st.session_state.get(PROBLEMS, {}).get(slot)
        if problem:
            st.error(escape_markdown(problem), icon=":material/warning:")
        st.markdown("**Which findings do you see?** Nothing ticked means no finding.")
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
        st.text("NIH labels: " + (quiz.finding_names(sorted(nih)) if nih else "No Finding"))
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


# ---- the teacher's views ----------------------------------------------------------------------

def current_view() -> str:
    """The teacher's view, from the URL (`?view=`): a reload or a shared link reopens it."""
    wanted = st.query_params.get(VIEW_PARAM)
    return wanted if wanted in VIEWS else "present"


def _view_changed() -> None:
    chosen = st.session_state.get("teach_view")
    st.query_params[VIEW_PARAM] = chosen if chosen in VIEWS else current_view()


def _teacher_bar(spec: quiz.QuizSpec, compact: bool) -> None:
    """The quiz's name, the view switch and the way back to the list of quizzes."""
    st.session_state["teach_view"] = current_view()
    if compact:  # the presenter's narrow column: the name and the way back, then the switch
        t1, c2 = st.columns([3, 2], vertical_alignment="center")
        t1.text(f"{spec.name} · {len(spec.images)} cases")
        c1 = st.container()
    else:
        t1, c1, c2 = st.columns([3, 2, 1], vertical_alignment="center")
        t1.text(f"{spec.name} · {len(spec.images)} cases · asks {quiz.finding_names(spec.asked)}")
    c1.segmented_control("View", list(VIEWS), format_func=VIEWS.get, key="teach_view", label_visibility="collapsed",
                         on_change=_view_changed, width="stretch")
    c2.button("Quizzes", key="teach_home", on_click=home, icon=":material/arrow_back:", width="stretch")


def teacher_views(store, quiz_id: str, spec: quiz.QuizSpec, metadata, boxes: pd.DataFrame, index, teacher: str | None) -> None:
    """Presenter view or scores (`?view=`), for a quiz `quizzes.teacher_quiz` let this viewer open."""
    if current_view() == "present":
        present(quiz_id, spec, metadata, boxes, index)
        return
    _teacher_bar(spec, compact=False)
    scores(store, quiz_id, spec, metadata, teacher)
    st.caption(("Signed in: only you and admins can open this." if teacher else SIGN_IN_NOTE) + " Learners' link: " + link(quiz_id))


def _toggle_reveal(quiz_id: str, position: int) -> None:
    revealed = st.session_state.setdefault(REVEALED, {}).setdefault(quiz_id, set())
    revealed.symmetric_difference_update({position})


def _go_to_case(position: int) -> None:
    st.query_params[CASE_PARAM] = str(position + 1)


def present(quiz_id: str, spec: quiz.QuizSpec, metadata, boxes: pd.DataFrame, index) -> None:
    """One case at a time for the class: the image as tall as the window, the controls and (on V)
    the answer beside it, so a reveal never moves the image. The case is in the URL (`?case=`)."""
    st.set_page_config(initial_sidebar_state="collapsed")  # the class sees the X-ray, not the app's menu
    position = quiz.case_from_param(st.query_params.get(CASE_PARAM), len(spec.images))
    if st.query_params.get(CASE_PARAM) != str(position + 1):
        st.query_params[CASE_PARAM] = str(position + 1)
    revealed = position in st.session_state.setdefault(REVEALED, {}).get(quiz_id, set())
    image = spec.images[position]
    gray = _gray(index, image)
    left, right = st.columns([5, 2])
    with right:
        _teacher_bar(spec, compact=True)
        st.header(f"Case {position + 1} / {len(spec.images)}")
        n1, n2 = st.columns(2)
        n1.button("◀", key="present_prev", disabled=position == 0, shortcut="ArrowLeft", on_click=_go_to_case,
                  args=(position - 1,), width="stretch")
        n2.button("▶", key="present_next", disabled=position >= len(spec.images) - 1, shortcut="ArrowRight",
                  on_click=_go_to_case, args=(position + 1,), width="stretch")
        st.button("Hide (V)" if revealed else "Reveal (V)", key="present_reveal", shortcut=REVEAL_KEY, type="primary",
                  on_click=_toggle_reveal, args=(quiz_id, position), width="stretch")
        if revealed:
            nih = metadata.findings_of(image)
            asked = [f for f in spec.asked if f in (nih or set())]
            st.subheader(escape_markdown("NIH: " + (quiz.finding_names(asked) if asked else "none of the asked findings")))
            expert = _expert_of(image)
            if expert:
                said = [f for f, v in expert.items() if v]
                st.subheader(escape_markdown("Experts: " + (", ".join(said) or "none")))
                debatable = image_disagreements(nih or set(), expert, spec.asked)
                if debatable:
                    st.subheader(escape_markdown("Debatable: NIH and experts disagree on " + ", ".join(debatable)))
    with left:
        if gray is not None:
            case_image(gray, f"present_{quiz_id}", _truths(boxes, image, gray.shape) if revealed else [], controls=False)


# ---- scores -------------------------------------------------------------------------------------

def score_plot(scores: list[quiz.FindingScore]) -> go.Figure:
    """Sensitivity and specificity per finding; a rate with no case to measure it on has no bar and
    reads "n/a" (a 0 is a bar of height 0 labelled "0.00")."""
    findings = [s.finding.replace("_", " ") for s in scores]

    def bars(name: str, values: list[float | None]) -> go.Bar:
        return go.Bar(name=name, x=findings, y=[0 if v is None else v for v in values],
                      text=["n/a" if v is None else f"{v:.2f}" for v in values], textposition="outside")

    figure = go.Figure([bars("sensitivity", [s.sensitivity for s in scores]), bars("specificity", [s.specificity for s in scores])])
    figure.update_layout(barmode="group", yaxis={"range": [0, 1.15], "title": "fraction"}, height=360,
                         margin={"t": 30, "b": 10}, title="Class, per finding (against the NIH labels; n/a: no case to measure it on)")
    return figure


def scores(store, quiz_id: str, spec: quiz.QuizSpec, metadata, teacher: str | None) -> None:
    answers = quiz_store.class_answers(store, quiz_id, teacher)
    if not answers:
        st.info("Nobody has answered this quiz yet.")
        return
    truth = {image: found for image in spec.images if (found := metadata.findings_of(image)) is not None}
    show_names = st.toggle("Show learner names", value=False, key="quiz_show_names",
                           help="Off by default: the class view numbers learners in the order they first answered.")
    names = {a.learner: a.learner for a in answers} if show_names else quiz.anonymise(a.learner for a in answers)
    shown = [quiz.Answer(a.quiz_id, names[a.learner], a.image, a.findings, a.click, a.answered_at) for a in answers]
    st.markdown("**Per learner, overall** (every asked finding of every answered case is one call)")
    st.dataframe(pd.DataFrame([s.row() for s in quiz.learner_summaries(shown, spec.asked, truth)]), hide_index=True)
    pooled = quiz.class_scores(shown, spec.asked, truth)
    st.plotly_chart(score_plot(pooled), key="quiz_score_plot")
    st.markdown("**Class**")
    st.dataframe(pd.DataFrame([s.row() for s in pooled]).drop(columns=["learner"]), hide_index=True)
    st.markdown("**Per learner and finding**")
    st.dataframe(pd.DataFrame([s.row() for s in quiz.score(shown, spec.asked, truth)]), hide_index=True)
    st.download_button("Answers CSV", quiz.answers_csv(shown, spec.asked), f"quiz_{quiz_id}_answers.csv", "text/csv",
                       on_click="ignore", key="quiz_csv")
