"""PACS keys: an image is keyed by its file name (NIH) or, from a PACS, by its SOP Instance UID,
which may be 64 characters: every `image` column widens from 40 to 64. Rows are kept as they are.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# (table, image column nullable)
TABLES = (
    ("reviews", False), ("audit_log", False), ("predictions", False), ("quiz_answers", False), ("boxes", False),
    ("box_audit", False), ("oof_predictions", False), ("label_issues", False), ("assignments", False),
    ("adjudications", False), ("drafts", False),
)


def _resize(old: int, new: int) -> None:
    for table, nullable in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("image", type_=sa.String(new), existing_type=sa.String(old), existing_nullable=nullable)


def upgrade() -> None:
    _resize(40, 64)


def downgrade() -> None:
    _resize(64, 40)
