"""Who may do what in team review: three roles and the actions each allows.

- ``reader``: reviews the images of the campaigns they are assigned to;
- ``adjudicator``: a reader who also settles disagreements (the adjudication queue);
- ``admin``: all of the above, plus assigning roles, creating campaigns and seeing reader quality.

A user with no role can do nothing but ask an admin for access. The first user to sign in to an
empty store becomes admin, so a fresh deployment is never locked out. The store calls `require`
inside its write transactions; pages never decide permissions themselves.
"""

from __future__ import annotations

from typing import NamedTuple

from cxrviz.errors import CxrvizError
from cxrviz.review.identity import display_name

READER, ADJUDICATOR, ADMIN = "reader", "adjudicator", "admin"
ROLES = (READER, ADJUDICATOR, ADMIN)

READ, ADJUDICATE, MANAGE, SEE_QUALITY = "read", "adjudicate", "manage", "see quality"
ACTIONS = (READ, ADJUDICATE, MANAGE, SEE_QUALITY)

PERMISSIONS: dict[str, frozenset[str]] = {
    READER: frozenset({READ}),
    ADJUDICATOR: frozenset({READ, ADJUDICATE}),
    ADMIN: frozenset({READ, ADJUDICATE, MANAGE, SEE_QUALITY}),
}

_WHAT = {READ: "review images", ADJUDICATE: "adjudicate disagreements", MANAGE: "manage roles and campaigns",
         SEE_QUALITY: "see reader quality"}
NO_ROLE_MESSAGE = "You are signed in but have no role yet: ask your admin for access."


class PermissionDenied(CxrvizError):
    """The user's role does not allow the action (or they have no role)."""


class RoleError(CxrvizError):
    """An unknown role, or a role change that would leave the store without an admin."""


def check_role(role: str | None) -> str | None:
    """A role as stored: one of `ROLES`, or None for "no role"."""
    if role is None or role == "":
        return None
    if role not in ROLES:
        raise RoleError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)} (or none).")
    return role


def allows(role: str | None, action: str) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return role is not None and action in PERMISSIONS.get(role, frozenset())


def require(role: str | None, action: str) -> None:
    """Raise `PermissionDenied` (a message for the page) unless `role` allows `action`."""
    if allows(role, action):
        return
    if role is None:
        raise PermissionDenied(NO_ROLE_MESSAGE)
    needed = [r for r in ROLES if action in PERMISSIONS[r]]
    raise PermissionDenied(f"As {role} you cannot {_WHAT[action]}; that needs the role {' or '.join(needed)}. Ask your admin.")


def role_for_new_user(users_so_far: int) -> str | None:
    """The first user of an empty store becomes admin; everyone after starts with no role."""
    return ADMIN if users_so_far == 0 else None


def check_role_change(actor_role: str | None, old: str | None, new: str | None, admins: int) -> str | None:
    """Validate a role change made by `actor_role` (admins only); `admins` is how many admins the
    store has now. Refuses removing the last admin. Returns the new role as stored."""
    require(actor_role, MANAGE)
    new = check_role(new)
    if old == ADMIN and new != ADMIN and admins <= 1:
        raise RoleError("This is the only admin; make someone else admin first, so the store is never without one.")
    return new


# ---- who is the reviewer: sign-in, single-user or refused ---------------------------------------

SIGNED_IN, SIGN_IN_NEEDED, SINGLE_USER, ANONYMOUS_TEAM, REFUSED = "signed in", "sign in needed", "single user", "anonymous team", "refused"
SINGLE_USER_LABEL = ("Single-user mode: no sign-in is configured, so the name you type is recorded as is. "
                     "For a team, configure sign-in ([auth] in .streamlit/secrets.toml).")
ANONYMOUS_LABEL = ("Team store without sign-in (CXRVIZ_ALLOW_ANONYMOUS=1): anyone can type any name, "
                   "so who saved what cannot be trusted.")
REFUSED_MESSAGE = ("This app uses a shared PostgreSQL review store (team mode), but no sign-in is configured, so anyone "
                   "could save labels under anyone's name. Configure OpenID Connect sign-in ([auth] in "
                   ".streamlit/secrets.toml), or, to accept that risk, start the app with CXRVIZ_ALLOW_ANONYMOUS=1.")


class Access(NamedTuple):
    mode: str
    reviewer: str | None = None  # set only when signed in: the identity token's email, else its name
    email: str | None = None
    display: str | None = None
    message: str = ""


def decide_access(auth_configured: bool, logged_in: bool, claims: dict, team_mode: bool, allow_anonymous: bool) -> Access:
    """How this session is identified. Signed-in identity is the only source of the reviewer
    when sign-in is configured: the email (unique per person) or, without one, the name."""
    if auth_configured:
        if not logged_in:
            return Access(SIGN_IN_NEEDED, message="Sign in to review: every label is recorded under your signed-in identity.")
        email = str(claims.get("email") or "").strip() or None
        display = str(claims.get("name") or "").strip() or None
        who = email or display
        if not who:
            return Access(REFUSED, message="Your sign-in carries neither an email nor a name, so your labels could not be "
                                           "attributed to you. Ask your identity provider's admin to release them.")
        return Access(SIGNED_IN, display_name(who), email, display)
    if team_mode and not allow_anonymous:
        return Access(REFUSED, message=REFUSED_MESSAGE)
    if team_mode:
        return Access(ANONYMOUS_TEAM, message=ANONYMOUS_LABEL)
    return Access(SINGLE_USER, message=SINGLE_USER_LABEL)
