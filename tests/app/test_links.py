"""Links: Browse filters travel in the URL, and whatever a URL or a file name carries is shown as
text (never Markdown) and messages name no server folder beyond its own name."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from cxrviz.app.gallery import problem_text
from cxrviz.app.text import escape_markdown
from cxrviz.data.filters import Filter, apply_filter
from cxrviz.errors import ImageLoadError
from tests.conftest import REPO

TIMEOUT = 240
PAYLOAD = "x.png) — **Session expired**: [log in again](https://example.invalid/login) ("


def _app(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    return at.run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _url(at: AppTest) -> dict[str, str]:
    """The app's query parameters as {name: last value}."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def _form(at: AppTest) -> dict[str, object]:
    return {
        "findings": at.multiselect(key="f_findings").value, "match": at.radio(key="f_match").value,
        "no_finding": at.checkbox(key="f_nofinding").value, "age": tuple(at.slider(key="f_age").value),
        "gender": at.multiselect(key="f_gender").value, "view": at.multiselect(key="f_view").value,
        "patients": at.text_input(key="f_patients").value, "local": at.checkbox(key="f_hasimage").value,
        "boxes": at.checkbox(key="f_hasbox").value,
    }


def _shown_as_text(value: str, raw: str) -> bool:
    """`raw` is in `value` escaped, and no emphasis, link or HTML character is left unescaped."""
    return escape_markdown(raw) in value and re.search(r"(?<!\\)[*\[\]()<>]", value) is None


def test_a_link_opens_the_same_filter_and_the_same_counts(app_env, metadata):
    at = _app(findings="Effusion,Mass", match="all", gender="F", view="PA", age="30-60", patients="", local="0")
    assert not at.exception and not at.warning
    assert _form(at) == {"findings": ["Effusion", "Mass"], "match": "all of", "no_finding": False, "age": (30, 60),
                         "gender": ["F"], "view": ["PA"], "patients": "", "local": False, "boxes": False}
    expected = apply_filter(metadata, Filter(findings=("Effusion", "Mass"), match="all of", genders=("F",), views=("PA",),
                                             age_min=30, age_max=60, include_unknown_age=False))
    assert expected.sum() > 100
    assert _metrics(at)["Images"] == f"{int(expected.sum()):,}"


def test_filters_are_written_to_the_url_and_a_reload_restores_them(app_env):
    at = _app()
    assert _url(at) == {}  # the default view needs no parameters
    at.checkbox(key="f_hasimage").uncheck().run()
    at.multiselect(key="f_findings").set_value(["Hernia", "Mass"]).run()
    at.radio(key="f_match").set_value("any of").run()
    at.slider(key="f_age").set_range(20, 80).run()
    at.multiselect(key="f_gender").set_value(["M"]).run()
    at.checkbox(key="f_hasbox").check().run()
    link = _url(at)
    assert link == {"findings": "Hernia,Mass", "age": "20-80", "gender": "M", "local": "0", "boxes": "1"}
    counts = _metrics(at)
    assert counts["Images"] == counts["With boxes"] and counts["Images"] != "0"

    reopened = _app(**link)  # a fresh session: a shared link, or a reload
    assert not reopened.exception
    assert _form(reopened) == _form(at)
    assert _metrics(reopened) == counts
    assert _url(reopened) == link

    at.checkbox(key="f_hasbox").uncheck().run()  # back at its default: the parameter goes
    assert "boxes" not in _url(at)


def test_patient_ids_in_a_link(app_env, metadata):
    at = _app(patients="1,30805", local="0")
    assert at.text_input(key="f_patients").value == "1, 30805"
    expected = apply_filter(metadata, Filter(patient_ids=(1, 30805)))
    assert _metrics(at)["Images"] == f"{int(expected.sum()):,}" and _metrics(at)["Patients"] == "2"


def test_bad_values_in_a_link_are_named_and_ignored(app_env):
    at = _app(findings="Mass,**Bold**", age="abc", local="maybe", match="[x](https://example.invalid)")
    assert not at.exception
    warning = next(w.value for w in at.warning if "link was ignored" in w.value)
    for named in ("\\*\\*Bold\\*\\*", "abc", "maybe", "\\[x\\]\\(https\\:"):
        assert named in warning
    assert "**Bold" not in warning and "](https" not in warning
    assert at.multiselect(key="f_findings").value == ["Mass"]
    assert tuple(at.slider(key="f_age").value) == (0, 120)
    assert at.checkbox(key="f_hasimage").value is True  # the server's default when images are found
    assert at.radio(key="f_match").value == "any of"
    assert _url(at) == {"findings": "Mass"}  # the address bar now holds the filter as applied
    at.checkbox(key="f_nofinding").check().run()
    assert not any("link was ignored" in w.value for w in at.warning)  # said once, on opening


def test_the_filter_survives_a_visit_to_an_image(app_env):
    at = _app(findings="Cardiomegaly", boxes="1")
    count = _metrics(at)["Images"]
    next(b for b in at.button if b.label == "Open").click().run()
    at.switch_page("pages/browse.py").run()
    assert at.multiselect(key="f_findings").value == ["Cardiomegaly"] and at.checkbox(key="f_hasbox").value is True
    assert _metrics(at)["Images"] == count
    assert _url(at).get("findings") == "Cardiomegaly" and _url(at).get("boxes") == "1"


def test_an_image_link_with_markdown_is_shown_as_text(app_env, nih_images):
    at = _app("pages/image.py", image=PAYLOAD)
    assert not at.exception
    assert _shown_as_text(at.title[0].value, PAYLOAD)
    warning = next(w.value for w in at.warning if "not an NIH ChestX" in w.value)  # about the name, not the folder
    assert _shown_as_text(warning, PAYLOAD)


def test_a_missing_image_names_the_folder_not_its_path(app_env, nih_images):
    at = _app("pages/image.py", image="00000001_000.png")  # an NIH image, not among the shared ones
    assert not at.exception
    shown = " ".join(e.value for e in [*at.warning, *at.error, *at.info, *at.caption, *at.markdown])
    assert "not in the image folder" in shown and nih_images.name in shown
    for above in (nih_images.parent, nih_images.parent.parent):
        assert str(above) not in shown and escape_markdown(above) not in shown


def test_a_missing_image_folder_is_named_not_its_path(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CXRVIZ_IMAGES", str(tmp_path / "nowhere"))
    at = _app()
    warning = next(w.value for w in at.warning if "nowhere" in w.value)
    assert str(tmp_path) not in warning and escape_markdown(tmp_path) not in warning


def test_the_image_page_caption_is_escaped(app_env):
    at = _app("pages/image.py", image="00009745_000.png")
    assert not at.exception
    assert any(c.value.startswith("Patient 9745 · follow\\-up 1 · age 54 · F · PA") for c in at.caption)
    assert any(m.value.startswith("**NIH labels:** Cardiomegaly") for m in at.markdown)


def test_upload_shows_no_box_legend_without_boxes(app_env, nih_images):
    from tests.conftest import SMALL_512

    at = _app("pages/upload.py")
    at.file_uploader(key="upload_file").upload(SMALL_512, (nih_images / SMALL_512).read_bytes(), "image/png").run()
    assert not at.exception
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert captions and not any("Green" in c or "ground-truth" in c for c in captions)


def test_an_upload_file_name_with_markdown_is_shown_as_text(app_env):
    at = _app("pages/upload.py")
    at.file_uploader(key="upload_file").upload(PAYLOAD + ".png", b"just some text").run()
    assert not at.exception
    assert at.error and all(_shown_as_text(e.value, PAYLOAD) for e in at.error)


def test_a_tile_problem_names_no_server_folder(tmp_path):
    path = tmp_path / "images" / "00000001_000.png"
    assert problem_text(ImageLoadError(f"{path} does not exist."), path) == "00000001_000.png does not exist."
    made = problem_text(PermissionError(13, "Permission denied", str(tmp_path / "cache" / "thumbs")), path)
    assert "Permission denied" in made and str(tmp_path) not in made


# What Streamlit's Markdown finds in the text after parsing, where backslash escapes are resolved:
# GFM's bare links (these two patterns are the ones in the bundled frontend) and :shortcode: emoji.
_BARE_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE | re.ASCII)
_BARE_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)
_SHORTCODE = re.compile(r":[\w-]+:", re.ASCII)


def _parsed_text(markdown: str) -> str:
    """The text CommonMark makes of an escaped string: each backslash-escaped punctuation as itself."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


@pytest.mark.parametrize(
    "raw",
    [PAYLOAD, "see www.example.invalid now", "mail ann@example.invalid", "HTTP://EXAMPLE.INVALID", ":smile: :material/home:",
     "<img src=x onerror=alert(1)>", "$x^2$ :red[red] # heading", "1. item\n- item\n> quote", "a\\*b\\", "00000001_000.png"],
)
def test_escaped_text_reads_as_itself_and_makes_no_link(raw):
    escaped = escape_markdown(raw)
    unescaped = re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)
    assert re.search(r"[!-/:-@\[-`{-~]", unescaped) is None  # every punctuation character is escaped
    text = _parsed_text(escaped)
    assert text.replace("\u2060", "") == raw  # reads as the original, character for character
    assert not _BARE_URL.search(text) and not _BARE_EMAIL.search(text) and not _SHORTCODE.search(text)
    if raw == "00000001_000.png":
        assert "\u2060" not in escaped  # an NIH file name copies as itself


def _expert_counts(metadata) -> dict[str, int]:
    """Independently of `expert.row_masks`: the expert CSV read row by row against the metadata's labels."""
    import pandas as pd

    from cxrviz.data.expert import default_expert_path

    nih_of = {"Pneumothorax": {"Pneumothorax"}, "Nodule or mass": {"Nodule", "Mass"},
              "Airspace opacity": {"Consolidation", "Infiltration", "Pneumonia", "Atelectasis", "Edema"}}
    experts = pd.read_csv(default_expert_path(), dtype=str, keep_default_na=False)
    has = disagree = disagree_ptx = 0
    for _, row in experts.iterrows():
        labels = metadata.findings_of(row["Image Index"])
        if labels is None:
            continue
        has += 1
        differs = any(row[f] in ("YES", "NO") and (row[f] == "YES") != bool(labels & nih) for f, nih in nih_of.items())
        disagree += differs
        disagree_ptx += differs and "Pneumothorax" in labels
    return {"has": has, "disagree": disagree, "disagree_ptx": disagree_ptx}


def test_expert_filters_count_and_travel_in_the_url(app_env, metadata):
    expected = _expert_counts(metadata)
    assert expected["has"] == 4376 and 0 < expected["disagree_ptx"] < expected["disagree"] < expected["has"]
    at = _app()
    at.checkbox(key="f_hasimage").uncheck().run()
    at.checkbox(key="f_hasexpert").check().run()
    assert not at.exception and _metrics(at)["Images"] == f"{expected['has']:,}"
    assert _url(at) == {"local": "0", "expert": "1"}
    at.checkbox(key="f_hasexpert").uncheck().run()
    at.checkbox(key="f_nihdisagrees").check().run()
    assert _metrics(at)["Images"] == f"{expected['disagree']:,}"
    at.checkbox(key="f_hasexpert").check().run()  # implied by a disagreement: the same count
    assert _metrics(at)["Images"] == f"{expected['disagree']:,}"
    at.multiselect(key="f_findings").set_value(["Pneumothorax"]).run()  # combines with the other filters
    assert _metrics(at)["Images"] == f"{expected['disagree_ptx']:,}"
    link = _url(at)
    assert link == {"findings": "Pneumothorax", "local": "0", "expert": "1", "disagree": "1"}

    reopened = _app(**link)
    assert not reopened.exception
    assert reopened.checkbox(key="f_hasexpert").value is True and reopened.checkbox(key="f_nihdisagrees").value is True
    assert _metrics(reopened) == _metrics(at) and _url(reopened) == link
