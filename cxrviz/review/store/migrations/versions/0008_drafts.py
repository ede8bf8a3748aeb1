"""Review drafts: what a reader set on a form and has not saved yet, kept across reloads, tabs and
server restarts. A new table only: every review is kept.

Revision ID: 0008
Revises: 0006 (the lead chains it after 0007 when merging)
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("image", sa.String(40), primary_key=True),
        sa.Column("reviewer_key", sa.String(200), primary_key=True),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("base_updated_at", sa.String(40), nullable=True),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("drafts")
