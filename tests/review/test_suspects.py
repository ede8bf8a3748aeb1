"""What a label-audit queue suspects of an image, and the sentence the review form shows."""

import pandas as pd

from cxrviz.data.expert import comparison, disagreements
from cxrviz.review.suspects import FLIP_DIRECTION, Suspect, cleanlab_suspects, expert_suspects, flip_suspects, marked_labels, sentence


def test_cleanlab_suspects_name_the_finding_the_direction_and_the_evidence():
    table = pd.DataFrame({
        "image": ["a.png", "b.png", "a.png"], "finding": ["Effusion", "Mass", "Pleural_Thickening"],
        "label": [1, 0, 0], "direction": ["probably spurious", "probably missing", "probably missing"],
        "score": [0.0312, 0.2, 0.51], "expert": ["absent", "", ""], "flagged": [True, True, False],
    })
    found = cleanlab_suspects(table)
    assert set(found) == {"a.png", "b.png"}
    first, second = found["a.png"]  # the table's order (most suspect first) is kept
    assert sentence(first) == "Suspect: Effusion — probably spurious (cleanlab score 0.031; expert: absent)"
    assert sentence(second) == ("Suspect: Pleural_Thickening — probably missing (cleanlab score 0.51; "
                                "not flagged by confident learning)")
    assert sentence(found["b.png"][0]) == "Suspect: Mass — probably missing (cleanlab score 0.2)"
    assert marked_labels(found["a.png"]) == {"Effusion", "Pleural_Thickening"}
    assert cleanlab_suspects(table.iloc[:0]) == {}


def test_an_unknown_finding_marks_no_button():
    table = pd.DataFrame({"image": ["a.png"], "finding": ["<b>Nope</b>"], "direction": ["probably missing"],
                          "score": [0.1], "expert": [""], "flagged": [True]})
    (suspect,) = cleanlab_suspects(table)["a.png"]
    assert suspect.marks == () and "<b>Nope</b>" in sentence(suspect)  # shown as text by the page, never as HTML


def test_expert_suspects_mark_the_nih_findings_the_expert_finding_maps_to():
    compared = pd.DataFrame({
        "image": ["a.png", "b.png", "c.png", "c.png"],
        "finding": ["Pneumothorax", "Airspace opacity", "Nodule or mass", "Pneumothorax"],
        "nih": [True, False, True, False], "expert": [False, True, False, False],
    })
    found = expert_suspects(disagreements(compared), {"a.png": {"Pneumothorax"}, "c.png": {"Mass", "Effusion"}}.get)
    assert set(found) == {"a.png", "b.png", "c.png"}  # c's Pneumothorax agrees: not a suspect
    (a,) = found["a.png"]
    assert sentence(a) == "Suspect: Pneumothorax — NIH over-calls it (Google 2019 adjudicated: absent; NIH: Pneumothorax)"
    assert a.marks == ("Pneumothorax",)
    (b,) = found["b.png"]
    assert b.marks == ("Consolidation", "Infiltration", "Pneumonia", "Atelectasis", "Edema")  # any of them would have been right
    assert sentence(b) == ("Suspect: Airspace opacity — NIH missed it (Google 2019 adjudicated: present; "
                           "NIH: none of Consolidation, Infiltration, Pneumonia, Atelectasis, Edema)")
    (c,) = found["c.png"]
    assert c.marks == ("Mass",)  # the NIH label it carries, not Nodule
    assert marked_labels(found["c.png"]) == {"Mass"}


def test_expert_suspects_on_the_real_expert_file():
    from cxrviz.data.expert import load_expert_labels

    found = disagreements(comparison(load_expert_labels()))
    suspects = expert_suspects(found)
    assert set(suspects) == set(found["image"])
    assert all(s.marks for group in suspects.values() for s in group)


def test_flip_suspects_say_the_finding_is_probably_missing_here():
    flips = pd.DataFrame({"image": ["m.png", "m.png"], "finding": ["Effusion", "Mass"], "prior": ["p.png"] * 2,
                          "next": ["n.png"] * 2, "patient_id": [7, 7], "follow_up": [4, 4]})
    found = flip_suspects(flips)
    assert [s.finding for s in found["m.png"]] == ["Effusion", "Mass"]
    assert found["m.png"][0] == Suspect("Effusion", FLIP_DIRECTION,
                                        "present in the patient's prior and next study, absent in this one, follow-up 4",
                                        ("Effusion",))
    assert sentence(found["m.png"][0]).startswith("Suspect: Effusion — probably missing here")
