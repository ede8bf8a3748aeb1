"""Sign-in through AppTest: the refusal of an anonymous team store, the labelled single-user mode,
and a signed-in reviewer who cannot be typed or passed in the URL."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cxrviz.review.store import Store, team
from tests.conftest import REPO, shown

TIMEOUT = 240
AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "cxrviz",
                 "client_secret": "s", "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


def _app(page: str | None = None, user: dict | None = None, secrets: dict | None = None, params: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    if user is not None:
        at.user = user
    if secrets:
        at.secrets = secrets
    for key, value in (params or {}).items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    return at.run()


def test_team_store_without_sign_in_refuses_and_says_why(app_env, monkeypatch):
    monkeypatch.setenv("CXRVIZ_DB", "postgresql://cxrviz@127.0.0.1:9/reviews")  # never reached: refused first
    monkeypatch.delenv("CXRVIZ_ALLOW_ANONYMOUS", raising=False)
    at = _app("pages/review.py")
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1 and "team mode" in errors[0] and "CXRVIZ_ALLOW_ANONYMOUS=1" in errors[0]
    assert not [t for t in at.text_input if t.key == "reviewer"]  # nothing of the page ran


def test_single_user_mode_is_labelled_and_keeps_the_typed_name(app_env):
    at = _app("pages/review.py")
    assert not at.exception
    assert any("Single-user mode" in c.value for c in at.sidebar.caption)
    assert [t.key for t in at.text_input if t.key == "reviewer"] == ["reviewer"]


def test_signed_in_user_is_the_reviewer_and_cannot_be_typed_or_spoofed(app_env):
    user = {"is_logged_in": True, "name": "Ann Lee", "email": "ann@example.org"}
    at = _app("pages/review.py", user=user, secrets=AUTH, params={"reviewer": "mallory"})
    assert not at.exception, [e.value for e in at.exception]
    assert not [t for t in at.text_input if t.key == "reviewer"]
    assert "Signed in as ann@example.org (admin)" in [t.value for t in at.sidebar.text]  # first user of an empty store
    at.button(key="save_" + at.session_state["image"]).click().run()
    store = Store(str(app_env / "reviews.sqlite"))
    assert {r.reviewer for r in store.reviews()} == {"ann@example.org"}


def test_a_signed_in_user_without_a_role_is_told_to_ask_the_admin(app_env):
    store = Store(str(app_env / "reviews.sqlite"))
    team.sign_in(store, "admin@example.org")
    at = _app("pages/review.py", user={"is_logged_in": True, "name": "Bob", "email": "bob@example.org"}, secrets=AUTH)
    assert not at.exception
    assert any("ask your admin for access" in i.value for i in at.info)
    assert [b.key for b in at.button] == ["auth_logout"]


def test_sign_in_configured_but_not_signed_in_offers_the_button_only(app_env):
    at = _app("pages/review.py", user={"is_logged_in": False}, secrets=AUTH)
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
