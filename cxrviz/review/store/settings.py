"""Reader settings in the store: one JSON value per (reader, setting name), so what a reader chose
to see (the overlay toggles of the image view) is the same in their next session.

Readers are matched by `identity.name_key`, like their reviews. Values are small JSON documents;
a value the store cannot read back (hand-edited) is left out rather than failing the page.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from cxrviz.review.identity import display_name, name_key
from cxrviz.review.record import utc_now
from cxrviz.review.store.core import Store
from cxrviz.review.store.tables import reader_settings

log = logging.getLogger(__name__)
MAX_NAME = 80


def get_settings(store: Store, reader: str) -> dict[str, object]:
    """Every setting the reader has saved, name -> value."""
    key = name_key(reader)
    query = sa.select(reader_settings.c.name, reader_settings.c.value).where(reader_settings.c.reader_key == key)
    with store.reading() as conn:
        rows = conn.execute(query).all()
    out = {}
    for name, value in rows:
        try:
            out[name] = json.loads(value)
        except ValueError:
            log.warning("Reader setting %s of %s is not JSON; ignored.", name, key)
    return out


def set_setting(store: Store, reader: str, name: str, value: object, at: str | None = None) -> None:
    """Keep (or replace) one setting of the reader."""
    display_name(reader)  # refuses an empty or overlong name, as a review save would
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"a setting name is 1 to {MAX_NAME} characters: {name!r}")
    row = {"reader_key": name_key(reader), "name": name, "value": json.dumps(value), "updated_at": at or utc_now()}
    with store.writing() as conn:
        statement = store.dialect_insert()(reader_settings).values(row)
        conn.execute(statement.on_conflict_do_update(index_elements=["reader_key", "name"],
                                                     set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at}))
