"""One answer to "who is acting": signed in, else the typed reader's name, else the learner's name;
`auth` and `state` no longer import each other to find it."""

from __future__ import annotations

import ast

from streamlit.testing.v1 import AppTest

from tests.app.test_auth import AUTH
from tests.conftest import REPO


def _script():
    import streamlit as st

    from cxrviz.app import acting
    from cxrviz.config import Settings

    config = Settings.from_env()
    st.text(f"viewer={acting.viewer(config)}")  # read before any field is drawn
    st.text(f"reader={acting.person(config)}")
    st.text(f"learner={acting.person(config, acting.LEARNER)}")


def _run(params=None, user=None, secrets=None) -> dict[str, str]:
    at = AppTest.from_function(_script, default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    if user is not None:
        at.user = user
    if secrets is not None:
        at.secrets = secrets
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return dict(t.value.split("=", 1) for t in at.text), at


def test_without_sign_in_the_typed_names_act_and_the_viewer_is_read_without_a_field(app_env):
    found, at = _run(params={"reviewer": " Dr  Ann ", "learner": "Lee"})
    assert found == {"viewer": "Dr Ann", "reader": "Dr Ann", "learner": "Lee"}
    assert [t.label for t in at.sidebar.text_input] == ["Your name (required)", "Your name (required)"]  # one field each
    found, _ = _run()
    assert found == {"viewer": "None", "reader": "None", "learner": "None"}


def test_signed_in_the_user_acts_whatever_the_address_says(app_env):
    user = {"is_logged_in": True, "name": "Bob", "email": "bob@example.org"}
    found, at = _run(params={"reviewer": "mallory", "learner": "mallory"}, user=user, secrets=AUTH)
    assert found == {"viewer": "bob@example.org", "reader": "bob@example.org", "learner": "bob@example.org"}
    assert not at.sidebar.text_input  # nothing to type


def _app_imports(name: str) -> set[str]:
    tree = ast.parse((REPO / "cxrviz" / "app" / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "cxrviz.app":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cxrviz.app."):
            found.add(node.module.rsplit(".", 1)[1])
    return found


def test_auth_and_state_do_not_import_each_other_nor_acting():
    assert not {"state", "acting"} & _app_imports("auth")
    assert not {"auth", "acting"} & _app_imports("state")


def test_the_name_field_is_written_once():
    where = [p.name for p in sorted((REPO / "cxrviz" / "app").glob("*.py")) + sorted((REPO / "pages").glob("*.py"))
             if '"Your name (required)"' in p.read_text()]
    assert where == ["acting.py"]


def test_a_cleared_name_leaves_the_address_bar_too(app_env):
    _, at = _run(params={"reviewer": "Dr Ann"})
    at.sidebar.text_input(key="reviewer").set_value("").run()
    assert "reviewer" not in at.query_params  # a reload must not bring the old name back
    assert [t.value for t in at.text][:2] == ["viewer=None", "reader=None"]
