"""The Review page on the Label audit page's queues: the form says what is suspect of the image
and marks its label buttons (keys and shortcuts unchanged); a follow-up flip is shown beside the
patient's prior and next study."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from cxrviz.app import state
from cxrviz.app.review_form import LABEL_KEYS, SUSPECT_MARK
from cxrviz.data.followups import adjacent_studies, follow_up_flips
from cxrviz.data.metadata import Metadata, label_matrix
from cxrviz.review.store import Store
from cxrviz.review.store.oof import replace_label_issues
from cxrviz.review.suspects import Suspect, flip_suspects
from tests.conftest import REPO, shown

TIMEOUT = 240


def _app(page: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.switch_page(page)
    return at


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _on_review(at: AppTest, switch: bool = False) -> AppTest:
    """The Review page with a reviewer named; `switch` after a Label audit button, whose
    st.switch_page AppTest does not follow (the session state it set stays)."""
    if switch:
        _ok(at).switch_page("pages/review.py").run()
    at.text_input(key="reviewer").input("Dr Ann").run()
    return _ok(at)


def _warnings(at: AppTest) -> list[str]:
    return [shown(w.value) for w in at.warning]


def _marked(at: AppTest, image: str) -> dict[str, str]:
    """label -> help text of the label buttons marked suspect."""
    prefix = f"lab_{image}_"
    return {b.key.removeprefix(prefix): shown(b.help) for b in at.button
            if b.key and b.key.startswith(prefix) and b.label.startswith(SUSPECT_MARK)}


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_likely_wrong_labels_say_which_finding_is_suspect_and_mark_its_button(app_env):
    first, second = "00001369_000.png", "00022572_000.png"  # local, and adjudicated by Google 2019
    row = {"label": 0, "direction": "probably missing", "image_score": 0.1, "probability": 0.9, "flagged": True}
    store = Store(str(app_env / "reviews.sqlite"))
    replace_label_issues(store, "recipe", "patient-5fold-seed0", [
        {**row, "image": first, "finding": "Pneumothorax", "label": 1, "direction": "probably spurious", "score": 0.01},
        {**row, "image": second, "finding": "Consolidation", "score": 0.02},
        {**row, "image": first, "finding": "Mass", "score": 0.03},
    ])
    store.dispose()
    at = _ok(_app("pages/label_audit.py").run())
    at.button(key="audit_review").click().run()
    at = _on_review(at, switch=True)
    assert at.session_state["image"] == first
    (warning,) = [w for w in _warnings(at) if w.startswith("Suspect")]
    assert warning.splitlines() == ["Suspect: Pneumothorax — probably spurious (cleanlab score 0.01; expert: absent)  ",
                                    "Suspect: Mass — probably missing (cleanlab score 0.03; expert: absent)"]
    marked = _marked(at, first)
    assert set(marked) == {"Pneumothorax", "Mass"} and "probably spurious" in marked["Pneumothorax"]
    button = at.button(key=f"lab_{first}_Pneumothorax")
    assert button.label == f"{SUSPECT_MARK} Pneumothorax" and button.proto.shortcut == LABEL_KEYS["Pneumothorax"]
    assert at.button(key=f"lab_{first}_Hernia").label == "Hernia" and not at.button(key=f"lab_{first}_Hernia").help
    before = button.proto.type
    at.button(key=f"lab_{first}_Pneumothorax").click().run()  # the marked button still toggles its label
    assert _ok(at).button(key=f"lab_{first}_Pneumothorax").proto.type != before
    at.button(key=f"save_{first}").click().run()  # save and next: the next image's suspect, not this one's
    assert _ok(at).session_state["image"] == second
    assert set(_marked(at, second)) == {"Consolidation"}
    assert [w for w in _warnings(at) if w.startswith("Suspect")] == [
        "Suspect: Consolidation — probably missing (cleanlab score 0.02; expert: present)"]


def test_nih_expert_disagreements_name_the_expert_verdict(app_env):
    at = _ok(_app("pages/label_audit.py").run())
    at.selectbox(key="disagree_finding").set_value("Pneumothorax").run()
    at.button(key="disagree_review").click().run()
    at = _on_review(at, switch=True)
    image = at.session_state["image"]
    assert any(w.startswith("Suspect: Pneumothorax — NIH") and "Google 2019 adjudicated" in w for w in _warnings(at))
    assert set(_marked(at, image)) == {"Pneumothorax"}


def test_a_browse_queue_marks_nothing_and_a_blind_queue_escapes_data(app_env):
    at = _app("pages/review.py")
    evil = Suspect("<b>Effusion</b> [x](http://e.vil)", "probably spurious", "*score*", ("Effusion",))
    images = ["00000013_026.png", "00000032_002.png"]
    at.session_state[state.QUEUE_KEY] = images
    at.session_state[state.QUEUE_SOURCE_KEY] = "likely wrong labels (cleanlab)"
    at.session_state[state.QUEUE_SUSPECTS_KEY] = {images[0]: (evil,)}
    at.session_state[state.QUEUE_STUDIES_KEY] = {}
    at = _on_review(_ok(at.run()))
    assert at.session_state["image"] == images[0]
    (warning,) = [w for w in at.warning if "Suspect" in shown(w.value)]
    assert shown(warning.value) == "Suspect: <b>Effusion</b> [x](http://e.vil) — probably spurious (*score*)"
    assert "\\<b\\>" in warning.value and "\\[x\\]" in warning.value  # escaped: shown as text
    assert set(_marked(at, images[0])) == {"Effusion"}
    # not among the shared images: the page names the image and the folder, and keeps the form
    assert any(shown(e.value).startswith("00000013_026.png is not in the image folder images") for e in at.error), \
        [shown(e.value) for e in at.error]
    at.sidebar.radio(key="queue_choice").set_value("Browse filter").run()  # another queue: no suspects
    assert not [w for w in _ok(at).warning if "Suspect" in shown(w.value)]
    assert not _marked(at, at.session_state["image"])


def test_follow_up_flips_show_the_prior_and_next_study_even_when_absent_locally(app_env, metadata):
    at = _ok(_app("pages/label_audit.py").run())
    at.button(key="flip_review").click().run()
    at = _on_review(at, switch=True)
    image = at.session_state["image"]
    flips = follow_up_flips(metadata)
    mine = flips[flips["image"] == image]
    prior, following = mine["prior"].iat[0], mine["next"].iat[0]
    assert any(s.value == "Same patient: prior and next study" for s in at.subheader)
    texts = _texts(at)
    assert any(t.startswith(f"Prior: {prior} · follow-up ") and "NIH: " in t for t in texts)
    assert any(t.startswith(f"Next: {following} · follow-up ") for t in texts)
    assert any("Not present locally" in t for t in texts)  # ../shared/nih holds one study per patient
    flipping = ", ".join(mine["finding"])
    assert any(f"Flips here (follow-up {mine['follow_up'].iat[0]}): {flipping}" in shown(c.value) for c in at.caption)
    assert set(_marked(at, image)) == set(mine["finding"])


def test_a_flip_whose_prior_and_next_are_local_shows_their_thumbnails(app_env, nih_images):
    names = sorted(p.name for p in nih_images.glob("*.png"))[:3]
    table = pd.DataFrame([(names[0], 1, 0, "Effusion"), (names[1], 1, 1, "No Finding"), (names[2], 1, 2, "Effusion|Mass")],
                         columns=["image", "patient_id", "follow_up", "finding_labels"])
    table["follow_up"] = table["follow_up"].astype("Int32")
    history = Metadata(table=table, labels=label_matrix(table["finding_labels"], "synthetic"), source="synthetic")
    flips = follow_up_flips(history)
    assert list(flips["image"]) == [names[1]]
    at = _app("pages/review.py")
    at.session_state[state.QUEUE_KEY] = [names[1]]
    at.session_state[state.QUEUE_SOURCE_KEY] = "follow-up flips"
    at.session_state[state.QUEUE_SUSPECTS_KEY] = flip_suspects(flips)
    at.session_state[state.QUEUE_STUDIES_KEY] = adjacent_studies(history, [names[1]])
    at = _on_review(_ok(at.run()))
    texts = _texts(at)
    assert f"Prior: {names[0]} · follow-up 0 · NIH: Effusion" in texts
    assert f"Next: {names[2]} · follow-up 2 · NIH: Effusion, Mass" in texts
    assert not any("Not present locally" in t for t in texts)
    assert len(at.get("image")) == 3  # the image under review and the two thumbnails
    assert set(_marked(at, names[1])) == {"Effusion"}
