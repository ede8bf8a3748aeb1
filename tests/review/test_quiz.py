"""Quiz rules: drawing cases (seeded, reproducible), the reveal (expert disagreement flagged, a
click inside a box), and scores checked against counts worked out by hand."""

from __future__ import annotations

import pytest

from cxrviz.data.boxes import Box
from cxrviz.review import quiz
from cxrviz.review.quiz import Answer, QuizError, QuizSpec

NAMES = [f"0000{i:04d}_000.png" for i in range(1, 41)]


def test_a_seed_draws_the_same_cases_whatever_the_candidates_order():
    first = quiz.draw_cases(NAMES, 5, "random", seed=7)
    again = quiz.draw_cases(list(reversed(NAMES)), 5, "random", seed=7)
    other = quiz.draw_cases(NAMES, 5, "random", seed=8)
    assert first == again
    assert len(set(first)) == 5 and set(first) <= set(NAMES)
    assert first != other
    assert first != tuple(NAMES[:5])  # a sample, not the head


def test_in_order_takes_the_head_and_n_is_capped_at_what_exists():
    assert quiz.draw_cases(NAMES, 3, "in order") == tuple(NAMES[:3])
    drawn = quiz.draw_cases(NAMES[:2] + NAMES[:2], 10, "random", seed=1)
    assert sorted(drawn) == NAMES[:2]  # duplicates drawn once, n capped


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"candidates": []}, "no cases"),
    ({"name": "   "}, "name"),
    ({"asked": []}, "at least one finding"),
    ({"asked": ["Flu"]}, "Unknown findings"),
    ({"n": 0}, "at least one case"),
])
def test_a_quiz_that_cannot_be_built_says_why(kwargs, message):
    args = {"name": "Week 3", "candidates": NAMES, "asked": ["Mass"], "n": 3} | kwargs
    with pytest.raises(QuizError, match=message):
        quiz.build_quiz(**args)


def test_build_quiz_keeps_the_vocabulary_order_and_round_trips_as_json():
    spec = quiz.build_quiz("  Week   3 ", NAMES, ["Pneumothorax", "Mass", "Atelectasis"], 4, seed=3, reveal_model=False)
    assert spec.name == "Week 3"
    assert spec.asked == ("Atelectasis", "Mass", "Pneumothorax")
    assert spec.reveal_heatmap is False  # no heatmap without the model
    assert QuizSpec.from_json(spec.to_json()) == spec
    assert quiz.build_quiz("x", NAMES, ["Mass"], 4, order="in order", seed=3).seed is None


def test_case_sources():
    local = {"00000001_000.png", "00000003_000.png"}
    names = ["00000001_000.png", "00000002_000.png", "00000003_000.png"]
    assert quiz.images_of_rows(names, [2, 1, 0], local) == ["00000003_000.png", "00000001_000.png"]
    assert quiz.images_of_rows(names, None, local) == []
    assert quiz.boxed_images(["00000003_000.png", "00000002_000.png", "00000003_000.png", "00000001_000.png"], local) == \
        ["00000001_000.png", "00000003_000.png"]
    pick = {"image_names": names, "browse_rows": [0, 1], "local": local, "box_images": ["00000003_000.png"],
            "expert_images": ["00000001_000.png", "00000009_000.png"], "typed": "00000001_000.png x"}
    assert quiz.candidates_for("Browse filter", **pick) == (["00000001_000.png"], [])
    assert quiz.candidates_for("Boxed images", **pick) == (["00000003_000.png"], [])
    assert quiz.candidates_for("Expert-adjudicated", **pick) == (["00000001_000.png"], [])
    assert quiz.candidates_for("Image names", **pick) == (["00000001_000.png"], ["x"])
    found, refused = quiz.parse_names("00000003_000.png, 00000002_000.png\n../etc/passwd 00000003_000.png", local)
    assert found == ["00000003_000.png"] and refused == ["00000002_000.png", "../etc/passwd"]


def test_the_reveal_tells_each_outcome_and_whether_the_click_was_in_a_box():
    boxes = [("Mass", Box(100, 100, 50, 50)), ("Nodule", Box(400, 400, 10, 10))]
    shown = quiz.reveal("a.png", ["Mass", "Nodule", "Effusion", "Hernia"], {"Mass", "Effusion"}, {"Mass", "Nodule"},
                        expert={"Nodule or mass": True, "Pneumothorax": False}, boxes=boxes, click=(120, 149))
    assert [(r["finding"], r["outcome"]) for r in shown.rows] == [
        ("Effusion", "false alarm"), ("Mass", "found"), ("Nodule", "missed"), ("Hernia", "correctly clear")]
    assert shown.debatable == []
    assert shown.click_in == ["Mass"]
    assert quiz.reveal("a.png", ["Mass"], set(), {"Mass"}, boxes=boxes, click=(300, 300)).click_in == []
    assert quiz.reveal("a.png", ["Mass"], set(), {"Mass"}, boxes=boxes).click_in is None
    assert quiz.reveal("a.png", ["Mass"], set(), {"Mass"}, click=(1, 1)).click_in is None


def test_scores_match_the_hand_count():
    truth = {"a": {"Mass"}, "b": {"Mass", "Effusion"}, "c": set(), "d": {"Effusion"}}
    answers = [
        Answer("q", "ann", "a", ("Mass",)),           # Mass TP, Effusion TN
        Answer("q", "ann", "b", ("Effusion",)),       # Mass FN (missed b), Effusion TP
        Answer("q", "ann", "c", ("Mass",)),           # Mass FP, Effusion TN
        Answer("q", "ann", "d", ()),                  # Mass TN, Effusion FN (missed d)
        Answer("q", "bob", "a", ("Mass", "Effusion")),  # Mass TP, Effusion FP
        Answer("q", "bob", "zzz", ("Mass",)),         # not in the metadata: left out
    ]
    rows = {(s.learner, s.finding): s for s in quiz.score(answers, ["Mass", "Effusion"], truth)}
    ann_mass, ann_eff = rows[("ann", "Mass")], rows[("ann", "Effusion")]
    assert (ann_mass.tp, ann_mass.fn, ann_mass.fp, ann_mass.tn) == (1, 1, 1, 1)
    assert ann_mass.sensitivity == 0.5 and ann_mass.specificity == 0.5 and ann_mass.missed == ["b"] and ann_mass.false_alarms == ["c"]
    assert (ann_eff.tp, ann_eff.fn, ann_eff.fp, ann_eff.tn) == (1, 1, 0, 2)
    assert ann_eff.sensitivity == 0.5 and ann_eff.specificity == 1.0 and ann_eff.missed == ["d"]
    bob_mass, bob_eff = rows[("bob", "Mass")], rows[("bob", "Effusion")]
    assert bob_mass.sensitivity == 1.0 and bob_mass.specificity is None  # no negative case seen
    assert bob_eff.sensitivity is None and bob_eff.specificity == 0.0
    pooled = {s.finding: s for s in quiz.class_scores(answers, ["Mass", "Effusion"], truth)}
    assert (pooled["Mass"].tp, pooled["Mass"].fn, pooled["Mass"].fp, pooled["Mass"].tn) == (2, 1, 1, 1)
    assert pooled["Mass"].sensitivity == pytest.approx(2 / 3)


def test_anonymous_names_and_the_csv_export():
    assert quiz.anonymise(["bob", "ann", "bob"]) == {"bob": "Learner 1", "ann": "Learner 2"}
    text = quiz.answers_csv([Answer("q1", "=HYPERLINK(1)", "a.png", ("Mass",), (10.0, 20.5), "t")], ["Mass", "Effusion"])
    assert text.splitlines() == ["quiz,learner,image,Effusion,Mass,click_x,click_y,answered_at",
                                 "q1,'=HYPERLINK(1),a.png,0,1,10.0,20.5,t"]


def test_a_learner_who_comes_back_resumes_at_the_first_unanswered_case():
    assert quiz.resume_position(["a", "b", "c"], {"a", "c"}) == 1
    assert quiz.resume_position(["a", "b", "c"], set()) == 0
    assert quiz.resume_position(["a", "b", "c"], {"a", "b", "c"}) == 2


def test_the_bundled_expert_labels_make_a_real_debatable_case():
    from cxrviz.data.expert import load_expert_labels

    experts = load_expert_labels()
    # NIH: Cardiomegaly|Emphysema; the experts saw a pneumothorax: a real debatable case
    shown = quiz.reveal("00000013_026.png", ["Pneumothorax"], [], {"Cardiomegaly", "Emphysema"}, experts.of("00000013_026.png"))
    assert shown.expert["Pneumothorax"] is True and shown.debatable == ["Pneumothorax"]


def test_sensitivity_zero_and_undefined_read_differently():
    truth = {"a": {"Mass"}, "b": set()}
    missed_it = quiz.score([Answer("q", "ann", "a", ())], ["Mass"], truth)[0]
    never_seen = quiz.score([Answer("q", "bob", "b", ())], ["Mass"], truth)[0]
    assert missed_it.sensitivity == 0.0 and never_seen.sensitivity is None
    assert missed_it.row()["sensitivity"] == "0.00 (0 of 1)"
    assert never_seen.row()["sensitivity"] == "n/a: no positive case"
    assert quiz.rate_text(2, 3, "n/a") == "0.67 (2 of 3)" and quiz.rate_text(0, 0, "n/a") == "n/a"


def test_an_overall_score_per_learner_from_the_hand_count():
    truth = {"a": {"Mass"}, "b": {"Mass", "Effusion"}, "c": set(), "d": {"Effusion"}}
    answers = [
        Answer("q", "ann", "a", ("Mass",)),      # Mass TP, Effusion TN
        Answer("q", "ann", "b", ("Effusion",)),  # Mass FN, Effusion TP
        Answer("q", "ann", "c", ("Mass",)),      # Mass FP, Effusion TN
        Answer("q", "bob", "d", ()),             # Mass TN, Effusion FN
        Answer("q", "bob", "zzz", ("Mass",)),    # not in the metadata: left out
    ]
    ann, bob = quiz.learner_summaries(answers, ["Mass", "Effusion"], truth)
    # ann: 6 calls, TP 2 (a Mass, b Effusion), FN 1, FP 1, TN 2 -> 4 of 6 right
    assert (ann.learner, ann.cases, ann.tp, ann.fn, ann.fp, ann.tn) == ("ann", 3, 2, 1, 1, 2)
    assert ann.correct == pytest.approx(4 / 6)
    assert ann.row() == {"learner": "ann", "cases answered": 3, "correct calls": "0.67 (4 of 6)",
                         "sensitivity": "0.67 (2 of 3)", "specificity": "0.67 (2 of 3)"}
    # bob: one scored case, 2 calls: Mass TN, Effusion FN
    assert (bob.cases, bob.calls, bob.correct) == (1, 2, 0.5)
    assert bob.row()["sensitivity"] == "0.00 (0 of 1)" and bob.row()["specificity"] == "1.00 (1 of 1)"


def test_the_presenter_case_from_the_url():
    assert [quiz.case_from_param(v, 3) for v in ("1", "3", " 2 ", "9", "0", "-4", "x", None)] == [0, 2, 1, 2, 0, 0, 0, 0]


def test_the_builder_inputs_round_trip_through_the_url():
    assert quiz.builder_params(quiz.BUILDER_DEFAULTS) == {}
    values = {"source": "Image names", "names": "00000001_000.png\n00000002_000.png", "name": "Week 3 & <b>", "n": 7,
              "order": "in order", "seed": 42, "asked": ["Pneumothorax", "Mass"], "reveal_model": False}
    params = quiz.builder_params(values)
    assert params["b_asked"] == "Mass,Pneumothorax" and params["b_reveal_model"] == "0"
    assert quiz.builder_values(params) == {**values, "asked": ["Mass", "Pneumothorax"]}
    assert quiz.builder_values(quiz.builder_params({**values, "asked": []}))["asked"] == []
    # a hand-edited link: unreadable values are dropped, the rest kept
    assert quiz.builder_values({"b_n": "many", "b_seed": "-1", "b_source": "Elsewhere", "b_asked": "Mass,Nope",
                                "b_reveal_model": "yes", "b_order": "random"}) == {"asked": ["Mass"], "order": "random"}
