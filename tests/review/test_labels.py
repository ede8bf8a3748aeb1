"""Labels stay one type from the form to the store and back (`record.Labels`): the form's toggles,
the draft, the save, the stored draft and the review read back all hold the same value, in the
vocabulary's order, with 'No Finding' standing alone."""

from __future__ import annotations

import pytest

from cxrviz.findings import NO_FINDING
from cxrviz.review import rules
from cxrviz.review.record import Labels
from cxrviz.review.store import Store
from cxrviz.review.store.drafts import load_draft, save_draft


def test_labels_iterate_in_the_vocabulary_order_and_no_finding_stands_alone():
    labels = Labels(["Mass", "effusion", NO_FINDING])  # an alias and a stray No Finding
    assert list(labels) == ["Effusion", "Mass"] and labels.text == "Effusion|Mass"
    assert labels == ("Effusion", "Mass") and labels == ["Effusion", "Mass"] and labels == {"Mass", "Effusion"}
    assert labels != ("Mass", "Effusion")  # a list or tuple compares in order
    assert Labels() == {NO_FINDING} and Labels.parse("") == {NO_FINDING}
    assert Labels.parse(labels.text) == labels and hash(Labels.parse("Mass|Effusion")) == hash(labels)
    assert isinstance(labels - {"Mass"}, Labels) and labels - {"Mass", "Effusion"} == {NO_FINDING}
    assert isinstance(labels | {"Hernia"}, Labels) and Labels({NO_FINDING}) | {"Hernia"} == {"Hernia"}
    with pytest.raises(ValueError, match="unknown finding label"):
        Labels(["Broken leg"])
    with pytest.raises(TypeError):
        Labels("Mass|Effusion")  # a cell is parsed, never taken letter by letter


def test_the_same_labels_from_the_form_through_the_draft_and_the_save_to_the_review_read_back(tmp_path):
    store = Store(str(tmp_path / "reviews.sqlite"))
    draft = rules.starting_draft(None, {"Nodule"})
    assert isinstance(draft.labels, Labels)
    labels = rules.toggle(rules.toggle(draft.labels, "Mass"), "Nodule")  # key presses on the form
    assert isinstance(labels, Labels) and labels == ("Mass",)
    save_draft(store, "a.png", "Dr Ann", labels, "corrected", "", None)
    stored = load_draft(store, "a.png", "Dr Ann")
    assert isinstance(stored.labels, Labels) and stored.labels == labels
    outcome = rules.save_and_advance(store, "a.png", "Dr Ann", stored.labels, "confirmed", "", {"Nodule"}, ["a.png"], None, None)
    assert outcome.labels == labels and outcome.status == "corrected" and outcome.message.endswith(": Mass.")
    review = store.reviews("a.png")[0]
    assert isinstance(review.labels, Labels) and review.labels == labels
    assert rules.starting_draft(review, {"Nodule"}).labels == labels  # the form reopens on what was saved


def test_a_form_with_no_finding_and_a_finding_is_refused_not_silently_mended():
    with pytest.raises(rules.LabelConflict):
        rules.chosen_labels({"Mass", NO_FINDING})
    assert rules.chosen_labels(set()) == [NO_FINDING]
