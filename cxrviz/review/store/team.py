"""Team review in the store: users and roles, campaigns and their assignments, adjudications, and
the `team_audit` log that records every role, campaign and adjudication change.

Every permission check reads the actor's role from the store inside the same transaction as the
change (`roles.require`): a page can pass who is acting, never what they may do. On PostgreSQL
the first sign-in locks `users`, so two people signing in to an empty store at once cannot both
become admin.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from cxrviz.data.boxes import Box
from cxrviz.findings import ALL_LABELS, NO_FINDING, join_labels, split_labels
from cxrviz.review import campaigns as rules
from cxrviz.review import roles, throughput
from cxrviz.review import visibility as gate
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.campaigns import CampaignError, CampaignSpec
from cxrviz.review.identity import display_name, name_key
from cxrviz.review.measurements import Measurement
from cxrviz.review.record import Review, utc_now
from cxrviz.review.store.boxes import boxes_in, list_boxes
from cxrviz.review.store.core import Store, check_image_name
from cxrviz.review.store.drafts import draft_in, drafted_images_in
from cxrviz.review.store.measurements import list_measurements, measurements_in
from cxrviz.review.store.reports import all_in, versions_in
from cxrviz.review.store.tables import adjudications, assignments, audit_log, campaigns, reviewers, reviews, team_audit, users
from cxrviz.review.store.views import readings, seconds_on_image
from cxrviz.review.under_review import UnderReview
from cxrviz.review.under_review import progress as queue_progress
from cxrviz.review.visibility import DECIDED, OTHERS_VISIBLE, ImageUnderReview, Shared, Visibility

log = logging.getLogger(__name__)
SYSTEM = "(cxrviz)"  # the actor of automatic changes: the first user made admin
MAX_REASON = 5_000


def _audit(conn: sa.Connection, actor: str, action: str, target: str, old: dict | None, new: dict | None, at: str) -> None:
    conn.execute(team_audit.insert().values(
        actor=actor, action=action, target=target[:200], at=at,
        old_values=json.dumps(old) if old is not None else None, new_values=json.dumps(new) if new is not None else None))


def _role(conn: sa.Connection, who: str) -> str | None:
    return conn.execute(sa.select(users.c.role).where(users.c.name_key == name_key(who))).scalar()


# ---- users and roles ------------------------------------------------------------------------

def sign_in(store: Store, reviewer: str, email: str | None = None, display: str | None = None, at: str | None = None) -> str | None:
    """Record a signed-in user (created on first sign-in, `last_seen_at` after); returns their role.
    The first user of an empty store becomes admin (audited, actor `SYSTEM`)."""
    name, key, now = display_name(reviewer), name_key(reviewer), at or utc_now()
    with store.writing() as conn:
        row = conn.execute(sa.select(users.c.id, users.c.role).where(users.c.name_key == key)).first()
        if row is not None:
            conn.execute(users.update().where(users.c.id == row.id).values(last_seen_at=now, email=email, display=display))
            return row.role
        if not store.is_sqlite:  # SQLite's write lock already serialises this; PostgreSQL needs the table lock
            conn.execute(sa.text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
            row = conn.execute(sa.select(users.c.role).where(users.c.name_key == key)).first()
            if row is not None:
                return row.role
        count = conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()
        role = roles.role_for_new_user(count)
        conn.execute(users.insert().values(name=name, name_key=key, email=email, display=display, role=role,
                                           created_at=now, last_seen_at=now))
        _audit(conn, SYSTEM, "user-create", name, None, {"role": role, "email": email}, now)
    if role:
        log.info("First user %s of %s made %s", name, store.where, role)
    return role


def role_of(store: Store, reviewer: str) -> str | None:
    with store.reading() as conn:
        return _role(conn, reviewer)


def list_users(store: Store) -> list[dict]:
    """Every known user, by name: name, email, role, first and last seen."""
    query = sa.select(users.c.name, users.c.email, users.c.role, users.c.created_at, users.c.last_seen_at).order_by(users.c.name_key)
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def set_role(store: Store, actor: str, target: str, role: str | None, at: str | None = None) -> None:
    """An admin gives `target` a role (or none); a user not seen yet is created, so readers can be
    named before their first sign-in. Refuses removing the last admin. Audited."""
    now = at or utc_now()
    name, key = display_name(target), name_key(target)
    with store.writing() as conn:
        if not store.is_sqlite:
            conn.execute(sa.text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))  # the admin count below stays true
        actor_role = _role(conn, actor)
        old = conn.execute(sa.select(users.c.id, users.c.role).where(users.c.name_key == key)).first()
        admins = conn.execute(sa.select(sa.func.count()).select_from(users).where(users.c.role == roles.ADMIN)).scalar_one()
        new = roles.check_role_change(actor_role, old.role if old else None, role, admins)
        if old is None:
            conn.execute(users.insert().values(name=name, name_key=key, role=new, created_at=now, last_seen_at=now))
        elif old.role == new:
            return
        else:
            conn.execute(users.update().where(users.c.id == old.id).values(role=new))
        _audit(conn, display_name(actor), "role-set", name, {"role": old.role} if old else None, {"role": new}, now)


# ---- campaigns --------------------------------------------------------------------------------

def create_campaign(store: Store, actor: str, spec: CampaignSpec, at: str | None = None) -> int:
    """An admin creates a campaign: each image gets `readers_per_image` distinct readers (balanced,
    seeded). Readers not known yet are created with the role reader. Audited; returns its id."""
    spec = rules.check_spec(spec)
    for image in spec.images:
        check_image_name(image)
    plan = rules.assign(spec.images, spec.readers, spec.readers_per_image, spec.seed)
    now = at or utc_now()
    with store.writing() as conn:
        roles.require(_role(conn, actor), roles.MANAGE)
        if conn.execute(sa.select(campaigns.c.id).where(campaigns.c.name == spec.name)).first() is not None:
            raise CampaignError(f"A campaign named {spec.name!r} exists already; choose another name.")
        campaign_id = conn.execute(campaigns.insert().values(
            name=spec.name, readers_per_image=spec.readers_per_image, blind=spec.blind, hide_references=spec.hide_references,
            seed=spec.seed, created_by=display_name(actor), created_at=now)).inserted_primary_key[0]
        for reader in spec.readers:
            if conn.execute(sa.select(users.c.id).where(users.c.name_key == name_key(reader))).first() is None:
                conn.execute(users.insert().values(name=reader, name_key=name_key(reader), role=roles.READER,
                                                   created_at=now, last_seen_at=now))
                _audit(conn, display_name(actor), "role-set", reader, None, {"role": roles.READER}, now)
        conn.execute(assignments.insert(), [
            {"campaign_id": campaign_id, "image": image, "reader": reader, "reader_key": name_key(reader)}
            for image, readers in plan.items() for reader in readers])
        _audit(conn, display_name(actor), "campaign-create", spec.name, None, {
            "id": campaign_id, "images": len(spec.images), "readers": list(spec.readers), "readers_per_image": spec.readers_per_image,
            "blind": spec.blind, "hide_references": spec.hide_references, "seed": spec.seed}, now)
    return int(campaign_id)


def list_campaigns(store: Store) -> list[dict]:
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(sa.select(campaigns).order_by(campaigns.c.id)).mappings()]


def get_campaign(store: Store, campaign_id: int) -> dict:
    with store.reading() as conn:
        row = conn.execute(sa.select(campaigns).where(campaigns.c.id == campaign_id)).mappings().first()
    if row is None:
        raise CampaignError(f"There is no campaign {campaign_id}.")
    return dict(row)


def assignments_of(store: Store, campaign_id: int) -> dict[str, tuple[str, ...]]:
    """image -> its readers, in the order the images were given."""
    query = sa.select(assignments.c.image, assignments.c.reader).where(assignments.c.campaign_id == campaign_id).order_by(assignments.c.id)
    plan: dict[str, list[str]] = {}
    with store.reading() as conn:
        for image, reader in conn.execute(query):
            plan.setdefault(image, []).append(reader)
    return {image: tuple(readers) for image, readers in plan.items()}


def reader_queue(store: Store, campaign_id: int, reader: str) -> list[str]:
    """The images of the campaign assigned to `reader`, in campaign order."""
    query = (sa.select(assignments.c.image).where(assignments.c.campaign_id == campaign_id, assignments.c.reader_key == name_key(reader))
             .order_by(assignments.c.id))
    with store.reading() as conn:
        return list(conn.execute(query).scalars())


def campaigns_of(store: Store, reader: str) -> list[dict]:
    """The campaigns `reader` has images in: id, name, blind, and how many images are theirs."""
    query = (sa.select(campaigns.c.id, campaigns.c.name, campaigns.c.blind, sa.func.count().label("images"))
             .join(assignments, assignments.c.campaign_id == campaigns.c.id).where(assignments.c.reader_key == name_key(reader))
             .group_by(campaigns.c.id, campaigns.c.name, campaigns.c.blind).order_by(campaigns.c.id))
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _reviews_of(conn: sa.Connection, images: list[str] | None) -> list[Review]:
    query = sa.select(reviews, reviewers.c.name.label("reviewer"), reviewers.c.name_key).join(reviewers, reviewers.c.id == reviews.c.reviewer_id)
    if images is not None:
        query = query.where(reviews.c.image.in_(images))
    return [Store.review_of(r, r["reviewer"]) for r in conn.execute(query).mappings()]


def campaign_progress(store: Store, campaign_id: int) -> tuple[list[dict], dict]:
    """Per reader (assigned, submitted, left) and for the campaign; a reading is submitted once
    the reader has saved a review of the image."""
    plan = assignments_of(store, campaign_id)
    with store.reading() as conn:
        done = {(r.image, name_key(r.reviewer)) for r in _reviews_of(conn, list(plan) or None)} if plan else set()
    return rules.progress(plan, done)


# ---- blind reading: the one gate ------------------------------------------------------------
# Every page, download and export gets other readers' reviews and boxes through these functions;
# the rules are `cxrviz.review.visibility`. The viewer's role is read from the store, never passed.

def _visibility(conn: sa.Connection, viewer: str | None) -> Visibility:
    restricting = sa.or_(campaigns.c.blind.is_(True), campaigns.c.hide_references.is_(True))
    rows = conn.execute(sa.select(assignments.c.campaign_id, assignments.c.image, assignments.c.reader_key, campaigns.c.blind,
                                  campaigns.c.hide_references).join(campaigns, campaigns.c.id == assignments.c.campaign_id)
                        .where(restricting)).all()
    if not rows:
        return Visibility(viewer)
    campaign_images_ = sa.select(assignments.c.image).join(campaigns, campaigns.c.id == assignments.c.campaign_id).where(restricting)
    decided = set(conn.execute(sa.select(reviews.c.image, reviewers.c.name_key).join(reviewers, reviewers.c.id == reviews.c.reviewer_id)
                               .where(reviews.c.status.in_(sorted(DECIDED)), reviews.c.image.in_(campaign_images_))).all())
    role = _role(conn, viewer) if viewer else None
    return gate.decide(viewer, role, [gate.Assignment(*row) for row in rows], {(image, key) for image, key in decided})


def _reviews_of_image(store: Store, conn: sa.Connection, image: str | None) -> list[Review]:
    query = store.select_reviews().order_by(reviews.c.updated_at, reviews.c.id)
    if image is not None:
        query = query.where(reviews.c.image == image)
    return [Store.review_of(r, r["reviewer"]) for r in conn.execute(query).mappings()]


def visibility(store: Store, viewer: str | None) -> Visibility:
    """What `viewer` may receive (`visibility.Visibility`); None is nobody (every blind image locked)."""
    with store.reading() as conn:
        return _visibility(conn, viewer)


def visible_reviews(store: Store, viewer: str | None, image: str | None = None) -> list[Review]:
    """The reviews (of one image, or all, oldest first) that `viewer` may receive."""
    with store.reading() as conn:
        seen = _visibility(conn, viewer)
        found = _reviews_of_image(store, conn, image)
    return seen.reviews(found)


def visible_boxes(store: Store, viewer: str | None, image: str | None = None) -> list[ReviewerBox]:
    """The reviewer boxes (of one image, or all) that `viewer` may receive. The gate is read
    first: a reading saved in between can only leave the answer stricter than needed."""
    seen = visibility(store, viewer)
    return seen.boxes(list_boxes(store, image))


def visible_measurements(store: Store, viewer: str | None, image: str | None = None) -> list[Measurement]:
    """The measurements (of one image, or all) that `viewer` may receive: others' only where their
    boxes would be (`Visibility.measurements`, the same rule). The gate is read first."""
    seen = visibility(store, viewer)
    return seen.measurements(list_measurements(store, image))


def image_under_review(store: Store, image: str, viewer: str | None) -> ImageUnderReview:
    """One image as `viewer` may see it: own review, others' (None while blind), whether the
    references are hidden, the boxes they may see; one transaction, the gate read first. What the
    Image page draws (the Review page reads `under_review`, which holds it)."""
    with store.reading() as conn:
        return _image_view(store, conn, image, viewer)


def _image_view(store: Store, conn: sa.Connection, image: str, viewer: str | None) -> ImageUnderReview:
    seen = _visibility(conn, viewer)
    return gate.image_view(image, seen, _reviews_of_image(store, conn, image), boxes_in(conn, image))


def under_review(store: Store, image: str, reader: str, queue) -> UnderReview:
    """Everything one Review-page rerun shows of `image` to `reader`, in ONE read transaction:
    `image_under_review`'s view, the reader's stored draft of it and the images they keep drafts
    of, the measurements and report versions they may see (others' signed reports only once the
    gate opens the image), and the progress counts over `queue` (`under_review.progress`). The
    gate is read first, so a reading saved meanwhile can only leave the answer stricter."""
    with store.reading() as conn:
        view = _image_view(store, conn, image, reader)
        seen = view.visibility
        mine, everyone = store.reviewed_images_in(conn, reader), store.reviewed_images_in(conn)
        draft, drafted = draft_in(conn, image, reader), drafted_images_in(conn, reader)
        measured = seen.measurements(measurements_in(conn, image))
        versions = versions_in(conn, image, reader)
        theirs = None
        if view.others is not None:  # blind: others' reports wait for the reader's own decided reading
            theirs = tuple(v for v in seen.reports(all_in(conn, image, signed_only=True)) if not seen.is_own(v.reviewer))
    done_mine, done_anyone = queue_progress(queue, mine, everyone, seen)
    return UnderReview(view, done_mine, done_anyone, draft, tuple(drafted), tuple(measured), tuple(versions), theirs)


def shared_with(store: Store, viewer: str | None, operator: bool = False) -> Shared:
    """What an export may hold for `viewer`: their visible reviews and boxes. `operator`: the
    CLI run on the database itself without `--as`, which holds everything."""
    with store.reading() as conn:
        seen = gate.EVERYTHING if operator else _visibility(conn, viewer)
        found = _reviews_of_image(store, conn, None)
    kept = seen.reviews(found)
    timed = seconds_on_image(store)  # only for the reviews kept: a locked reading's time is not shared either
    seconds = {k: timed[k] for k in ((name_key(r.reviewer), r.image) for r in kept) if k in timed}
    return Shared(seen, kept, seen.boxes(list_boxes(store)), seconds)


def visible_readings(store: Store, viewer: str | None) -> tuple[list[throughput.Reading], bool]:
    """Each reader's timed readings (`review/throughput.py`) that `viewer` may see, and whether they
    see every reader's: an admin does; anyone else sees their own and, of others, only readings
    outside blind campaigns (`throughput.visible_to`)."""
    with store.reading() as conn:
        seen = _visibility(conn, viewer)
        role = _role(conn, viewer) if viewer else None
        blind = set(conn.execute(sa.select(campaigns.c.id).where(campaigns.c.blind.is_(True))).scalars())
    sees_all = roles.allows(role, roles.SEE_QUALITY)
    return throughput.visible_to(readings(store), viewer, sees_all, seen.blind, blind), sees_all


def reading_history(store: Store, viewer: str | None, image: str) -> dict[str, dict]:
    """Per reviewer key of the image's readings `viewer` may see: whether the latest save was made
    after others' readings were visible, and the first independent (decided) reading."""
    seen = visibility(store, viewer)
    entries = [e for e in store.audit(image) if seen.may_see_others(image) or seen.is_own(e["reviewer"])]
    return gate.reading_history(entries)


def seen_before_save(conn: sa.Connection, image: str, reviewer: str, old_review_id: int | None) -> dict:
    """Called by `Store.save_review` inside its transaction, before the write: {"others_visible":
    True} when this save of a blind-campaign image comes after others' readings were open to the
    one saving (`visibility.saved_after_seeing`), else {}. Goes into the audit entry's new values."""
    key = name_key(reviewer)
    blind = conn.execute(sa.select(assignments.c.campaign_id, assignments.c.reader_key).join(campaigns, campaigns.c.id == assignments.c.campaign_id)
                         .where(assignments.c.image == image, campaigns.c.blind.is_(True))).all()
    if not blind:
        return {}
    found = conn.execute(sa.select(reviewers.c.name_key, reviews.c.status).join(reviewers, reviewers.c.id == reviews.c.reviewer_id)
                         .where(reviews.c.image == image)).all()
    others = any(k != key for k, _ in found)
    decided = {k for k, status in found if status in DECIDED}
    by_campaign: dict[int, list[str]] = {}
    for campaign_id, reader_key in blind:
        by_campaign.setdefault(campaign_id, []).append(reader_key)
    role = _role(conn, reviewer)
    could_see = all(rules.can_see_others(True, reviewer, readers, decided, role) for readers in by_campaign.values())
    decided_before = key in decided
    if not decided_before and old_review_id is not None:
        past = conn.execute(sa.select(audit_log.c.new_values).where(audit_log.c.review_id == old_review_id)).scalars()
        decided_before = any(json.loads(v).get("status") in DECIDED for v in past if v)
    return {OTHERS_VISIBLE: True} if gate.saved_after_seeing(True, could_see, decided_before, others) else {}


# What the pages called before the gate existed; each now asks it.

def may_see_others(store: Store, image: str, viewer: str) -> bool:
    """False while `viewer` may not see other readers' labels and boxes of `image` (blind)."""
    return visibility(store, viewer).may_see_others(image)


def visible_others(store: Store, image: str, viewer: str, reviews_of_image: list[Review]) -> list[Review] | None:
    """Other reviewers' reviews of the image the viewer may see now; None while blind."""
    if not may_see_others(store, image, viewer):
        return None
    key = name_key(viewer)
    return [r for r in reviews_of_image if name_key(r.reviewer) != key]


def references_hidden(store: Store, image: str, viewer: str) -> bool:
    """True while `viewer` is an assigned reader of `image` in a campaign that hides the NIH
    labels, boxes and the model from readers, and has not decided it yet."""
    return visibility(store, viewer).hides_references(image)


def blind_images(store: Store, viewer: str) -> set[str]:
    """Images of blind campaigns assigned to `viewer` that they have not decided yet."""
    return set(visibility(store, viewer).unread)


# ---- adjudication -----------------------------------------------------------------------------

def _boxes_by_reader(store: Store, image: str, readers: set[str]) -> dict[str, dict[str, list[Box]]]:
    found: dict[str, dict[str, list[Box]]] = {}
    for box in list_boxes(store, image=image):
        if name_key(box.reviewer) in readers and box.status != "wrong":
            found.setdefault(name_key(box.reviewer), {}).setdefault(box.finding, []).append(box.box)
    return found


def campaign_images(store: Store, campaign_id: int) -> list[dict]:
    """One row per image: its readers, their readings (reader -> labels), the adjudication if any,
    what the readers disagree on, the final labels and how they were reached."""
    plan = assignments_of(store, campaign_id)
    if not plan:
        return []
    with store.reading() as conn:
        all_reviews = _reviews_of(conn, list(plan))
        adjudicated = {r["image"]: dict(r) for r in conn.execute(
            sa.select(adjudications).where(adjudications.c.campaign_id == campaign_id)).mappings()}
    rows = []
    for image, readers in plan.items():
        keys = {name_key(r) for r in readers}
        readings = {r.reviewer: frozenset(r.labels) for r in all_reviews if r.image == image and name_key(r.reviewer) in keys}
        boxes = _boxes_by_reader(store, image, keys) if len(readings) > 1 else {}
        by_key = {name_key(k): v for k, v in readings.items()}
        disagree = rules.disagreement(by_key, boxes) if len(readings) > 1 else []
        adj = adjudicated.get(image)
        final, how = rules.outcome(by_key, frozenset(split_labels(adj["labels"])) if adj else None, boxes, len(readers))
        rows.append({"image": image, "readers": readers, "readings": readings, "submitted": len(readings),
                     "disagreement": disagree, "adjudication": adj, "final": final, "how": how})
    return rows


def reader_quality(store: Store, campaign_id: int) -> list[dict]:
    """Per reader of a campaign: agreement with its settled labels and time per image (admins only:
    the page checks the role)."""
    plan = assignments_of(store, campaign_id)
    images = campaign_images(store, campaign_id)
    with store.reading() as conn:
        saved = {(r.image, name_key(r.reviewer)): r.created_at for r in _reviews_of(conn, list(plan))
                 if name_key(r.reviewer) in {name_key(x) for x in plan.get(r.image, ())}}
    return rules.reader_quality(images, saved)


def adjudication_queue(store: Store, campaign_id: int, viewer: str | None) -> list[dict]:
    """Images whose submitted readings disagree (two or more) and are not adjudicated yet, of
    those `viewer` may see (an adjudicator who is also an unread reader of one waits for it)."""
    seen = visibility(store, viewer)
    return [row for row in campaign_images(store, campaign_id)
            if row["disagreement"] and row["adjudication"] is None and seen.may_see_others(row["image"])]


def visible_campaign_images(store: Store, campaign_id: int, viewer: str | None) -> list[dict]:
    """`campaign_images` as `viewer` may receive them: of an image they may not see yet only their
    own reading is left, and nothing that comes from the others (outcome, disagreement,
    adjudication); its `how` says so."""
    seen = visibility(store, viewer)
    rows = []
    for row in campaign_images(store, campaign_id):
        if not seen.may_see_others(row["image"]):
            own = {r: labels for r, labels in row["readings"].items() if seen.is_own(r)}
            row = {**row, "readers": tuple(r for r in row["readers"] if seen.is_own(r)), "readings": own, "submitted": len(own),
                   "disagreement": [], "adjudication": None, "final": None, "how": gate.NOT_SHOWN}
        rows.append(row)
    return rows


def adjudicate(store: Store, actor: str, campaign_id: int, image: str, labels: list[str], reason: str, at: str | None = None) -> None:
    """An adjudicator records the final labels of a campaign image, with a reason. Audited (old
    and new); recording again replaces the decision, the log keeps both."""
    findings = [label for label in ALL_LABELS if label in set(labels) and label != NO_FINDING]
    if findings and NO_FINDING in labels:
        raise CampaignError(f"'No Finding' cannot be chosen together with {', '.join(findings)}.")
    unknown = sorted(set(labels) - set(ALL_LABELS))
    if unknown:
        raise CampaignError(f"Unknown labels: {', '.join(unknown)}.")
    reason = (reason or "").strip()
    if not reason:
        raise CampaignError("Say why: an adjudication needs a reason.")
    if len(reason) > MAX_REASON:
        raise CampaignError(f"A reason can be at most {MAX_REASON} characters.")
    now, text = at or utc_now(), join_labels(labels)
    with store.writing() as conn:
        roles.require(_role(conn, actor), roles.ADJUDICATE)
        if conn.execute(sa.select(assignments.c.id).where(assignments.c.campaign_id == campaign_id, assignments.c.image == image)).first() is None:
            raise CampaignError(f"{image} is not part of campaign {campaign_id}.")
        where = sa.and_(adjudications.c.campaign_id == campaign_id, adjudications.c.image == image)
        old = conn.execute(sa.select(adjudications).where(where)).mappings().first()
        new = {"labels": text, "reason": reason, "adjudicator": display_name(actor), "at": now}
        if old is None:
            conn.execute(adjudications.insert().values(campaign_id=campaign_id, image=image, **new))
        else:
            conn.execute(adjudications.update().where(where).values(**new))
        _audit(conn, display_name(actor), "adjudicate", f"{campaign_id}:{image}",
               {k: old[k] for k in new} if old else None, new, now)


def team_log(store: Store) -> list[dict]:
    """Every role, campaign and adjudication change, oldest first."""
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(sa.select(team_audit).order_by(team_audit.c.id)).mappings()]
