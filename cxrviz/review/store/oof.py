"""Out-of-fold probabilities and the suspect labels found in them (the label audit's storage).

Rows are keyed by (image, model, scheme): `model` names the training recipe and `scheme` the fold
scheme (`cxrviz.model.crossval.recipe_name` / `scheme_name`), so audits of different recipes or
splits never mix. Suspect labels are replaced as a whole per (model, scheme) by each audit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa

from cxrviz.review.record import utc_now
from cxrviz.review.store.core import Store
from cxrviz.review.store.tables import label_issues, oof_predictions

CHUNK = 500  # rows per INSERT: well under SQLite's bound-parameter limit

ISSUE_FIELDS = ("image", "finding", "label", "direction", "score", "image_score", "probability", "flagged")


def _chunks(values: list[dict]) -> Iterable[list[dict]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def put_oof(store: Store, model: str, scheme: str, fold: int, rows: Mapping[str, Sequence[float]]) -> int:
    """Store (or replace) the out-of-fold probabilities of images held out in `fold`; returns the row count."""
    now = utc_now()
    values = [{"image": image, "model": model, "scheme": scheme, "fold": int(fold),
               "probabilities": json.dumps([float(x) for x in probs]), "created_at": now} for image, probs in rows.items()]
    if not values:
        return 0
    with store.writing() as conn:
        for chunk in _chunks(values):
            statement = store.dialect_insert()(oof_predictions).values(chunk)
            conn.execute(statement.on_conflict_do_update(
                index_elements=["image", "model", "scheme"],
                set_={"fold": statement.excluded.fold, "probabilities": statement.excluded.probabilities,
                      "created_at": statement.excluded.created_at}))
    return len(values)


def oof_probabilities(store: Store, model: str, scheme: str) -> dict[str, list[float]]:
    """Image name -> out-of-fold probabilities for one (model, scheme)."""
    query = sa.select(oof_predictions.c.image, oof_predictions.c.probabilities).where(
        oof_predictions.c.model == model, oof_predictions.c.scheme == scheme)
    with store.reading() as conn:
        return {image: json.loads(probs) for image, probs in conn.execute(query).all()}


def oof_runs(store: Store) -> list[dict]:
    """Each stored (model, scheme) with its image and fold counts, the largest first."""
    c = oof_predictions.c
    query = (sa.select(c.model, c.scheme, sa.func.count().label("images"), sa.func.count(sa.distinct(c.fold)).label("folds"))
             .group_by(c.model, c.scheme).order_by(sa.desc("images"), c.model, c.scheme))
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def replace_label_issues(store: Store, model: str, scheme: str, rows: Iterable[Mapping]) -> int:
    """Replace the suspect labels of one (model, scheme) in one transaction; returns the row count."""
    now = utc_now()
    values = [{**{k: row[k] for k in ISSUE_FIELDS}, "model": model, "scheme": scheme, "created_at": now} for row in rows]
    for v in values:
        v["label"], v["score"], v["image_score"], v["probability"], v["flagged"] = (
            int(v["label"]), float(v["score"]), float(v["image_score"]), float(v["probability"]), bool(v["flagged"]))
    with store.writing() as conn:
        conn.execute(sa.delete(label_issues).where(label_issues.c.model == model, label_issues.c.scheme == scheme))
        for chunk in _chunks(values):
            conn.execute(sa.insert(label_issues).values(chunk))
    return len(values)


def stored_label_issues(store: Store, model: str | None = None, scheme: str | None = None) -> list[dict]:
    """Suspect labels, most suspect (lowest score) first; all runs unless `model`/`scheme` narrow them."""
    c = label_issues.c
    query = sa.select(*(getattr(c, k) for k in (*ISSUE_FIELDS, "model", "scheme", "created_at")))
    if model is not None:
        query = query.where(c.model == model)
    if scheme is not None:
        query = query.where(c.scheme == scheme)
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(query.order_by(c.score, c.image, c.finding)).mappings()]
