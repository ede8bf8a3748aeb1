"""The review form: labels, status and note for one image, driven by mouse or keyboard alone.

What the reviewer sets is a `rules.Draft` kept in the session, per image, until it is saved: it
survives Previous/Next, page switches and a failed save. Every change is also written to the store
(`review/store/drafts.py`), so a reload, a new tab or a server restart finds it ("draft restored
from …"); the save deletes it in its own commit. A stored draft made on an older version of the
reader's saved review is not applied silently: the form offers to restore or discard it.

Labels and statuses are buttons, so their keys work wherever focus is (Streamlit ignores single-key
shortcuts while focus is in a text field or a checkbox; buttons are neither). Every change and the save itself run in widget callbacks,
which Streamlit applies in order before the script: a quick second press is never dropped, and a
press that arrives after its image was saved does nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import streamlit as st

from cxrviz.app import state
from cxrviz.app.text import escape_markdown
from cxrviz.errors import CxrvizError, StaleReviewError
from cxrviz.findings import ALL_LABELS, FINDINGS, NO_FINDING
from cxrviz.review import rules
from cxrviz.review.record import STATUSES, Review
from cxrviz.review.store import drafts as stored_drafts
from cxrviz.review.suspects import Suspect, marked_labels, sentence

DRAFTS = "_review_drafts"  # image -> rules.Draft
STARTS = "_review_starts"  # image -> the draft as filled from the store, to tell unsaved changes
PROBLEMS = "_review_problems"  # image -> message of the last failed save
CONFLICTS = "_review_conflicts"  # image -> their review, after a stale save
ADVANCE = "_review_advance"  # a save moved to another image outside the page's fragment: rerun the whole page
IMAGE_FRAGMENT = "review_image"  # the Review page's fragment (image, form, progress) a save reruns
RESTORED = "_review_restored"  # image -> when the stored draft the form was restored from was written
STALE = "_review_stale_drafts"  # image -> (rules.Draft, written at): a stored draft on an older saved review
NOTICES = "_review_notices"  # image -> what happened to a change (draft not stored, note cut), shown once
FLASH = "review_flash"
MAX_NOTE_CHARS = 20_000  # well inside what import accepts per cell

# One key per label (C and R are reserved by Streamlit), one per status, shown on the buttons.
LABEL_KEYS = dict(zip(FINDINGS, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "Q", "W", "E", "T"], strict=True)) | {NO_FINDING: "N"}
STATUS_KEYS = {"confirmed": "G", "corrected": "X", "uncertain": "U", "skipped": "S"}
NOT_READ = object()  # FormContext.stored_draft when the page did not read it
NAVIGATION_KEYS = {"Save and next": "Ctrl+Enter", "Previous image": "←", "Next image": "→", "These keys": "H"}


@dataclass(frozen=True)
class FormContext:
    """What the form needs from the page run that drew it."""

    store: object
    image: str
    reviewer: str
    nih: frozenset[str]
    queue: rules.Queue  # O(1) position and membership (`rules.Queue`)
    model_name: str | None
    own: Review | None
    image_shown: bool = True
    # The fragment a successful save reruns to show the next image (the page's `IMAGE_FRAGMENT`);
    # None: the whole page reruns.
    advance: str | None = None
    suspects: tuple[Suspect, ...] = ()  # what the label-audit queue suspects of this image
    reference: str | None = None  # the expert labels of an adjudicated image, as escaped Markdown
    # The labels a fresh form starts from; None: the NIH labels. A hidden-reference reading starts
    # from none, while `nih` still tells "confirmed" from "corrected" when it is saved.
    start: frozenset[str] | None = None
    # The reader's stored draft of the image as the page's one read found it (a StoredDraft or None);
    # NOT_READ: the form reads it itself on first look.
    stored_draft: object = NOT_READ

    @property
    def starting_labels(self) -> set[str]:
        return set(self.nih if self.start is None else self.start)


def _drafts() -> dict[str, rules.Draft]:
    return st.session_state.setdefault(DRAFTS, {})


def draft_for(ctx: FormContext) -> rules.Draft:
    """The form's values for this image: the kept draft, else the reader's stored draft (a reload,
    a new tab, a restarted server), else a fresh one from the store's latest review."""
    drafts, image = _drafts(), ctx.image
    first_look = image not in drafts
    if first_look or not unsaved(image):  # nothing typed here yet: show the store's latest
        drafts[image] = rules.starting_draft(ctx.own, ctx.starting_labels)
        st.session_state.setdefault(STARTS, {})[image] = drafts[image]
    if first_look:
        _restore(ctx)
    return drafts[image]


def _restore(ctx: FormContext) -> None:
    try:
        stored = (stored_drafts.load_draft(ctx.store, ctx.image, ctx.reviewer) if ctx.stored_draft is NOT_READ
                  else ctx.stored_draft)
    except CxrvizError as error:
        _notices()[ctx.image] = f"A draft kept for this image could not be read: {error}"
        return
    if stored is None:
        return
    draft = rules.Draft(stored.labels, stored.status, stored.note, stored.base_updated_at)
    if rules.draft_is_current(stored.base_updated_at, ctx.own):
        _drafts()[ctx.image] = draft
        st.session_state.setdefault(RESTORED, {})[ctx.image] = stored.updated_at
    else:  # saved again since (another tab): never overwrite that silently
        st.session_state.setdefault(STALE, {})[ctx.image] = (draft, stored.updated_at)


def _notices() -> dict[str, str]:
    return st.session_state.setdefault(NOTICES, {})


def _keep(ctx: FormContext) -> None:
    """Write the image's draft to the store (or clear it when the form is back to what is saved),
    so a reload finds it. A store failure keeps the draft in this session and says so."""
    draft, start = _drafts().get(ctx.image), st.session_state.get(STARTS, {}).get(ctx.image)
    try:
        if draft is None or start is None or not draft.differs_from(start):
            stored_drafts.clear_draft(ctx.store, ctx.image, ctx.reviewer)
            st.session_state.get(RESTORED, {}).pop(ctx.image, None)
        else:
            stored_drafts.save_draft(ctx.store, ctx.image, ctx.reviewer, draft.labels, draft.status, draft.note,
                                     draft.opened)
    except CxrvizError as error:
        _notices()[ctx.image] = (f"Your change is kept in this tab but could not be stored as a draft ({error}); "
                                 "save before reloading or closing the tab.")


def unsaved(image: str) -> bool:
    draft, start = _drafts().get(image), st.session_state.get(STARTS, {}).get(image)
    return draft is not None and start is not None and draft.differs_from(start)


def unsaved_images(queue: list[str]) -> list[str]:
    """Images of the queue whose form holds changes not saved yet (kept in this session), in the
    order they were opened. Walks the drafts (a few), not the queue (up to 112,120 names)."""
    return [name for name in _drafts() if unsaved(name) and name in queue]


def kept_drafts(store, reviewer: str, queue: list[str], drafted: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """`unsaved_images`, then the images this reader has a stored draft of (another tab, an earlier
    session) that this session has not opened yet; a store that cannot be read lists this session's.
    `drafted`: those stored drafts as the page already read them (None: read here)."""
    names = unsaved_images(queue)
    try:
        stored = stored_drafts.drafted_images(store, reviewer) if drafted is None else drafted
    except CxrvizError:
        return names
    members = rules.as_queue(queue)  # one look-up per name, not a walk of 112,120
    return names + [n for n in stored if n not in _drafts() and n in members]


def _note_key(image: str) -> str:
    return f"note_{image}"


def _replace(image: str, **changes) -> None:
    drafts = _drafts()
    drafts[image] = dataclasses.replace(drafts[image], **changes)


def _toggle(ctx: FormContext, label: str) -> None:
    if ctx.image in _drafts():
        _replace(ctx.image, labels=rules.toggle(_drafts()[ctx.image].labels, label))
        _keep(ctx)


def _set_status(ctx: FormContext, status: str) -> None:
    if ctx.image in _drafts():
        _replace(ctx.image, status=status)
        _keep(ctx)


def _note_changed(ctx: FormContext) -> None:
    if ctx.image in _drafts():
        _replace(ctx.image, note=_cut_note(ctx.image))
        _keep(ctx)


def _cut_note(image: str) -> str:
    """The note box's text, cut to `MAX_NOTE_CHARS` with a notice (the box itself takes any length:
    a browser field that refuses a long paste would drop it without a word)."""
    key = _note_key(image)
    text = st.session_state.get(key, "")
    if len(text) > MAX_NOTE_CHARS:
        _notices()[image] = (f"The note was cut to its first {MAX_NOTE_CHARS:,} characters "
                             f"(you pasted or typed {len(text):,}).")
        text = st.session_state[key] = text[:MAX_NOTE_CHARS]
    return text


def _stale_choice(ctx: FormContext, keep: bool) -> None:
    draft, _at = st.session_state.get(STALE, {}).pop(ctx.image, (None, None))
    if keep and draft is not None:
        _drafts()[ctx.image] = rules.rebase(draft, ctx.own)  # on top of the newer save, so saving it is not stale
        st.session_state.pop(_note_key(ctx.image), None)  # the note box shows the restored draft
    _keep(ctx)


def _save(ctx: FormContext, probabilities: dict[str, float] | None) -> None:
    drafts = _drafts()
    draft = drafts.get(ctx.image)
    if draft is None:  # a press that reached this image after it was saved: say so, confirm nothing else
        st.session_state[FLASH] = (f"{ctx.image} was already saved; that press was not applied to the next image. "
                                   "Press again to save the image on screen.")
        return
    note = _cut_note(ctx.image) if _note_key(ctx.image) in st.session_state else draft.note
    drafts[ctx.image] = draft = dataclasses.replace(draft, note=note)
    problems, conflicts = st.session_state.setdefault(PROBLEMS, {}), st.session_state.setdefault(CONFLICTS, {})
    try:
        outcome = rules.save_and_advance(
            ctx.store, ctx.image, ctx.reviewer, draft.labels, draft.status, note,
            set(ctx.nih), ctx.queue, ctx.model_name, probabilities, expected_updated_at=draft.opened, check_version=True,
            image_shown=ctx.image_shown)
    except StaleReviewError as error:
        problems[ctx.image] = str(error)
        conflicts[ctx.image] = error.theirs
        return
    except CxrvizError as error:  # locked, unreachable, refused: the draft stays, nothing is lost
        problems[ctx.image] = str(error)
        return
    drafts.pop(ctx.image, None)  # the store's draft went in the save's own commit
    for kept in (STARTS, RESTORED, STALE, NOTICES):
        st.session_state.get(kept, {}).pop(ctx.image, None)
    problems.pop(ctx.image, None)
    conflicts.pop(ctx.image, None)
    st.session_state[FLASH] = outcome.message
    if outcome.next_image:
        state.set_current_image(outcome.next_image)
    if ctx.advance is not None:  # committed above: only the image's fragment reruns, with "Saved" in it
        st.rerun(scope=ctx.advance)
    st.session_state[ADVANCE] = True


def _resolve(ctx: FormContext, choice: str) -> None:
    image = ctx.image
    theirs = st.session_state.get(CONFLICTS, {}).pop(image, None)
    st.session_state.get(PROBLEMS, {}).pop(image, None)
    mine = _drafts()[image]
    if choice == "theirs":
        _drafts()[image] = rules.starting_draft(theirs, ctx.starting_labels)
    elif choice == "merge" and theirs is not None:
        _drafts()[image] = rules.merge(mine, theirs)
    else:
        _drafts()[image] = rules.rebase(mine, theirs)
    st.session_state.pop(_note_key(image), None)  # the note box shows the resolved draft
    _keep(ctx)


def take_flash() -> str | None:
    """Called where the next image is drawn (the page, or its image fragment): the last save's
    message, once; that run already shows the next image, so the form need not ask for another."""
    st.session_state.pop(ADVANCE, None)
    return st.session_state.pop(FLASH, None)


@st.dialog("Keyboard")
def show_keys() -> None:
    rows = [{"key": key, "does": f"tick / untick {label}"} for label, key in LABEL_KEYS.items()]
    rows += [{"key": key, "does": f"status: {status}"} for status, key in STATUS_KEYS.items()]
    rows += [{"key": key, "does": what} for what, key in NAVIGATION_KEYS.items()]
    st.table(rows)  # static, every row in the page (a data grid would hide the later ones)
    st.caption("Label and status keys work wherever focus is, except while typing in the note or name; "
               "Ctrl+Enter saves from anywhere, the note included.")


SUSPECT_MARK = "⚠"


def label_text(label: str, suspect: bool) -> str:
    """A label button's text; a suspect label is marked (its key and shortcut stay the same)."""
    text = label.replace("_", " ")
    return f"{SUSPECT_MARK} {text}" if suspect else text


def reference_section(ctx: FormContext) -> dict[str, str]:
    """What the queue suspects of this image and what the experts said of it, as text, folded into
    one line (a box of sentences pushed Save below the fold); returns label -> help text of the
    buttons to mark."""
    marked: dict[str, list[str]] = {}
    for suspect in ctx.suspects:
        for label in marked_labels((suspect,)):
            marked.setdefault(label, []).append(sentence(suspect))
    if ctx.suspects or ctx.reference:
        names = [label.replace("_", " ") for label in ALL_LABELS if label in marked]
        title = (f"{SUSPECT_MARK} Suspect: {', '.join(names) or 'see why'}" if ctx.suspects
                 else "Expert labels (Google 2019)")
        with st.expander(escape_markdown(title)):
            if ctx.suspects:
                st.warning("  \n".join(escape_markdown(sentence(s)) for s in ctx.suspects), icon=":material/report:")
            if ctx.reference:
                st.caption(ctx.reference)
    return {label: escape_markdown("; ".join(texts)) for label, texts in marked.items()}


def when(at: str | None) -> str:
    """A stored UTC time as a reader reads it: 2026-12-03 14:05:09 UTC."""
    return f"{at[:10]} {at[11:19]} UTC" if at and len(at) >= 19 else (at or "?")


def _stale_section(ctx: FormContext) -> None:
    draft, at = st.session_state[STALE][ctx.image]
    st.warning(escape_markdown(
        f"You have a draft of this image from {when(at)}, but your saved review changed since it was started "
        f"(saved {when(ctx.own.updated_at) if ctx.own else '?'}, e.g. from another tab). The form shows the saved review; "
        f"the draft holds: {', '.join(draft.labels)} · {draft.status}" + (f" · note: {draft.note[:80]}" if draft.note else "")
        + "."), icon=":material/history:")
    c1, c2 = st.columns(2)
    c1.button("Restore my draft", key=f"draft_keep_{ctx.image}", on_click=_stale_choice, args=(ctx, True), width="stretch")
    c2.button("Discard the draft", key=f"draft_drop_{ctx.image}", on_click=_stale_choice, args=(ctx, False), width="stretch")


@st.fragment
def review_form(ctx: FormContext, probabilities: dict[str, float] | None) -> None:
    """The form for `ctx.image`; ticking reruns only this fragment, saving reruns `ctx.advance`
    (the page's image fragment), else the page."""
    if st.session_state.pop(ADVANCE, False):
        st.rerun(scope="app")
    draft = draft_for(ctx)
    with st.container(border=True, key="review_form"):
        problem = st.session_state.get(PROBLEMS, {}).get(ctx.image)
        if problem:
            st.error(escape_markdown(problem), icon=":material/warning:")
        notice = _notices().pop(ctx.image, None)
        if notice:
            st.warning(escape_markdown(notice), icon=":material/info:")
        if ctx.image in st.session_state.get(STALE, {}):
            _stale_section(ctx)
        if ctx.image in st.session_state.get(CONFLICTS, {}):
            theirs = st.session_state[CONFLICTS][ctx.image]
            if theirs is not None:
                st.dataframe([{"saved by": theirs.reviewer, "labels": theirs.labels.text, "status": theirs.status,
                               "note": theirs.note, "at": theirs.updated_at}], hide_index=True)
            c1, c2, c3 = st.columns(3)
            c1.button("Keep theirs", key=f"theirs_{ctx.image}", on_click=_resolve, args=(ctx, "theirs"), width="stretch")
            c2.button("Keep mine", key=f"mine_{ctx.image}", on_click=_resolve, args=(ctx, "mine"), width="stretch")
            c3.button("Merge", key=f"merge_{ctx.image}", on_click=_resolve, args=(ctx, "merge"), width="stretch")
        head, keys = st.columns([2, 1], vertical_alignment="center")
        restored = st.session_state.get(RESTORED, {}).get(ctx.image)
        head.markdown("**Your labels**" + (" · *unsaved*" if unsaved(ctx.image) else ""))
        if restored:
            head.caption(f"Draft restored from {when(restored)}")
        if keys.button("Keys", key=f"keys_{ctx.image}", shortcut="H", width="stretch"):
            show_keys()
        marked = reference_section(ctx)
        columns = st.columns(2, gap="small")
        for i, label in enumerate(ALL_LABELS):
            columns[i % 2].button(
                label_text(label, label in marked), key=f"lab_{ctx.image}_{label}", type="primary" if label in draft.labels else "secondary",
                shortcut=LABEL_KEYS[label], on_click=_toggle, args=(ctx, label), width="stretch",
                help=marked.get(label))
        columns = st.columns(2, gap="small")
        for i, status in enumerate(STATUSES):
            columns[i % 2].button(status, key=f"status_{ctx.image}_{status}", type="primary" if draft.status == status else "secondary",
                          shortcut=STATUS_KEYS[status], on_click=_set_status, args=(ctx, status), width="stretch")
        # No max_chars: a browser box at its limit refuses a longer paste whole; `_cut_note` cuts it and says so.
        st.text_area("Note", value=draft.note, key=_note_key(ctx.image), on_change=_note_changed, args=(ctx,), height=68)
        st.button("Save and next", key=f"save_{ctx.image}", type="primary", shortcut="Ctrl+Enter", width="stretch",
                  on_click=_save, args=(ctx, probabilities))
