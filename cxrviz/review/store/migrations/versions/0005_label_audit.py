"""Label audit: out-of-fold probabilities per (image, model, fold scheme) and the suspect labels
cleanlab found in them. New tables only; nothing existing changes.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oof_predictions",
        sa.Column("image", sa.String(40), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("scheme", sa.String(100), primary_key=True),
        sa.Column("fold", sa.Integer, nullable=False),
        sa.Column("probabilities", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "label_issues",
        sa.Column("image", sa.String(40), primary_key=True),
        sa.Column("finding", sa.String(40), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("scheme", sa.String(100), primary_key=True),
        sa.Column("label", sa.Integer, nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("image_score", sa.Float, nullable=False),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("label_issues")
    op.drop_table("oof_predictions")
