"""The pages through Streamlit's AppTest: what a user sees after each action."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import BOXED_1024, REPO, SMALL_512, shown
from tests.dicom_factory import make_dicom

TIMEOUT = 240


def _app(page: str | None = None, image: str | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    if image:
        at.query_params["image"] = image
    if page:
        at.switch_page(page)
    return at.run()


def _problems(at: AppTest) -> list[str]:
    return [e.value for e in at.exception]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_browse_counts_follow_filters(app_env):
    at = _app()
    assert not _problems(at)
    assert _metrics(at)["Images"] == "452"  # "has a local image" is on when images are found
    at.checkbox(key="f_hasimage").uncheck().run()
    assert _metrics(at)["Images"] == "112,120"
    at.multiselect(key="f_findings").set_value(["Hernia"]).run()
    assert _metrics(at)["Images"] == "227"
    at.multiselect(key="f_gender").set_value(["F"]).run()
    assert int(_metrics(at)["Images"]) < 227
    at.checkbox(key="f_hasbox").check().run()
    assert _metrics(at)["With boxes"] == _metrics(at)["Images"]
    assert len(at.get("plotly_chart")) == 4


def test_browse_without_images_says_so_once(app_env, monkeypatch):
    monkeypatch.delenv("CXRVIZ_IMAGES")
    at = _app()
    assert not _problems(at)
    infos = [i.value for i in at.info]
    assert sum("CXRVIZ_IMAGES" in text for text in infos) == 1
    assert _metrics(at)["Images"] == "112,120"


def test_browse_with_a_missing_folder_and_a_bad_csv(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CXRVIZ_IMAGES", str(tmp_path / "nowhere"))
    at = _app()
    assert any("nowhere" in w.value for w in at.warning)
    bad = tmp_path / "Data_Entry_2017.csv"
    bad.write_text("this,is,not\nthe,right,file\n")
    monkeypatch.setenv("CXRVIZ_METADATA", str(bad))
    at = _app()
    assert not _problems(at)
    assert any("Data\\_Entry\\_2017" in e.value and "does not look like" in e.value for e in at.error)


def test_browse_open_makes_the_current_image(app_env):
    at = _app()
    first_open = next(b for b in at.button if b.label == "Open")
    name = first_open.key.removeprefix("open_")
    first_open.click().run()
    assert at.session_state["image"] == name
    assert at.query_params["image"] == [name] or at.query_params["image"] == name


def test_image_page_shows_probabilities_heatmap_and_box(app_env):
    at = _app("pages/image.py", image=BOXED_1024)
    assert not _problems(at) and not at.error
    assert len(at.get("plotly_chart")) == 1
    assert len(at.get("image")) == 1
    metrics = at.table[0].value
    assert list(metrics.index) == ["Cardiomegaly"]
    assert 0.0 <= metrics["IoU"].iloc[0] <= 1.0 and 0.0 <= metrics["IoBB"].iloc[0] <= 1.0
    at.selectbox(key="image_method").set_value("EigenCAM").run()
    assert not _problems(at)


def test_image_page_for_an_unknown_image(app_env):
    """A real NIH image that is not in the folder names the folder; a typo names the name (issue 24)."""
    at = _app("pages/image.py", image="00000001_000.png")  # in the NIH metadata, not among the shared images
    assert not _problems(at)
    assert any("not in the image folder" in shown(w.value) and "CXRVIZ_IMAGES" in w.value for w in at.warning)
    for typo, phrase in (("typo.png", "is not an NIH ChestX-ray14 image name"), ("99999999_000.png", "not in the NIH metadata")):
        at = _app("pages/image.py", image=typo)
        assert not _problems(at)
        warnings = [shown(w.value) for w in at.warning]
        assert any(phrase in w and typo in w for w in warnings), warnings
        assert not any("CXRVIZ_IMAGES" in w or "image folder" in w for w in warnings), warnings


def test_image_page_previous_and_next_walk_the_browse_results(app_env, metadata):
    at = _app()
    at.checkbox(key="f_hasbox").check().run()  # the 8 local images with a ground-truth box
    names = list(metadata.table["image"].to_numpy()[at.session_state["browse_rows"]])  # the grid's order
    assert len(names) == 8 and {b.key.removeprefix("open_") for b in at.button if b.label == "Open"} == set(names)
    next(b for b in at.button if b.key == f"open_{names[1]}").click().run()
    at.switch_page("pages/image.py").run()  # AppTest does not follow st.switch_page by itself
    assert not _problems(at)
    assert at.session_state["image"] == names[1]
    assert any("2 of 8 Browse results" in shown(c.value) for c in at.caption)
    at.button(key="image_next").click().run()
    assert not _problems(at)
    assert at.session_state["image"] == names[2] and _url_image(at) == names[2]
    at.button(key="image_prev").click().run()
    at.button(key="image_prev").click().run()
    assert at.session_state["image"] == names[0] and at.button(key="image_prev").disabled
    assert any("1 of 8 Browse results" in shown(c.value) for c in at.caption)


def test_image_page_without_a_browse_filter_walks_every_local_image(app_env, nih_images):
    at = _app("pages/image.py", image="00000100_000.png")  # a link opened: a new session, no Browse filter
    assert not _problems(at)
    first, second = sorted(p.name for p in nih_images.glob("*.png"))[:2]
    assert any(f"1 of {len(list(nih_images.glob('*.png')))} local images" in shown(c.value) for c in at.caption)
    at.button(key="image_next").click().run()
    assert at.session_state["image"] == second


def test_image_page_asks_for_the_name_where_the_field_is(app_env):
    at = _app("pages/image.py", image=BOXED_1024)
    assert any("Enter your name in the sidebar" in c.value for c in at.caption)
    assert not any("above" in c.value for c in at.caption)


def _url_image(at: AppTest) -> str:
    value = at.query_params["image"]
    return value[-1] if isinstance(value, list) else value


def test_browse_table_has_units_and_counts_read_right(app_env):
    at = _app()
    columns = set(at.dataframe[0].value.columns)
    assert {"width (px)", "height (px)", "pixel spacing x (mm)", "pixel spacing y (mm)", "age (years)"} <= columns
    at.text_input(key="f_patients").input("100").run()  # patient 100: one local image
    at.toggle(key="triage_on").set_value(True).run()
    assert not _problems(at)
    texts = [m.value for m in at.markdown] + [b.label for b in at.button]
    assert any("Predict the 1 local image of this filter" in t for t in texts), texts
    assert any(t == "Predict 1 image" for t in texts)
    assert not any("1 local images" in t or "1 images" in t for t in texts)


def _png_bytes(size=(64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 128).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, payload, phrase",
    [
        ("notes.png", b"just some text", "not an image"),
        ("broken.png", _png_bytes()[:60], "corrupt"),
        ("empty.dcm", make_dicom(None), "without pixel data"),
        ("fake.dcm", b"\x00" * 200, "not a readable DICOM"),
    ],
)
def test_bad_uploads_show_a_message_not_a_traceback(app_env, name, payload, phrase):
    at = _app("pages/upload.py")
    at.file_uploader(key="upload_file").upload(name, payload).run()
    assert not _problems(at)
    assert any(phrase in e.value for e in at.error), [e.value for e in at.error]


def test_upload_of_a_real_image(app_env, nih_images):
    at = _app("pages/upload.py")
    at.file_uploader(key="upload_file").upload(SMALL_512, (nih_images / SMALL_512).read_bytes(), "image/png").run()
    assert not _problems(at) and not at.error
    assert len(at.get("plotly_chart")) == 1 and len(at.get("image")) == 1


def _array(values):
    """A Plotly JSON array: a plain list, or a typed array {"dtype", "bdata": base64}."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def test_agreement_page(app_env):
    from cxrviz.review.store import Store

    store = Store(str(app_env / "reviews.sqlite"))
    for who, labels in (("ann", ["Mass"]), ("bob", ["Nodule"])):
        store.save_review("00000282_000.png", who, labels, "corrected")
        store.save_review("00000353_000.png", who, ["Mass"], "corrected")
    at = _app("pages/agreement.py")
    assert not _problems(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    # Mass: ann 1 1, bob 0 1 -> o_10 = o_01 = 1, o_11 = 2; n = 4, n_1 = 3, n_0 = 1:
    # alpha = 1 - 3 * 2 / (2 * 3 * 1) = 0 -- a zero is drawn, not dropped. Nodule mirrors it.
    bars = json.loads(charts[0].proto.spec)["data"]
    drawn = {y: float(x) for trace in bars if trace.get("type") == "bar" for y, x in zip(trace["y"], _array(trace["x"]))}
    assert drawn == {"Mass": 0.0, "Nodule": 0.0}
    table = at.dataframe[0].value.set_index("finding")
    assert table.loc["Mass", "alpha"] == "0.000" and table.loc["Mass", "kappa"] == "0.000"
    assert table.loc["Pneumonia", "alpha"] == "n/a" and "nobody ticked it" in table.loc["Pneumonia", "reason"]
    conflicts = at.dataframe[1].value
    assert list(conflicts["image"]) == ["00000282_000.png"]


def test_browse_batch_prediction_and_disagreement_queue(app_env):
    at = _app()
    at.checkbox(key="f_hasbox").check().run()
    at.toggle(key="triage_on").set_value(True).run()
    assert not _problems(at)
    at.button(key="triage_run").click().run()
    assert not _problems(at)
    assert any("8 of 8 have cached predictions" in c.value for c in at.caption)
    table = at.dataframe[-1].value
    assert len(table) == 8 and "disagreement" in table.columns
    assert list(table["disagreement"]) == sorted(table["disagreement"], reverse=True)
    at.button(key="triage_review").click().run()
    assert at.session_state["review_queue"] == list(table.index)


# --- the sidebar's model picker: weights only from where the operator allows --------------------

PASSWD = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


def _densenet_checkpoint() -> bytes:
    import torch

    from cxrviz.model.architectures import densenet121

    buffer = io.BytesIO()
    torch.save({"state_dict": densenet121(14).state_dict()}, buffer)
    return buffer.getvalue()


@pytest.fixture()
def weights_dir(app_env, monkeypatch):
    folder = app_env / "weights"
    folder.mkdir()
    (folder / "mine.pt").write_bytes(_densenet_checkpoint())
    (folder / "bad.pt").write_bytes(PASSWD)
    (folder / "notes.txt").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("CXRVIZ_WEIGHTS_DIR", str(folder))
    return folder


def test_sidebar_offers_the_weights_folder_by_name_and_no_path_field(weights_dir):
    at = _app("pages/upload.py")
    assert not _problems(at)
    assert not [t.label for t in at.sidebar.text_input]  # no server path can be typed
    options = at.selectbox(key="model_name").options
    assert "folder:mine.pt" in options and "folder:bad.pt" in options
    assert not any("notes" in o for o in options)
    at.selectbox(key="model_name").select("folder:bad.pt").run()
    assert not _problems(at)
    errors = [shown(e.value) for e in at.error]
    assert any("weights/bad.pt cannot be read" in e for e in errors), errors
    assert not any("root:x" in e or str(weights_dir) in e for e in errors)


def test_model_choice_survives_page_switches(weights_dir):
    at = _app("pages/upload.py")
    at.selectbox(key="model_name").select("folder:mine.pt").run()
    assert not _problems(at) and not at.error
    assert any("weights/mine.pt" in t.value for t in at.sidebar.text)
    for page in ("pages/agreement.py", "pages/image.py", "pages/agreement.py", "pages/upload.py"):
        at.switch_page(page).run()
        assert not _problems(at)
        if page != "pages/agreement.py":  # Agreement has no model picker
            assert at.selectbox(key="model_name").value == "folder:mine.pt", page


def test_checkpoint_upload_in_the_sidebar(app_env):
    at = _app("pages/upload.py")
    at.file_uploader(key="model_upload").upload("mine.pth", _densenet_checkpoint()).run()
    assert not _problems(at) and not at.error
    assert at.selectbox(key="model_name").value == "upload:mine.pth"
    at.switch_page("pages/agreement.py").run()
    at.switch_page("pages/image.py").run()
    assert at.selectbox(key="model_name").value == "upload:mine.pth"  # kept without the uploader's state
    at.file_uploader(key="model_upload").upload("passwd.pt", PASSWD).run()
    assert not _problems(at)
    errors = [shown(e.value) for e in at.error]
    assert any("passwd.pt cannot be read" in e for e in errors) and not any("root:x" in e for e in errors)
    assert at.selectbox(key="model_name").value == "upload:mine.pth"


def test_long_lived_objects_are_frozen_once_torch_is_loaded():
    """app.py calls settle_long_lived_objects after each run: it freezes the collector's view of
    the start-up objects once torch is in (automatic full collections then skip them), not before."""
    import subprocess
    import sys

    code = ("import gc, sys\n"
            "from cxrviz.app import resources\n"
            "resources.settle_long_lived_objects(); before = gc.get_freeze_count()\n"
            "import torch\n"
            "resources.settle_long_lived_objects(); after = gc.get_freeze_count()\n"
            "resources.settle_long_lived_objects(); again = gc.get_freeze_count()\n"
            "print(before, after > 100000, again == after)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["0", "True", "True"]


def test_image_page_shows_calibrated_probabilities_and_can_show_the_raw_ones(app_env):
    from cxrviz.findings import FINDINGS
    from cxrviz.model.calibration import report_calibrators
    from cxrviz.model.model_report import report_path_for
    from cxrviz.model.registry import BUNDLED_NAME, bundled_spec

    at = _app("pages/image.py", image=BOXED_1024)
    assert not _problems(at)
    assert at.toggle(key="image_calibrated").value is True

    def bars(at):
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        bar = next(t for t in spec["data"] if t.get("type") == "bar")
        return spec["layout"]["title"]["text"], dict(zip(bar["y"], _array(bar["x"]))), dict(zip(bar["y"], _array(bar["customdata"])))

    title, shown, raw = bars(at)
    assert title.startswith("Calibrated probability")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    ticks = next(t for t in spec["data"] if t.get("type") == "scatter")
    ticks = dict(zip(ticks["y"], _array(ticks["x"])))
    report = json.loads(report_path_for(BUNDLED_NAME).read_text())
    maps = report_calibrators(report, report["weights_sha256"])
    assert maps and "Hernia" not in maps  # three positives: no map, shown raw
    thresholds = dict(zip(FINDINGS, bundled_spec().thresholds))
    for finding, value in shown.items():
        expected = maps[finding].apply(np.array([raw[finding]]))[0] if finding in maps else raw[finding]
        assert value == pytest.approx(expected, abs=1e-9)
        cut = maps[finding].apply(np.array([thresholds[finding]]))[0] if finding in maps else thresholds[finding]
        assert ticks[finding] == pytest.approx(cut, abs=1e-9)  # the threshold goes through the same map
        if finding in maps and abs(raw[finding] - thresholds[finding]) > 1e-3:  # same side of it either way
            assert (value > ticks[finding]) == (raw[finding] > thresholds[finding])
    assert any(abs(shown[f] - raw[f]) > 0.05 for f in maps)  # calibration moves the numbers
    assert any("Uncalibrated" in c.value and "Hernia" in c.value for c in at.caption)
    at.toggle(key="image_calibrated").set_value(False).run()
    title, shown_raw, _ = bars(at)
    assert title.startswith("Probability") and shown_raw == pytest.approx(raw)


def test_browse_with_a_malformed_expert_file(app_env, monkeypatch, tmp_path):
    bad = tmp_path / "experts.csv"
    bad.write_text("Image Index,Pneumothorax\na.png,YES\n")
    monkeypatch.setattr("cxrviz.data.expert.default_expert_path", lambda: bad)
    at = _app()
    assert not _problems(at)
    assert any("lacks the column" in shown(e.value) for e in at.error)
    assert _metrics(at)["Images"] == "452"  # the rest of Browse works
    at.multiselect(key="f_findings").set_value(["Hernia"]).run()
    assert _metrics(at)["Images"] != "452"
    at.checkbox(key="f_hasexpert").check().run()  # no image is known to have an expert label
    assert not _problems(at) and _metrics(at)["Images"] == "0"


def test_image_page_finer_heatmap(app_env):
    at = _app("pages/image.py", image=BOXED_1024)
    assert not _problems(at)
    coarse = at.get("image")[0].proto.imgs[0].url
    at.checkbox(key="image_fine").check().run()
    assert not _problems(at) and not at.error
    assert at.get("image")[0].proto.imgs[0].url != coarse  # a new rendering, from the 16 x 16 layer
