"""Reviewer names match whatever their case, width or spacing: a `name_key` column (NFKC,
white space collapsed, case-folded) that must be unique, filled in for existing reviewers.

Two existing reviewers whose names share a key ("Dr Alice" and "dr alice", made before this
revision) stay two reviewers: the later one's key gets "#<id>" appended, so no review is merged
or lost; new saves under either spelling go to the earlier one.

Revision ID: 0002
Revises: 0001
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def upgrade() -> None:
    op.add_column("reviewers", sa.Column("name_key", sa.String(200), nullable=True))
    conn = op.get_bind()
    seen: set[str] = set()
    for reviewer_id, name in conn.execute(sa.text("SELECT id, name FROM reviewers ORDER BY id")).all():
        key = _key(name)
        if key in seen:
            key = f"{key}#{reviewer_id}"
        seen.add(key)
        conn.execute(sa.text("UPDATE reviewers SET name_key = :key WHERE id = :id"), {"key": key, "id": reviewer_id})
    # A unique index, not a constraint: SQLite would rebuild `reviewers` for a constraint, and
    # `reviews` points at it.
    op.create_index("uq_reviewers_name_key", "reviewers", ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_reviewers_name_key", table_name="reviewers")
    with op.batch_alter_table("reviewers") as batch:
        batch.drop_column("name_key")
