"""Quizzes and answers in the store, on SQLite and PostgreSQL: saved, found by link, answers kept
and replaced per case, learners matched by name key."""

from __future__ import annotations

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
