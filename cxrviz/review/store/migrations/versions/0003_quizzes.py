"""Teaching quizzes: a `quizzes` table (a random id, the spec as JSON) and `quiz_answers`, one row
per (quiz, learner, image), replaced when the learner answers again.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quizzes",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "quiz_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("quiz_id", sa.String(16), sa.ForeignKey("quizzes.id"), nullable=False),
        sa.Column("learner", sa.String(200), nullable=False),
        sa.Column("learner_key", sa.String(200), nullable=False),
        sa.Column("image", sa.String(40), nullable=False),
        sa.Column("findings", sa.Text, nullable=False),
        sa.Column("click_x", sa.Float, nullable=True),
        sa.Column("click_y", sa.Float, nullable=True),
        sa.Column("answered_at", sa.String(40), nullable=False),
    )
    op.create_index("uq_quiz_answers_case", "quiz_answers", ["quiz_id", "learner_key", "image"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_quiz_answers_case", table_name="quiz_answers")
    op.drop_table("quiz_answers")
    op.drop_table("quizzes")
