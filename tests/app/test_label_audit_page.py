"""The Label audit page through Streamlit's AppTest: expert statistics, the suspect queue from
the store, the finding filter, the button that makes it the Review queue, and a bad expert file."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cxrviz.review.store import Store
from cxrviz.review.store.oof import replace_label_issues
from tests.conftest import REPO, shown

PAGE = "pages/label_audit.py"


def _app() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=240)
    at.switch_page(PAGE)
    return at.run()


def _store_issues(app_env):
    row = {"label": 0, "direction": "probably missing", "image_score": 0.1, "probability": 0.9, "flagged": True}
    store = Store(str(app_env / "reviews.sqlite"))
    replace_label_issues(store, "recipe", "patient-5fold-seed0", [
        {**row, "image": "00000013_026.png", "finding": "Pneumothorax", "label": 1, "direction": "probably spurious", "score": 0.01},
        {**row, "image": "00000032_002.png", "finding": "Consolidation", "score": 0.02},
        {**row, "image": "00000013_026.png", "finding": "Mass", "score": 0.03},
        {**row, "image": "00000001_000.png", "finding": "Edema", "score": 0.5, "flagged": False},
    ])
    store.dispose()


def test_expert_statistics_and_no_audit_yet(app_env):
    at = _app()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["finding"]) == ["Pneumothorax", "Nodule or mass", "Airspace opacity"]
    assert table.set_index("finding").loc["Pneumothorax", "NIH positive"] == 238
    assert any("No label audit has been run yet" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 2
    flips = at.dataframe[1].value
    assert list(flips.columns)[:4] == ["image", "finding", "prior", "next"] and len(flips) > 0
    at.selectbox(key="flip_finding").set_value("Cardiomegaly").run()
    assert set(at.dataframe[1].value["finding"]) == {"Cardiomegaly"}


def test_follow_up_flips_go_to_review_as_a_queue(app_env):
    at = _app()
    button = at.button(key="flip_review")
    assert not button.disabled
    button.click().run()
    queue = at.session_state["review_queue"]
    assert at.session_state["review_queue_source"] == "follow-up flips" and len(queue) == len(set(queue)) > 0


def test_queue_filter_and_send_to_review(app_env):
    _store_issues(app_env)
    at = _app()
    assert not at.exception
    queue = at.dataframe[2].value
    assert list(queue["image"]) == ["00000013_026.png", "00000032_002.png", "00000013_026.png"]  # flagged only
    assert list(queue["expert"]) == ["present", "present", "absent"]  # Google 2019: PTX yes; airspace yes; nodule/mass no
    at.checkbox(key="audit_flagged").uncheck().run()
    assert len(at.dataframe[2].value) == 4
    at.selectbox(key="audit_finding").set_value("Mass").run()
    assert list(at.dataframe[2].value["finding"]) == ["Mass"]
    at.selectbox(key="audit_finding").set_value("all").run()
    # none of these images is among the shared ones: nothing to send, and the page says why
    assert any("None of these images is in this server's image folder" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "audit_review"]


def test_only_local_images_go_to_review(app_env):
    _store_issues(app_env)
    store = Store(str(app_env / "reviews.sqlite"))
    rows = [{"image": image, "finding": "Effusion", "label": 1, "direction": "probably spurious", "score": score,
             "image_score": 0.1, "probability": 0.05, "flagged": True}
            for image, score in (("00000013_026.png", 0.001), ("00022572_000.png", 0.002), ("00001369_000.png", 0.003))]
    replace_label_issues(store, "recipe", "patient-5fold-seed0", rows)
    store.dispose()
    at = _app()
    button = at.button(key="audit_review")
    assert "Review these 2 images" in button.label and "1 not present locally are left out" in button.label
    button.click().run()
    assert at.session_state["review_queue"] == ["00022572_000.png", "00001369_000.png"]
    assert at.session_state["review_queue_source"] == "likely wrong labels (cleanlab)"


def test_a_malformed_expert_file_is_shown_and_the_queue_still_works(app_env, monkeypatch, tmp_path):
    bad = tmp_path / "experts.csv"
    bad.write_text("Image Index,Pneumothorax\na.png,YES\n")
    monkeypatch.setattr("cxrviz.app.label_audit.default_expert_path", lambda: bad)
    _store_issues(app_env)
    at = _app()
    assert not at.exception
    assert any("lacks the column" in shown(e.value) for e in at.error)
    queue = at.dataframe[1].value
    assert len(queue) == 3 and set(queue["expert"]) == {""}


def test_nih_expert_disagreements_go_to_review_as_a_queue(app_env):
    from cxrviz.data.expert import comparison, disagreements, load_expert_labels

    at = _app()
    at.selectbox(key="disagree_finding").set_value("Pneumothorax").run()
    button = at.button(key="disagree_review")
    assert not button.disabled
    button.click().run()
    assert not at.exception
    queue = at.session_state["review_queue"]
    found = disagreements(comparison(load_expert_labels()))
    expected = set(found.loc[found["finding"] == "Pneumothorax", "image"])
    assert at.session_state["review_queue_source"] == "NIH disagrees with experts"
    assert queue and set(queue) <= expected and len(queue) == len(set(queue))


def test_reviewer_corrections_against_the_experts(app_env):
    """Reviews saved for adjudicated images: the table compares NIH and the reviewers on those images."""
    from cxrviz.data.expert import load_expert_labels

    experts = load_expert_labels()
    at = _app()
    assert any("No reviewed image has an expert label" in i.value for i in at.info)

    ptx = experts.table[experts.table["Pneumothorax"].fillna(False).astype(bool)]
    rejected = experts.table[~experts.table["Pneumothorax"].fillna(True).astype(bool)
                             & experts.table["nih_labels"].str.contains("Pneumothorax")]
    missed, spurious = ptx.index[~ptx["nih_labels"].str.contains("Pneumothorax")][0], rejected.index[0]
    store = Store(str(app_env / "reviews.sqlite"))
    store.save_review(missed, "ann", ["Pneumothorax"], "corrected")  # adds what the experts saw
    store.save_review(spurious, "ann", ["No Finding"], "corrected")  # drops what the experts reject
    store.save_review("00000001_000.png", "ann", ["Mass"], "corrected")  # not adjudicated: left out
    store.dispose()
    assert "00000001_000.png" not in experts

    at = _app()
    assert not at.exception
    assert not any("No reviewed image has an expert label" in i.value for i in at.info)
    table = at.dataframe[1].value.set_index(["finding", "labels"])
    assert list(table.index.get_level_values("labels")) == ["NIH", "reviewers"] * 3
    assert set(table["images"]) == {2}
    nih, reviewers = table.loc[("Pneumothorax", "NIH")], table.loc[("Pneumothorax", "reviewers")]
    # NIH: the missed one negative, the spurious one positive -> both wrong; reviewers: both right
    assert (nih["labelled positive"], nih["expert positive"], nih["both positive"]) == (1, 1, 0)
    assert nih["agreement"].startswith("0.00 [") and reviewers["agreement"].startswith("1.00 [")
    assert (reviewers["labelled positive"], reviewers["both positive"]) == (1, 1) and reviewers["ppv"].startswith("1.00 [")
    assert len(at.get("plotly_chart")) == 3
    assert any("Pneumothorax: 2 changed, 2 toward the experts, 0 away" in c.value for c in at.caption)
