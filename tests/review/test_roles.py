"""Role checks: hand-made cases for every role and action."""

from __future__ import annotations

import pytest

from cxrviz.errors import CxrvizError
from cxrviz.review import roles
from cxrviz.review.roles import ADJUDICATE, ADJUDICATOR, ADMIN, MANAGE, READ, READER, SEE_QUALITY


@pytest.mark.parametrize("role, action, allowed", [
    (READER, READ, True), (READER, ADJUDICATE, False), (READER, MANAGE, False), (READER, SEE_QUALITY, False),
    (ADJUDICATOR, READ, True), (ADJUDICATOR, ADJUDICATE, True), (ADJUDICATOR, MANAGE, False), (ADJUDICATOR, SEE_QUALITY, False),
    (ADMIN, READ, True), (ADMIN, ADJUDICATE, True), (ADMIN, MANAGE, True), (ADMIN, SEE_QUALITY, True),
    (None, READ, False), (None, ADJUDICATE, False),
])
def test_require_allows_exactly_the_role_table(role, action, allowed):
    assert roles.allows(role, action) is allowed
    if allowed:
        roles.require(role, action)
    else:
        with pytest.raises(roles.PermissionDenied) as caught:
            roles.require(role, action)
        assert isinstance(caught.value, CxrvizError)


def test_a_reader_cannot_adjudicate_and_is_told_who_can():
    with pytest.raises(roles.PermissionDenied, match="adjudicator or admin"):
        roles.require(READER, ADJUDICATE)


def test_no_role_means_ask_your_admin():
    with pytest.raises(roles.PermissionDenied, match="ask your admin for access"):
        roles.require(None, READ)


def test_a_made_up_role_grants_nothing_and_is_refused_when_stored():
    assert not roles.allows("superuser", MANAGE)
    with pytest.raises(roles.RoleError):
        roles.check_role("superuser")
    assert roles.check_role("") is None


def test_first_user_of_an_empty_store_is_admin_later_ones_have_no_role():
    assert roles.role_for_new_user(0) == ADMIN
    assert roles.role_for_new_user(1) is None
    assert roles.role_for_new_user(7) is None


def test_role_changes_need_an_admin_and_keep_one_admin():
    assert roles.check_role_change(ADMIN, None, READER, admins=1) == READER
    with pytest.raises(roles.PermissionDenied):
        roles.check_role_change(ADJUDICATOR, READER, ADMIN, admins=1)
    with pytest.raises(roles.RoleError, match="only admin"):
        roles.check_role_change(ADMIN, ADMIN, READER, admins=1)
    assert roles.check_role_change(ADMIN, ADMIN, None, admins=2) is None


# ---- who the reviewer is ---------------------------------------------------------------------

def test_signed_in_reviewer_is_the_token_email_else_its_name():
    found = roles.decide_access(True, True, {"name": "Ann Lee", "email": "ann@example.org"}, team_mode=True, allow_anonymous=False)
    assert (found.mode, found.reviewer, found.display) == (roles.SIGNED_IN, "ann@example.org", "Ann Lee")
    assert roles.decide_access(True, True, {"name": " Ann  Lee "}, False, False).reviewer == "Ann Lee"
    assert roles.decide_access(True, True, {}, False, False).mode == roles.REFUSED  # nothing to attribute labels to


def test_configured_sign_in_must_be_used_even_with_anonymous_allowed():
    assert roles.decide_access(True, False, {}, team_mode=True, allow_anonymous=True).mode == roles.SIGN_IN_NEEDED
    assert roles.decide_access(True, False, {}, team_mode=False, allow_anonymous=False).mode == roles.SIGN_IN_NEEDED


def test_team_store_without_sign_in_is_refused_unless_allowed():
    refused = roles.decide_access(False, False, {}, team_mode=True, allow_anonymous=False)
    assert refused.mode == roles.REFUSED and "CXRVIZ_ALLOW_ANONYMOUS=1" in refused.message and "[auth]" in refused.message
    assert roles.decide_access(False, False, {}, team_mode=True, allow_anonymous=True).mode == roles.ANONYMOUS_TEAM
    single = roles.decide_access(False, False, {}, team_mode=False, allow_anonymous=False)
    assert single.mode == roles.SINGLE_USER and single.reviewer is None and "Single-user mode" in single.message


def test_claims_without_sign_in_configured_are_ignored():
    # a session cannot claim an identity when sign-in is off: the reviewer is only ever set when signed in
    found = roles.decide_access(False, True, {"email": "boss@example.org"}, team_mode=False, allow_anonymous=False)
    assert found.reviewer is None
