"""The Teach page as a teacher and a learner use it: build a quiz from names, take it with the
keyed buttons, the reveal (a debatable case flagged), a reload mid-quiz, a dead link, an empty
filter, the presenter view and the scores."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from cxrviz.review.quiz import QuizSpec
from cxrviz.review.store import Store
from cxrviz.review.store import quizzes as qs
from tests.conftest import REPO, shown

TIMEOUT = 240
DEBATABLE = "00013519_000.png"  # NIH: Pneumothorax (and more); Google's experts: no pneumothorax
AGREED = "00022572_000.png"  # NIH: Atelectasis, Infiltration; experts: airspace opacity
BOXED = "00009745_000.png"  # NIH: Cardiomegaly, with a ground-truth box


def _teach(**params) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("pages/teach.py")
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    _ok(at)
    return at


def _store(app_env) -> Store:
    return Store(str(app_env / "reviews.sqlite"))


def _quiz(app_env, images=(DEBATABLE, AGREED, BOXED), asked=("Cardiomegaly", "Pneumothorax")) -> str:
    spec = QuizSpec("Week 3 <b>chest</b> *quiz*", tuple(images), tuple(asked), reveal_model=False, reveal_heatmap=False)
    return qs.save_quiz(_store(app_env), spec)


def test_a_teacher_builds_a_quiz_from_image_names(app_env):
    at = _teach()
    at.radio(key="teach_source").set_value("Image names").run()
    at.text_area(key="teach_names").input(f"{DEBATABLE}, {AGREED}\n{BOXED} not_an_image.png").run()
    assert any("not_an_image" in shown(w.value) for w in at.warning)
    assert any("3 local cases" in c.value for c in at.caption)
    at.text_input(key="teach_name").input("Monday *cases*").run()
    at.number_input(key="teach_n").set_value(2).run()
    at.number_input(key="teach_seed").set_value(5).run()
    at.multiselect(key="teach_asked").set_value(["Pneumothorax", "Cardiomegaly"]).run()
    _press(at, "teach_create")
    saved = qs.list_quizzes(_store(app_env))
    assert len(saved) == 1 and saved[0]["name"] == "Monday *cases*" and saved[0]["cases"] == 2
    quiz_id = saved[0]["id"]
    assert any(c.value == f"/teach?quiz={quiz_id}" for c in at.code)
    spec = qs.load_quiz(_store(app_env), quiz_id)
    assert spec.asked == ("Cardiomegaly", "Pneumothorax") and spec.seed == 5
    assert set(spec.images) <= {DEBATABLE, AGREED, BOXED}
    # the quiz name is user text: it reaches the page as plain text, never Markdown
    assert any(d.value["name"].tolist() == ["Monday *cases*"] for d in at.dataframe if "name" in d.value)


def test_an_empty_source_and_a_missing_name_are_refused_with_a_message(app_env):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("pages/teach.py")
    at.session_state["browse_rows"] = np.array([], dtype=int)  # a Browse filter that matched nothing
    at.run()
    _ok(at)
    assert any("no local image" in w.value for w in at.warning)
    at.text_input(key="teach_name").input("Empty").run()
    _press(at, "teach_create")
    assert any("no cases" in shown(e.value) for e in at.error)
    at.radio(key="teach_source").set_value("Boxed images").run()
    _press(at, "teach_create")  # a source with cases, and the name typed above: saved
    assert len(qs.list_quizzes(_store(app_env))) == 1
    at.text_input(key="teach_name").input("  ").run()
    _press(at, "teach_create")
    assert any("Give the quiz a name" in shown(e.value) for e in at.error)
    assert len(qs.list_quizzes(_store(app_env))) == 1


def test_a_link_to_a_quiz_that_does_not_exist_says_so(app_env):
    at = _teach(quiz="doesnotexist")
    assert any("There is no quiz" in shown(e.value) and "doesnotexist" in shown(e.value) for e in at.error)
    _press(at, "teach_home")
    assert at.radio(key="teach_source") is not None  # back to the builder


def test_a_learner_takes_the_quiz_with_keys_sees_the_reveal_and_resumes_after_a_reload(app_env):
    quiz_id = _quiz(app_env)
    at = _teach(quiz=quiz_id)
    assert any("Week 3 <b>chest</b> *quiz*" in t.value for t in at.text)  # the quiz name as text
    assert any("Enter your name" in i.value for i in at.info)
    at.text_input(key="learner").input("Ann Lee").run()
    _ok(at)
    assert at.query_params["learner"] in (["Ann Lee"], "Ann Lee")  # kept in the URL for a reload
    # only the image before the reveal: no label, no answer table
    assert not any("NIH labels" in t.value for t in at.text) and len(at.dataframe) == 0
    first = qs.load_quiz(_store(app_env), quiz_id).images[0]
    assert first == DEBATABLE
    assert at.button(key=f"quiz_tick_{first}_Pneumothorax").proto.shortcut  # a key, like Review
    _press(at, f"quiz_tick_{first}_Cardiomegaly")
    _press(at, f"quiz_tick_{first}_Pneumothorax")
    _press(at, f"quiz_tick_{first}_Cardiomegaly")  # untick
    assert at.button(key=f"quiz_tick_{first}_Pneumothorax").proto.type == "primary"
    submit = at.button(key=f"quiz_submit_{first}")
    submit.click()
    submit.click()  # a repeated key press in one run: the second must not overwrite the first
    at.run()
    _ok(at)
    saved = qs.answers(_store(app_env), quiz_id, "ann lee")
    assert [(a.image, a.findings) for a in saved] == [(DEBATABLE, ("Pneumothorax",))]
    outcome = next(d.value for d in at.dataframe if "outcome" in d.value)
    assert dict(zip(outcome["finding"], outcome["outcome"])) == {"Cardiomegaly": "correctly clear", "Pneumothorax": "found"}
    assert any("Debatable case" in shown(w.value) and "Pneumothorax" in w.value for w in at.warning)
    # next case, answer nothing, submit: kept too
    _press(at, "quiz_next")
    _press(at, f"quiz_submit_{AGREED}")
    assert len(qs.answers(_store(app_env), quiz_id, "Ann Lee")) == 2
    assert not any("Debatable" in w.value for w in at.warning)

    # a reload: a fresh session with the link and the name in the URL
    again = _teach(quiz=quiz_id, learner="Ann Lee")
    assert any("Welcome back" in i.value and "2 submitted" in i.value for i in again.info)
    assert any(t.value == "Case 3 of 3" for t in again.text)
    assert again.button(key=f"quiz_submit_{BOXED}") is not None
    _press(again, "quiz_prev")
    assert any("NIH labels: Atelectasis, Infiltration" == t.value for t in again.text)  # answered: its reveal


def test_presenter_view_moves_with_the_arrows_reveals_on_a_key_and_keeps_its_case_in_the_url(app_env):
    quiz_id = _quiz(app_env)
    at = _teach(teach=quiz_id, view="present")
    assert any(h.value == "Case 1 / 3" for h in at.header)
    assert at.button(key="present_reveal").proto.shortcut
    _press(at, "present_reveal")
    assert any("Debatable" in shown(h.value) for h in at.subheader)
    _press(at, "present_next")
    _press(at, "present_next")
    assert any(h.value == "Case 3 / 3" for h in at.header)
    assert at.query_params["case"] in (["3"], "3")  # a reload comes back here, not to case 1
    assert not any("NIH:" in shown(h.value) for h in at.subheader)  # each case hidden until revealed
    _press(at, "present_reveal")
    assert any(shown(h.value) == "NIH: Cardiomegaly" for h in at.subheader)
    again = _teach(teach=quiz_id, view="present", case="3")  # the reload: a fresh session, the same URL
    assert any(h.value == "Case 3 / 3" for h in again.header)
    assert any(h.value == "Case 1 / 3" for h in _teach(teach=quiz_id, view="present", case="zz").header)


def test_a_learners_link_offers_only_the_quiz_whatever_the_url_asks(app_env):
    quiz_id = _quiz(app_env)
    store = _store(app_env)
    qs.save_answer(store, quiz_id, "Bob", BOXED, ["Cardiomegaly"])
    for params in ({"mode": "present"}, {"mode": "scores"}, {"view": "present"}, {"view": "scores"}, {"case": "2"}):
        at = _teach(quiz=quiz_id, learner="Ann Lee", **params)
        assert at.button(key=f"quiz_submit_{DEBATABLE}") is not None  # the quiz
        keys = {b.key for b in at.button}
        assert not keys & {"present_reveal", "present_next", "teach_open_present", "teach_open_scores"}, params
        assert not [r for r in at.radio if r.key == "teach_mode"] and not at.get("segmented_control")
        assert not at.get("plotly_chart") and not any("Bob" in str(d.value) or "Learner 1" in str(d.value) for d in at.dataframe)
        assert not any("NIH" in shown(h.value) for h in [*at.header, *at.subheader])


def test_signed_in_a_learner_cannot_open_the_presenter_view_or_the_scores(app_env):
    from cxrviz.review.store import team
    from tests.app.test_auth import AUTH

    store = _store(app_env)
    team.sign_in(store, "teacher@example.org")  # first user: admin; the quiz is theirs
    team.set_role(store, "teacher@example.org", "ann@example.org", "reader")
    spec = QuizSpec("Signed quiz", (DEBATABLE, AGREED), ("Pneumothorax",), reveal_model=False, reveal_heatmap=False)
    quiz_id = qs.save_quiz(store, spec, created_by="teacher@example.org")
    qs.save_answer(store, quiz_id, "bob@example.org", DEBATABLE, ["Pneumothorax"])

    def as_user(email: str, **params) -> AppTest:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
        at.user = {"is_logged_in": True, "name": email.split("@")[0], "email": email}
        at.secrets = AUTH
        for key, value in params.items():
            at.query_params[key] = value
        at.switch_page("pages/teach.py")
        at.run()
        _ok(at)
        return at

    for view in ("present", "scores"):
        at = as_user("ann@example.org", teach=quiz_id, view=view)
        assert any("Only the teacher who made this quiz" in shown(e.value) for e in at.error), view
        assert not [b for b in at.button if b.key == "present_reveal"] and not at.get("plotly_chart")
        assert not any("bob" in str(d.value) for d in at.dataframe)
    at = as_user("ann@example.org")  # the builder: her own quizzes only, none of the teacher's
    assert not any(quiz_id in str(d.value) for d in at.dataframe)
    teacher = as_user("teacher@example.org", teach=quiz_id, view="present")
    assert any(h.value == "Case 1 / 2" for h in teacher.header)
    teacher = as_user("teacher@example.org", teach=quiz_id, view="scores")
    assert teacher.get("plotly_chart")


def test_the_builders_inputs_survive_a_reload(app_env):
    at = _teach()
    at.radio(key="teach_source").set_value("Image names").run()
    at.text_area(key="teach_names").input(f"{DEBATABLE}\n{AGREED}").run()
    at.text_input(key="teach_name").input("Friday <i>film</i> club").run()
    at.number_input(key="teach_n").set_value(2).run()
    at.multiselect(key="teach_asked").set_value(["Pneumothorax", "Cardiomegaly"]).run()
    at.checkbox(key="teach_reveal_model").uncheck().run()
    _ok(at)
    params = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert params["b_name"] == "Friday <i>film</i> club" and params["b_n"] == "2"
    again = _teach(**params)  # the reload: a fresh session with the same URL
    assert again.radio(key="teach_source").value == "Image names"
    assert again.text_area(key="teach_names").value == f"{DEBATABLE}\n{AGREED}"
    assert again.text_input(key="teach_name").value == "Friday <i>film</i> club"
    assert again.number_input(key="teach_n").value == 2
    assert again.multiselect(key="teach_asked").value == ["Cardiomegaly", "Pneumothorax"]
    assert again.checkbox(key="teach_reveal_model").value is False
    assert not again.warning or not any("Session State" in w.value for w in again.warning)


def test_scores_are_anonymous_by_default_and_export_the_answers(app_env):
    quiz_id = _quiz(app_env)
    store = _store(app_env)
    qs.save_answer(store, quiz_id, "=cmd|evil", DEBATABLE, ["Pneumothorax"])
    qs.save_answer(store, quiz_id, "=cmd|evil", BOXED, [])
    qs.save_answer(store, quiz_id, "Bob", BOXED, ["Cardiomegaly"])
    at = _teach(teach=quiz_id, view="scores")
    overall = next(d.value for d in at.dataframe if "correct calls" in d.value)
    # Learner 1 ("=cmd|evil"): DEBATABLE (Pneumothorax right, Cardiomegaly right), BOXED (Cardiomegaly missed,
    # Pneumothorax right): 3 of 4; Learner 2 (Bob): BOXED both right, but no Pneumothorax-positive case
    assert overall.to_dict("records") == [
        {"learner": "Learner 1", "cases answered": 2, "correct calls": "0.75 (3 of 4)", "sensitivity": "0.50 (1 of 2)",
         "specificity": "1.00 (2 of 2)"},
        {"learner": "Learner 2", "cases answered": 1, "correct calls": "1.00 (2 of 2)", "sensitivity": "1.00 (1 of 1)",
         "specificity": "1.00 (1 of 1)"}]
    pooled = next(d.value for d in at.dataframe if "finding" in d.value and "learner" not in d.value)
    cardio = pooled[pooled["finding"] == "Cardiomegaly"].iloc[0]
    assert (cardio["TP"], cardio["FN"], cardio["FP"], cardio["TN"]) == (1, 1, 0, 1)  # BOXED twice (1 found, 1 missed), DEBATABLE clear
    per = next(d.value for d in at.dataframe if "learner" in d.value and "finding" in d.value)
    assert set(per["learner"]) == {"Learner 1", "Learner 2"}
    bob_ptx = per[(per["learner"] == "Learner 2") & (per["finding"] == "Pneumothorax")].iloc[0]
    assert bob_ptx["sensitivity"] == "n/a: no positive case"  # never shown a pneumothorax: not the same as 0
    l1_cardio = per[(per["learner"] == "Learner 1") & (per["finding"] == "Cardiomegaly")].iloc[0]
    assert l1_cardio["sensitivity"] == "0.00 (0 of 1)"
    assert len(at.get("plotly_chart")) == 1
    at.toggle(key="quiz_show_names").set_value(True).run()
    per = next(d.value for d in at.dataframe if "learner" in d.value and "finding" in d.value)
    assert set(per["learner"]) == {"=cmd|evil", "Bob"}
    csv_button = at.get("download_button")
    assert len(csv_button) == 1


def test_signed_in_the_learner_is_the_signed_in_user_and_cannot_be_typed(app_env):
    from tests.app.test_auth import AUTH

    quiz_id = _quiz(app_env)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=240)
    at.user = {"is_logged_in": True, "name": "Ann", "email": "ann@example.org"}
    at.secrets = AUTH
    at.query_params["quiz"] = quiz_id
    at.query_params["learner"] = "mallory"  # a crafted link cannot choose who answers
    at.switch_page("pages/teach.py")
    at.run()
    _ok(at)
    assert not [t for t in at.text_input if t.key == "learner"]
    first = qs.load_quiz(_store(app_env), quiz_id).images[0]
    assert at.button(key=f"quiz_tick_{first}_Pneumothorax")  # the quiz is open to the signed-in learner
