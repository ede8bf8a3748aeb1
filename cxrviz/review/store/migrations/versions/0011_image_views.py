"""Image views: when the Review page showed an image to a reader, and when they were still active on
it, for each reader's throughput. A new table only.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_views",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("image", sa.String(64), nullable=False),
        sa.Column("reader", sa.String(200), nullable=False),
        sa.Column("reader_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("campaign_id", sa.Integer, nullable=True),
        sa.Column("at", sa.String(40), nullable=False),
    )
    op.create_index("ix_image_views_reader", "image_views", ["reader_key", "at"])


def downgrade() -> None:
    op.drop_index("ix_image_views_reader", table_name="image_views")
    op.drop_table("image_views")
