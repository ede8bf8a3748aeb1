"""Quizzes and answers in the store, on SQLite and PostgreSQL: saved, found by link, answers kept
and replaced per case, learners matched by name key."""

from __future__ import annotations

import pytest

from cxrviz.review.quiz import QuizSpec
from cxrviz.review.store import Store
from cxrviz.review.store import quizzes as qs

SPEC = QuizSpec("Week 3: <b>pneumothorax</b>", ("00000001_000.png", "00000002_000.png", "00000003_000.png"),
                ("Mass", "Pneumothorax"), reveal_model=False, reveal_heatmap=False, source="Image names", seed=None)


def test_a_quiz_is_saved_and_opened_by_its_id(target):
    store = Store(target)
    quiz_id = qs.save_quiz(store, SPEC, created_by="  Dr  Teach ")
    assert len(quiz_id) == qs.QUIZ_ID_LENGTH and quiz_id != qs.save_quiz(store, SPEC)
    assert qs.load_quiz(store, quiz_id) == SPEC
    assert qs.load_quiz(store, "nope") is None
    assert qs.load_quiz(store, "") is None
    listed = qs.list_quizzes(store)
    assert len(listed) == 2
    mine = next(q for q in listed if q["id"] == quiz_id)
    assert mine["name"] == SPEC.name and mine["cases"] == 3 and mine["created_by"] == "Dr Teach" and mine["answers"] == 0


def test_answers_are_kept_per_case_and_replaced_on_resubmit(target):
    store = Store(target)
    quiz_id = qs.save_quiz(store, SPEC)
    qs.save_answer(store, quiz_id, "Ann Lee", "00000001_000.png", ["Pneumothorax", "Mass"], click=(10.5, 20.0), at="2025-01-01T00:00:01Z")
    qs.save_answer(store, quiz_id, "bob", "00000001_000.png", [], at="2025-01-01T00:00:02Z")
    qs.save_answer(store, quiz_id, "ann  LEE", "00000001_000.png", ["Mass"], at="2025-01-01T00:00:03Z")  # same learner, new answer
    qs.save_answer(store, quiz_id, "Ann Lee", "00000002_000.png", ["No Finding"], at="2025-01-01T00:00:04Z")
    mine = qs.answers(Store(target), quiz_id, "ANN LEE")  # a fresh connection: committed
    assert [(a.learner, a.image, a.findings, a.click) for a in mine] == [
        ("Ann Lee", "00000001_000.png", ("Mass",), None), ("Ann Lee", "00000002_000.png", (), None)]
    everyone = qs.answers(store, quiz_id)
    assert [(a.learner, a.image) for a in everyone] == [
        ("bob", "00000001_000.png"), ("Ann Lee", "00000001_000.png"), ("Ann Lee", "00000002_000.png")]
    assert next(q for q in qs.list_quizzes(store) if q["id"] == quiz_id)["answers"] == 3
    other = qs.save_quiz(store, SPEC)
    assert qs.answers(store, other) == []


def test_a_click_is_stored(target):
    store = Store(target)
    quiz_id = qs.save_quiz(store, SPEC)
    qs.save_answer(store, quiz_id, "ann", "00000003_000.png", ["Mass"], click=(512.0, 300.25))
    assert qs.answers(store, quiz_id)[0].click == (512.0, 300.25)


def test_signed_in_only_the_creator_or_an_admin_gets_the_class_answers(target):
    from cxrviz.review.store import team

    store = Store(target)
    team.sign_in(store, "admin@example.org")  # the first user: admin
    team.set_role(store, "admin@example.org", "teacher@example.org", "reader")
    team.set_role(store, "admin@example.org", "ann@example.org", "reader")
    quiz_id = qs.save_quiz(store, SPEC, created_by="Teacher@Example.org")
    qs.save_answer(store, quiz_id, "ann@example.org", "00000001_000.png", ["Mass"])
    qs.save_answer(store, quiz_id, "bob@example.org", "00000001_000.png", [])
    for teacher in ("teacher@example.org", "admin@example.org"):  # the creator (name key: case and spaces aside), an admin
        assert qs.teacher_quiz(store, quiz_id, teacher) == SPEC
        assert len(qs.class_answers(store, quiz_id, teacher)) == 2
    with pytest.raises(qs.NotTheTeacher, match="Only the teacher who made this quiz"):
        qs.teacher_quiz(store, quiz_id, "ann@example.org")
    with pytest.raises(qs.NotTheTeacher):
        qs.class_answers(store, quiz_id, "ann@example.org")
    assert [a.learner for a in qs.answers(store, quiz_id, "ann@example.org")] == ["ann@example.org"]  # her own, always
    assert qs.teacher_quiz(store, "nope", "ann@example.org") is None
    # the list of quizzes: a teacher's own, every one for an admin, none for a learner
    other = qs.save_quiz(store, SPEC, created_by="admin@example.org")
    assert [q["id"] for q in qs.list_quizzes(store, "teacher@example.org")] == [quiz_id]
    assert {q["id"] for q in qs.list_quizzes(store, "admin@example.org")} == {quiz_id, other}
    assert qs.list_quizzes(store, "ann@example.org") == []
    # without sign-in nobody can be told apart: nothing to refuse (the page says so)
    assert len(qs.class_answers(store, quiz_id, None)) == 2 and len(qs.list_quizzes(store)) == 2
