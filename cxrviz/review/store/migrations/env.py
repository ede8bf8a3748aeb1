"""Alembic's environment for the review store: always run from `Store.migrate()` on an open
connection (no alembic.ini, no URL of its own), so the app, the CLI and tests migrate alike."""

from alembic import context

from cxrviz.review.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
