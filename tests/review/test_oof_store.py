"""Out-of-fold probabilities and suspect labels in the store, on SQLite and PostgreSQL."""

import pytest

from cxrviz.review.store import Store
from cxrviz.review.store.oof import oof_probabilities, oof_runs, put_oof, replace_label_issues, stored_label_issues


@pytest.fixture()
def store(target):
    s = Store(target)
    s.migrate()
    yield s
    s.dispose()


def test_oof_rows_are_kept_per_model_and_scheme_and_replaced_on_rerun(store):
    assert put_oof(store, "recipe-a", "patient-5fold-seed0", 0, {"a.png": [0.1] * 14, "b.png": [0.2] * 14}) == 2
    put_oof(store, "recipe-a", "patient-5fold-seed0", 1, {"c.png": [0.3] * 14})
    put_oof(store, "recipe-a", "patient-3fold-seed0", 2, {"a.png": [0.9] * 14})
    put_oof(store, "recipe-a", "patient-5fold-seed0", 0, {"a.png": [0.5] * 14})  # a rerun of fold 0 replaces
    five = oof_probabilities(store, "recipe-a", "patient-5fold-seed0")
    assert sorted(five) == ["a.png", "b.png", "c.png"] and five["a.png"] == [0.5] * 14
    assert oof_probabilities(store, "recipe-a", "patient-3fold-seed0") == {"a.png": [0.9] * 14}
    assert oof_probabilities(store, "recipe-b", "patient-5fold-seed0") == {}
    assert oof_runs(store) == [
        {"model": "recipe-a", "scheme": "patient-5fold-seed0", "images": 3, "folds": 2},
        {"model": "recipe-a", "scheme": "patient-3fold-seed0", "images": 1, "folds": 1},
    ]


def test_many_rows_go_in_chunks(store):
    rows = {f"{i:08d}_000.png": [i / 2000] * 14 for i in range(1200)}
    assert put_oof(store, "m", "s", 0, rows) == 1200
    assert oof_probabilities(store, "m", "s") == rows


def issue(image, finding, score, label=0):
    return {"image": image, "finding": finding, "label": label, "direction": "probably missing" if not label else "probably spurious",
            "score": score, "image_score": score / 2, "probability": 0.9, "flagged": score < 0.2}


def test_label_issues_are_replaced_per_run_and_listed_most_suspect_first(store):
    replace_label_issues(store, "m", "s", [issue("a.png", "Mass", 0.3), issue("b.png", "Nodule", 0.1, label=1)])
    replace_label_issues(store, "m", "other", [issue("c.png", "Hernia", 0.05)])
    rows = stored_label_issues(store, "m", "s")
    assert [(r["image"], r["finding"], r["label"], r["direction"]) for r in rows] == [
        ("b.png", "Nodule", 1, "probably spurious"), ("a.png", "Mass", 0, "probably missing")]
    assert rows[0]["score"] == pytest.approx(0.1) and rows[0]["image_score"] == pytest.approx(0.05)
    assert [r["flagged"] for r in rows] == [True, False]
    assert [r["image"] for r in stored_label_issues(store)] == ["c.png", "b.png", "a.png"]
    replace_label_issues(store, "m", "s", [issue("d.png", "Edema", 0.2)])
    assert [r["image"] for r in stored_label_issues(store, scheme="s")] == ["d.png"]
    replace_label_issues(store, "m", "s", [])
    assert stored_label_issues(store, "m", "s") == [] and len(stored_label_issues(store)) == 1
