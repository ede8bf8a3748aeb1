"""The labels a campaign settled on: one row per image with the final labels and how they were
reached (unanimous, adjudicated, single reader, or pending), every reader's reading, and the
adjudicator's reason. Same CSV conventions as `review.export` (formula-like cells neutralised,
CRLF rows)."""

from __future__ import annotations

import csv
import io

from cxrviz.findings import ALL_LABELS
from cxrviz.review.export import neutralise

ADJUDICATED_COLUMNS = ["Campaign", "Image Index", "Final Labels", "How Reached", "Readers", "Readings", "Disagreement",
                       "Adjudicator", "Reason", "Adjudicated At"]


def _labels(labels) -> str:
    return "|".join(label for label in ALL_LABELS if label in set(labels))


def adjudicated_rows(campaign: str, images: list[dict]) -> list[list[str]]:
    """Rows from `store.team.campaign_images` (image, readers, readings, disagreement,
    adjudication, final, how)."""
    rows = []
    for row in images:
        adj = row["adjudication"] or {}
        readings = "; ".join(f"{reader}: {_labels(labels)}" for reader, labels in sorted(row["readings"].items(), key=lambda kv: kv[0].casefold()))
        rows.append([campaign, row["image"], _labels(row["final"]) if row["final"] is not None else "", row["how"],
                     "|".join(row["readers"]), readings, "; ".join(row["disagreement"]),
                     adj.get("adjudicator", ""), adj.get("reason", ""), adj.get("at", "")])
    return rows


def adjudicated_csv(store, campaign_id: int, viewer: str | None) -> bytes:
    """The campaign's adjudicated-labels CSV (UTF-8, CRLF), as `viewer` may see it (an image they
    are an unread reader of keeps only their own reading: `team.visible_campaign_images`)."""
    from cxrviz.review.store import team

    campaign = team.get_campaign(store, campaign_id)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(ADJUDICATED_COLUMNS)
    for row in adjudicated_rows(campaign["name"], team.visible_campaign_images(store, campaign_id, viewer)):
        writer.writerow([neutralise(c) for c in row])
    return buffer.getvalue().encode("utf-8")
