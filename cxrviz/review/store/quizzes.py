"""Quizzes and learners' answers in the review store.

A quiz is saved once under a random id (its `/teach?quiz=` link, not guessable from another
quiz's); an answer is one row per (quiz, learner, image), written when the learner submits that
case and replaced if they submit it again, so a learner who reloads mid-quiz finds every submitted
case kept. Learners are matched by `identity.name_key`, like reviewers.

Who may see a quiz's answers: its learners' answers, the presenter view and the scores belong to
the teacher. With sign-in (`viewer` = the signed-in user), `teacher_quiz` and `class_answers` check
it here, on the server, whatever the page or the URL asks: the quiz's creator or an admin, anyone
else gets `NotTheTeacher`. Without sign-in (`viewer` None) nothing identifies who is asking (a name
can be typed by anyone), so nothing here can refuse; the page says so.
"""

from __future__ import annotations

import logging
import secrets

import sqlalchemy as sa

from cxrviz.review.identity import display_name, name_key
from cxrviz.review.quiz import Answer, QuizError, QuizSpec, checked_labels
from cxrviz.review.record import utc_now
from cxrviz.review.roles import ADMIN
from cxrviz.review.store.core import Store
from cxrviz.review.store.tables import quiz_answers, quizzes, users

log = logging.getLogger(__name__)

QUIZ_ID_LENGTH = 10
_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no look-alikes (l/1, o/0) in a link read aloud


def new_quiz_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(QUIZ_ID_LENGTH))


def save_quiz(store: Store, spec: QuizSpec, created_by: str | None = None) -> str:
    """Store a quiz; returns its id."""
    quiz_id = new_quiz_id()
    with store.writing() as conn:
        conn.execute(quizzes.insert().values(id=quiz_id, name=spec.name, spec=spec.to_json(),
                                             created_by=display_name(created_by) if created_by else None, created_at=utc_now()))
    log.info("Saved quiz %s (%d cases)", quiz_id, len(spec.images))
    return quiz_id


def load_quiz(store: Store, quiz_id: str) -> QuizSpec | None:
    """The quiz with this id, or None (a link to a quiz that does not exist, or a mistyped id)."""
    if not quiz_id or len(quiz_id) > QUIZ_ID_LENGTH * 2:
        return None
    with store.reading() as conn:
        text = conn.execute(sa.select(quizzes.c.spec).where(quizzes.c.id == quiz_id)).scalar()
    return None if text is None else QuizSpec.from_json(text)


class NotTheTeacher(QuizError):
    """A signed-in user who is neither the quiz's creator nor an admin asked for its answers."""


def _may_teach(conn: sa.Connection, created_by: str | None, viewer: str | None) -> bool:
    if viewer is None:  # no sign-in: nobody can be told apart (see the module docstring)
        return True
    if created_by and name_key(created_by) == name_key(viewer):
        return True
    return conn.execute(sa.select(users.c.role).where(users.c.name_key == name_key(viewer))).scalar() == ADMIN


def teacher_quiz(store: Store, quiz_id: str, viewer: str | None) -> QuizSpec | None:
    """The quiz for its teacher's views (presenter, scores): None when there is no such quiz;
    `NotTheTeacher` when `viewer` (signed in) is neither its creator nor an admin."""
    if not quiz_id or len(quiz_id) > QUIZ_ID_LENGTH * 2:
        return None
    with store.reading() as conn:
        row = conn.execute(sa.select(quizzes.c.spec, quizzes.c.created_by).where(quizzes.c.id == quiz_id)).first()
        if row is None:
            return None
        if not _may_teach(conn, row.created_by, viewer):
            raise NotTheTeacher("Only the teacher who made this quiz (or an admin) can present it or see its scores. "
                                "To take it, open the link your teacher gave you.")
    return QuizSpec.from_json(row.spec)


def class_answers(store: Store, quiz_id: str, viewer: str | None) -> list[Answer]:
    """Every learner's answers to a quiz, for its teacher (`teacher_quiz`'s check first)."""
    if teacher_quiz(store, quiz_id, viewer) is None:
        raise QuizError(f"There is no quiz {quiz_id!r} here.")
    return answers(store, quiz_id)


def list_quizzes(store: Store, viewer: str | None = None) -> list[dict]:
    """The quizzes `viewer` teaches (signed in: those they made, every quiz for an admin; None:
    every quiz), newest first: id, name, cases, created_by, created_at, answers."""
    counts = (sa.select(quiz_answers.c.quiz_id, sa.func.count().label("answers"))
              .group_by(quiz_answers.c.quiz_id).subquery())
    query = (sa.select(quizzes, sa.func.coalesce(counts.c.answers, 0).label("answers"))
             .outerjoin(counts, counts.c.quiz_id == quizzes.c.id)
             .order_by(quizzes.c.created_at.desc(), quizzes.c.id))
    with store.reading() as conn:
        rows = [r for r in conn.execute(query).mappings().all() if _may_teach(conn, r["created_by"], viewer)]
    return [{"id": r["id"], "name": r["name"], "cases": len(QuizSpec.from_json(r["spec"]).images),
             "created_by": r["created_by"] or "", "created_at": r["created_at"], "answers": int(r["answers"])} for r in rows]


def save_answer(store: Store, quiz_id: str, learner: str, image: str, findings, click: tuple[float, float] | None = None,
                at: str | None = None) -> None:
    """Record (or replace) this learner's answer to one case; committed when this returns."""
    name, key = display_name(learner), name_key(learner)
    labels = "|".join(checked_labels(findings))
    values = {"learner": name, "findings": labels, "click_x": click[0] if click else None,
              "click_y": click[1] if click else None, "answered_at": at or utc_now()}
    statement = store.dialect_insert()(quiz_answers).values(quiz_id=quiz_id, learner_key=key, image=image, **values)
    statement = statement.on_conflict_do_update(index_elements=["quiz_id", "learner_key", "image"],
                                                set_={k: v for k, v in values.items() if k != "learner"})
    with store.writing() as conn:
        conn.execute(statement)


def answers(store: Store, quiz_id: str, learner: str | None = None) -> list[Answer]:
    """A quiz's answers, oldest first; only the learner whose name matches `learner` when given.
    A page shows a learner only their own (`learner` given); the class's go through `class_answers`."""
    query = sa.select(quiz_answers).where(quiz_answers.c.quiz_id == quiz_id).order_by(quiz_answers.c.answered_at, quiz_answers.c.id)
    if learner is not None:
        query = query.where(quiz_answers.c.learner_key == name_key(learner))
    with store.reading() as conn:
        rows = conn.execute(query).mappings().all()
    return [Answer(r["quiz_id"], r["learner"], r["image"], tuple(f for f in r["findings"].split("|") if f),
                   (r["click_x"], r["click_y"]) if r["click_x"] is not None else None, r["answered_at"]) for r in rows]
