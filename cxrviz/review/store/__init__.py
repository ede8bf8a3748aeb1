"""The review store: the only code that speaks SQL (SQLAlchemy Core over SQLite or PostgreSQL).

`core` holds the `Store` class and its error mapping, `tables` the table objects, `migrate` and
`migrations/` the alembic history. Everything else imports `Store` from here.
"""

from cxrviz.review.store.core import Store, engine_url

__all__ = ["Store", "engine_url"]
