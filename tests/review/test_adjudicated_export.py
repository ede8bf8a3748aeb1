"""The adjudicated-labels export: final labels and how each was reached, from a real store."""

from __future__ import annotations

import csv
import io

from cxrviz.review.adjudicated_export import ADJUDICATED_COLUMNS, adjudicated_csv
from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.store import Store, team

IMAGES = ("00000001_000.png", "00000002_000.png", "00000003_000.png")


def test_export_has_final_labels_and_how_reached(tmp_path):
    store = Store(str(tmp_path / "r.sqlite"))
    team.sign_in(store, "admin")
    cid = team.create_campaign(store, "admin", CampaignSpec("=pilot", IMAGES, ("alice", "bob"), 2, True))
    a, b, c = IMAGES
    store.save_review(a, "alice", ["Mass"], "corrected")
    store.save_review(a, "bob", ["Nodule"], "corrected")
    store.save_review(b, "alice", ["Effusion"], "corrected")
    store.save_review(b, "bob", ["Effusion"], "corrected")
    rows = list(csv.reader(io.StringIO(adjudicated_csv(store, cid, "admin").decode("utf-8"))))
    assert rows[0] == ADJUDICATED_COLUMNS
    by_image = {r[1]: dict(zip(ADJUDICATED_COLUMNS, r)) for r in rows[1:]}
    assert by_image[a]["How Reached"] == "pending" and by_image[a]["Final Labels"] == "" and by_image[a]["Disagreement"] == "Mass; Nodule"
    assert (by_image[b]["Final Labels"], by_image[b]["How Reached"]) == ("Effusion", "unanimous")
    assert (by_image[c]["Final Labels"], by_image[c]["How Reached"]) == ("", "pending")  # nobody read it yet
    assert by_image[a]["Campaign"] == "'=pilot"  # a formula-like name is neutralised

    team.adjudicate(store, "admin", cid, a, ["Mass", "Nodule"], "both present")
    store.save_review(c, "bob", ["Hernia"], "corrected")  # one of its two readers: still pending
    single = team.create_campaign(store, "admin", CampaignSpec("single", (c,), ("bob",), 1, True))
    rows = list(csv.reader(io.StringIO(adjudicated_csv(store, single, "admin").decode("utf-8"))))
    assert (rows[1][2], rows[1][3]) == ("Hernia", "single reader")
    rows = list(csv.reader(io.StringIO(adjudicated_csv(store, cid, "admin").decode("utf-8"))))
    by_image = {r[1]: dict(zip(ADJUDICATED_COLUMNS, r)) for r in rows[1:]}
    assert (by_image[a]["Final Labels"], by_image[a]["How Reached"], by_image[a]["Adjudicator"], by_image[a]["Reason"]) == (
        "Mass|Nodule", "adjudicated", "admin", "both present")
    assert by_image[a]["Readings"] == "alice: Mass; bob: Nodule"
    assert (by_image[c]["Final Labels"], by_image[c]["How Reached"]) == ("", "pending")
