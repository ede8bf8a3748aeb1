"""Measurements on the image: a `measurements` table (lengths and cardiothoracic ratios in the
original image frame, per reader) and its append-only `measurement_audit` log. New tables only:
every review and box is kept.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("image", sa.String(64), nullable=False, index=True),
        sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("points", sa.Text, nullable=False),
        sa.Column("frame_width", sa.Integer, nullable=False),
        sa.Column("frame_height", sa.Integer, nullable=False),
        sa.Column("spacing_x", sa.Float, nullable=True),
        sa.Column("spacing_y", sa.Float, nullable=True),
        sa.Column("view", sa.String(8), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "measurement_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("measurement_id", sa.Integer, nullable=False, index=True),
        sa.Column("image", sa.String(64), nullable=False, index=True),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("old_values", sa.Text, nullable=True),
        sa.Column("new_values", sa.Text, nullable=True),
        sa.Column("at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("measurement_audit")
    op.drop_table("measurements")
