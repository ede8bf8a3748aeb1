"""The store's tables, as SQLAlchemy Core objects. Their history lives in `migrations/versions/`:
a change here needs a new migration there (`tests/review/test_migrations.py` compares the two).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

reviewers = sa.Table(
    "reviewers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),  # as first typed (NFKC, trimmed)
    sa.Column("created_at", sa.String(40), nullable=False),
    # What two names must share to be one reviewer (`identity.name_key`); always set by the store,
    # nullable only because SQLite cannot add a NOT NULL column without rebuilding the table.
    sa.Column("name_key", sa.String(200), nullable=True),
    sa.Index("uq_reviewers_name_key", "name_key", unique=True),
)
reviews = sa.Table(
    "reviews", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("image", sa.String(64), nullable=False, index=True),
    sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=False),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("model", sa.String(200), nullable=True),
    sa.Column("probabilities", sa.Text, nullable=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("image", "reviewer_id", name="one_review_per_reviewer"),
)
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("review_id", sa.Integer, nullable=False, index=True),
    sa.Column("image", sa.String(64), nullable=False),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("old_values", sa.Text, nullable=True),
    sa.Column("new_values", sa.Text, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
)
predictions = sa.Table(
    "predictions", metadata,
    sa.Column("image", sa.String(64), primary_key=True),
    sa.Column("model", sa.String(200), primary_key=True),
    sa.Column("weights_sha256", sa.String(64), primary_key=True),
    sa.Column("probabilities", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)


# ---- teach ----
quizzes = sa.Table(
    "quizzes", metadata,
    sa.Column("id", sa.String(16), primary_key=True),  # a random token: the `/teach?quiz=` link
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("spec", sa.Text, nullable=False),  # `quiz.QuizSpec` as JSON
    sa.Column("created_by", sa.String(200), nullable=True),
    sa.Column("created_at", sa.String(40), nullable=False),
)
quiz_answers = sa.Table(
    "quiz_answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("quiz_id", sa.String(16), sa.ForeignKey("quizzes.id"), nullable=False),
    sa.Column("learner", sa.String(200), nullable=False),  # as first typed
    sa.Column("learner_key", sa.String(200), nullable=False),  # `identity.name_key`
    sa.Column("image", sa.String(64), nullable=False),
    sa.Column("findings", sa.Text, nullable=False),  # pipe-separated, vocabulary order; "" for none
    sa.Column("click_x", sa.Float, nullable=True),
    sa.Column("click_y", sa.Float, nullable=True),
    sa.Column("answered_at", sa.String(40), nullable=False),
    sa.Index("uq_quiz_answers_case", "quiz_id", "learner_key", "image", unique=True),
)
# ---- boxes ----
# Reviewer boxes in the original image frame (`cxrviz.review.boxes`), and their append-only log.
boxes = sa.Table(
    "boxes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("image", sa.String(64), nullable=False, index=True),
    sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=False),
    sa.Column("finding", sa.String(40), nullable=False),
    sa.Column("x", sa.Float, nullable=False),
    sa.Column("y", sa.Float, nullable=False),
    sa.Column("w", sa.Float, nullable=False),
    sa.Column("h", sa.Float, nullable=False),
    sa.Column("frame_width", sa.Integer, nullable=False),
    sa.Column("frame_height", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("corrects", sa.String(120), nullable=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
box_audit = sa.Table(
    "box_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("box_id", sa.Integer, nullable=False, index=True),
    sa.Column("image", sa.String(64), nullable=False, index=True),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),  # box-create, box-move, box-delete
    sa.Column("old_values", sa.Text, nullable=True),
    sa.Column("new_values", sa.Text, nullable=True),
    sa.Column("at", sa.String(40), nullable=False),
)
# ---- audit ----
# Out-of-fold probabilities: from a model that never trained on the image (`model/crossval.py`),
# one row per (image, training recipe, fold scheme); `fold` is the fold the image was held out in.
oof_predictions = sa.Table(
    "oof_predictions", metadata,
    sa.Column("image", sa.String(64), primary_key=True),
    sa.Column("model", sa.String(200), primary_key=True),
    sa.Column("scheme", sa.String(100), primary_key=True),
    sa.Column("fold", sa.Integer, nullable=False),
    sa.Column("probabilities", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
# Suspect (image, finding) labels found by cleanlab on those probabilities (`review/label_issues.py`):
# replaced as a whole per (model, scheme) by each audit run.
label_issues = sa.Table(
    "label_issues", metadata,
    sa.Column("image", sa.String(64), primary_key=True),
    sa.Column("finding", sa.String(40), primary_key=True),
    sa.Column("model", sa.String(200), primary_key=True),
    sa.Column("scheme", sa.String(100), primary_key=True),
    sa.Column("label", sa.Integer, nullable=False),  # the label audited: 1 present, 0 absent
    sa.Column("direction", sa.String(20), nullable=False),  # "probably missing" / "probably spurious"
    sa.Column("score", sa.Float, nullable=False),  # cleanlab's label quality for this finding: low = suspect
    sa.Column("image_score", sa.Float, nullable=False),  # cleanlab's per-image label quality
    sa.Column("probability", sa.Float, nullable=False),  # the out-of-fold probability of the finding
    sa.Column("flagged", sa.Boolean, nullable=False),  # confident learning calls it an issue
    sa.Column("created_at", sa.String(40), nullable=False),
)
# ---- team ----
# Signed-in users and their role (`cxrviz.review.roles`), review campaigns, who reads which image,
# the adjudicated labels, and an append-only log of every role and campaign change.
users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),  # the reviewer name their reviews are saved under
    sa.Column("name_key", sa.String(200), nullable=False),  # `identity.name_key`
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("display", sa.String(200), nullable=True),  # the name from the identity token
    sa.Column("role", sa.String(20), nullable=True),  # reader, adjudicator, admin; NULL: no access
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("last_seen_at", sa.String(40), nullable=False),
    sa.Index("uq_users_name_key", "name_key", unique=True),
)
campaigns = sa.Table(
    "campaigns", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("readers_per_image", sa.Integer, nullable=False),
    sa.Column("blind", sa.Boolean, nullable=False),
    sa.Column("hide_references", sa.Boolean, nullable=False),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Index("uq_campaigns_name", "name", unique=True),
)
assignments = sa.Table(
    "assignments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("image", sa.String(64), nullable=False),
    sa.Column("reader", sa.String(200), nullable=False),
    sa.Column("reader_key", sa.String(200), nullable=False),
    sa.Index("uq_assignments_reading", "campaign_id", "image", "reader_key", unique=True),
    sa.Index("ix_assignments_reader", "reader_key"),
)
adjudications = sa.Table(
    "adjudications", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("image", sa.String(64), nullable=False),
    sa.Column("labels", sa.Text, nullable=False),  # pipe-separated, vocabulary order
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("adjudicator", sa.String(200), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Index("uq_adjudications_image", "campaign_id", "image", unique=True),
)
team_audit = sa.Table(
    "team_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),  # role-set, campaign-create, adjudicate, …
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("old_values", sa.Text, nullable=True),
    sa.Column("new_values", sa.Text, nullable=True),
    sa.Column("at", sa.String(40), nullable=False),
)
# ---- reader settings ----
# What a reader chose to see (overlays on or off, the drawing size), kept across sessions: one row
# per (reader, setting), the value as JSON (`review/store/settings.py`).
reader_settings = sa.Table(
    "reader_settings", metadata,
    sa.Column("reader_key", sa.String(200), primary_key=True),  # `identity.name_key`
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
# ---- drafts ----
# What a reader has set on an image's form and not saved yet (`review/store/drafts.py`): written as the
# form changes, deleted in the transaction that saves the review, so a reload, a new tab or a server
# restart finds it. `base_updated_at` is the `updated_at` of the reader's saved review the form started
# from (NULL: none), to tell a draft made on an older version of that review.
drafts = sa.Table(
    "drafts", metadata,
    sa.Column("image", sa.String(64), primary_key=True),
    sa.Column("reviewer_key", sa.String(200), primary_key=True),  # `identity.name_key`
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("labels", sa.Text, nullable=False),  # pipe-separated, vocabulary order
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("base_updated_at", sa.String(40), nullable=True),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
# ---- measurements ----
# Lengths and cardiothoracic ratios a reader drew (`cxrviz.review.measurements`), in the image's
# original frame; `points` is JSON [[x, y], ...]; `spacing_x`/`spacing_y` mm per pixel of that
# frame (NULL: the image had none, the length is in pixels). And their append-only log.
measurements = sa.Table(
    "measurements", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("image", sa.String(64), nullable=False, index=True),
    sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # length, ctr
    sa.Column("points", sa.Text, nullable=False),
    sa.Column("frame_width", sa.Integer, nullable=False),
    sa.Column("frame_height", sa.Integer, nullable=False),
    sa.Column("spacing_x", sa.Float, nullable=True),
    sa.Column("spacing_y", sa.Float, nullable=True),
    sa.Column("view", sa.String(8), nullable=True),  # PA, AP; NULL: unknown
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
measurement_audit = sa.Table(
    "measurement_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("measurement_id", sa.Integer, nullable=False, index=True),
    sa.Column("image", sa.String(64), nullable=False, index=True),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),  # measure-create, measure-delete
    sa.Column("old_values", sa.Text, nullable=True),
    sa.Column("new_values", sa.Text, nullable=True),
    sa.Column("at", sa.String(40), nullable=False),
)


# ---- reports ----
# The reader's report on an image, one row per version (`review/reports.py`, `review/store/reports.py`).
# Append-only: a signed row is never updated or deleted (triggers of migration 0010 refuse it), a
# change after signing is the next version. `report_audit` logs every draft, edit, sign and version.
reports = sa.Table(
    "reports", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("image", sa.String(64), nullable=False),
    sa.Column("reviewer_key", sa.String(200), nullable=False),  # `identity.name_key`
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("findings", sa.Text, nullable=False),  # pipe-separated, vocabulary order; "" for none
    sa.Column("signed_by", sa.String(200), nullable=True),
    sa.Column("signed_at", sa.String(40), nullable=True),  # NULL: an unverified draft
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Index("uq_reports_version", "image", "reviewer_key", "version", unique=True),
    sa.Index("ix_reports_signed", "signed_at"),
)
report_audit = sa.Table(
    "report_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("report_id", sa.Integer, nullable=False, index=True),
    sa.Column("image", sa.String(64), nullable=False, index=True),
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),  # report-create, report-edit, report-sign, report-version
    sa.Column("old_values", sa.Text, nullable=True),
    sa.Column("new_values", sa.Text, nullable=True),
    sa.Column("at", sa.String(40), nullable=False),
)

# ---- image views ----
# When the Review page showed an image to a reader ("shown", once per image shown) and when the reader
# was still active on it ("active", at most one a minute), by the server's clock: with the saves in
# `audit_log`, the reader's time on each image (`review/throughput.py`, `review/store/views.py`).
image_views = sa.Table(
    "image_views", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("image", sa.String(64), nullable=False),
    sa.Column("reader", sa.String(200), nullable=False),  # as first typed
    sa.Column("reader_key", sa.String(200), nullable=False),  # `identity.name_key`
    sa.Column("kind", sa.String(10), nullable=False),  # shown, active
    sa.Column("campaign_id", sa.Integer, nullable=True),  # the campaign whose queue showed it; NULL: another queue
    sa.Column("at", sa.String(40), nullable=False),
    sa.Index("ix_image_views_reader", "reader_key", "at"),
)
