"""Follow-up flips on a synthetic patient history, then on the real metadata."""

import numpy as np
import pandas as pd

from cxrviz.data.followups import flip_rates, follow_up_flips
from cxrviz.data.metadata import Metadata, label_matrix


def history(rows):
    table = pd.DataFrame(rows, columns=["image", "patient_id", "follow_up", "finding_labels"])
    table["follow_up"] = table["follow_up"].astype("Int32")
    return Metadata(table=table, labels=label_matrix(table["finding_labels"], "synthetic"), source="synthetic")


def test_flips_on_a_synthetic_history():
    meta = history([
        ("p1_2.png", 1, 2, "Effusion"),  # listed out of order: sorting by follow-up matters
        ("p1_0.png", 1, 0, "Effusion|Mass"),
        ("p1_1.png", 1, 1, "Mass"),  # Effusion flips here (0 and 2 have it)
        ("p1_3.png", 1, 3, "No Finding"),
        ("p1_4.png", 1, 4, "Effusion"),  # 2: Effusion, 3: none, 4: Effusion -> a flip at 3
        ("p2_0.png", 2, 0, "Mass"),  # another patient: no triple crosses patients
        ("p3_0.png", 3, 0, "Mass"),
        ("p3_1.png", 3, 1, "Mass"),
    ])
    flips = follow_up_flips(meta)
    assert sorted(zip(flips["image"], flips["finding"], flips["prior"], flips["next"])) == [
        ("p1_1.png", "Effusion", "p1_0.png", "p1_2.png"), ("p1_3.png", "Effusion", "p1_2.png", "p1_4.png")]
    rates = flip_rates(meta).set_index("finding")
    # Effusion present at both ends of triples (0,1,2) and (2,3,4): 2 triples, 2 flips; Mass: (p1_0, p1_1, p1_2)
    # has Mass only at 0 and 1 -> no triple; p2/p3 cross patients -> none
    assert (rates.loc["Effusion", "flips"], rates.loc["Effusion", "triples"], rates.loc["Effusion", "rate"]) == (2, 2, 1.0)
    assert rates.loc["Mass", "triples"] == 0 and np.isnan(rates.loc["Mass", "rate"])


def test_real_metadata_flips_are_within_one_patient(metadata):
    flips, rates = follow_up_flips(metadata), flip_rates(metadata)
    assert len(flips) == rates["flips"].sum() > 0
    assert ((rates["rate"] >= 0) & (rates["rate"] <= 1) | rates["rate"].isna()).all()
    row = flips.iloc[0]
    pid = metadata.table.set_index("image")["patient_id"]
    assert pid[row["image"]] == pid[row["prior"]] == pid[row["next"]]


def test_adjacent_studies_on_a_synthetic_history():
    from cxrviz.data.followups import Study, adjacent_studies

    meta = history([
        ("p1_2.png", 1, 2, "Effusion"),  # listed out of order: follow-up order decides
        ("p1_0.png", 1, 0, "Effusion|Mass"),
        ("p1_1.png", 1, 1, "Mass"),
        ("p2_0.png", 2, 0, "No Finding"),  # a patient with one study
        ("p3_0.png", 3, 0, "Mass"),
        ("p3_1.png", 3, 1, "Hernia"),
    ])
    found = adjacent_studies(meta, ["p1_1.png", "p1_0.png", "p1_2.png", "p2_0.png", "p3_0.png", "missing.png"])
    assert found["p1_1.png"] == (Study("p1_0.png", 0, ("Effusion", "Mass")), Study("p1_2.png", 2, ("Effusion",)))
    assert found["p1_0.png"] == (None, Study("p1_1.png", 1, ("Mass",)))  # first study: no prior
    assert found["p1_2.png"] == (Study("p1_1.png", 1, ("Mass",)), None)  # last study of patient 1, not patient 2's
    assert found["p2_0.png"] == (None, None)
    assert found["p3_0.png"] == (None, Study("p3_1.png", 1, ("Hernia",)))  # never patient 2's study before it
    assert "missing.png" not in found
    flips = follow_up_flips(meta)
    for image, prior, following in zip(flips["image"], flips["prior"], flips["next"]):  # agrees with the flips
        assert (found[image][0].image, found[image][1].image) == (prior, following)


def test_adjacent_studies_agree_with_the_real_flips(metadata):
    from cxrviz.data.followups import adjacent_studies

    flips = follow_up_flips(metadata).head(200)
    found = adjacent_studies(metadata, flips["image"])
    for image, prior, following, follow_up in zip(flips["image"], flips["prior"], flips["next"], flips["follow_up"]):
        before, after = found[image]
        assert (before.image, after.image) == (prior, following)
        assert before.follow_up < follow_up < after.follow_up
