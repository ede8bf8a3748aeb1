"""Reports: the reader's structured report per image, one row per version, and its audit log.
New tables only. Signed rows are read-only in the database itself: a trigger refuses an UPDATE or
DELETE of a row whose `signed_at` is set, whoever sends it.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

READ_ONLY = "a signed report is read-only: start a new version"


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("image", sa.String(64), nullable=False),
        sa.Column("reviewer_key", sa.String(200), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("findings", sa.Text, nullable=False),
        sa.Column("signed_by", sa.String(200), nullable=True),
        sa.Column("signed_at", sa.String(40), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("uq_reports_version", "reports", ["image", "reviewer_key", "version"], unique=True)
    op.create_index("ix_reports_signed", "reports", ["signed_at"])
    op.create_table(
        "report_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, nullable=False),
        sa.Column("image", sa.String(64), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("old_values", sa.Text, nullable=True),
        sa.Column("new_values", sa.Text, nullable=True),
        sa.Column("at", sa.String(40), nullable=False),
    )
    op.create_index("ix_report_audit_report_id", "report_audit", ["report_id"])
    op.create_index("ix_report_audit_image", "report_audit", ["image"])
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER reports_signed_no_{event.lower()} BEFORE {event} ON reports "
                       f"WHEN OLD.signed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{READ_ONLY}'); END")
    else:
        op.execute("CREATE FUNCTION reports_signed_read_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"RAISE EXCEPTION '{READ_ONLY}' USING ERRCODE = 'integrity_constraint_violation'; END $$")
        op.execute("CREATE TRIGGER reports_signed_read_only BEFORE UPDATE OR DELETE ON reports FOR EACH ROW "
                   "WHEN (OLD.signed_at IS NOT NULL) EXECUTE FUNCTION reports_signed_read_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS reports_signed_no_{event}")
    else:
        op.execute("DROP TRIGGER IF EXISTS reports_signed_read_only ON reports")
        op.execute("DROP FUNCTION IF EXISTS reports_signed_read_only()")
    op.drop_table("report_audit")
    op.drop_table("reports")
