"""The review form: labels, status and note for one image, driven by mouse or keyboard alone.

What the reviewer sets is a `rules.Draft` kept in the session, per image, until it is saved: it
survives Previous/Next, page switches and a failed save. Labels and statuses are buttons, so their
keys work wherever focus is (Streamlit ignores single-key shortcuts while focus is in a text field
or a checkbox; buttons are neither). Every change and the save itself run in widget callbacks,
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
from cxrviz.review.suspects import Suspect, marked_labels, sentence

DRAFTS = "_review_drafts"  # image -> rules.Draft
STARTS = "_review_starts"  # image -> the draft as filled from the store, to tell unsaved changes
PROBLEMS = "_review_problems"  # image -> message of the last failed save
CONFLICTS = "_review_conflicts"  # image -> their review, after a stale save
ADVANCE = "_review_advance"  # a save moved to another image: rerun the whole page
FLASH = "review_flash"
MAX_NOTE_CHARS = 20_000  # well inside what import accepts per cell

# One key per label (C and R are reserved by Streamlit), one per status, shown on the buttons.
LABEL_KEYS = dict(zip(FINDINGS, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "Q", "W", "E", "T"], strict=True)) | {NO_FINDING: "N"}
STATUS_KEYS = {"confirmed": "G", "corrected": "X", "uncertain": "U", "skipped": "S"}
NAVIGATION_KEYS = {"Save and next": "Ctrl+Enter", "Previous image": "←", "Next image": "→", "These keys": "H"}


@dataclass(frozen=True)
class FormContext:
    """What the form needs from the page run that drew it."""

    store: object
    image: str
    reviewer: str
    nih: frozenset[str]
    queue: tuple[str, ...]
    model_name: str | None
    own: Review | None
    image_shown: bool = True
    suspects: tuple[Suspect, ...] = ()  # what the label-audit queue suspects of this image


def _drafts() -> dict[str, rules.Draft]:
    return st.session_state.setdefault(DRAFTS, {})


def draft_for(image: str, own: Review | None, nih: set[str]) -> rules.Draft:
    """The form's values for this image: the kept draft, else a fresh one from the store."""
    drafts = _drafts()
    if image not in drafts or not unsaved(image):  # nothing typed here yet: show the store's latest
        drafts[image] = rules.starting_draft(own, nih)
        st.session_state.setdefault(STARTS, {})[image] = drafts[image]
    return drafts[image]


def unsaved(image: str) -> bool:
    draft, start = _drafts().get(image), st.session_state.get(STARTS, {}).get(image)
    return draft is not None and start is not None and draft.differs_from(start)


def unsaved_images(queue: list[str]) -> list[str]:
    """Images of the queue whose form holds changes not saved yet (kept in this session), in the
    order they were opened. Walks the drafts (a few), not the queue (up to 112,120 names)."""
    return [name for name in _drafts() if unsaved(name) and name in queue]


def _note_key(image: str) -> str:
    return f"note_{image}"


def _replace(image: str, **changes) -> None:
    drafts = _drafts()
    drafts[image] = dataclasses.replace(drafts[image], **changes)


def _toggle(image: str, label: str) -> None:
    if image in _drafts():
        _replace(image, labels=rules.toggle(_drafts()[image].labels, label))


def _set_status(image: str, status: str) -> None:
    if image in _drafts():
        _replace(image, status=status)


def _note_changed(image: str) -> None:
    if image in _drafts():
        _replace(image, note=st.session_state.get(_note_key(image), ""))


def _save(ctx: FormContext, probabilities: dict[str, float] | None) -> None:
    drafts = _drafts()
    draft = drafts.get(ctx.image)
    if draft is None:  # a press that reached this image after it was saved: say so, confirm nothing else
        st.session_state[FLASH] = (f"{ctx.image} was already saved; that press was not applied to the next image. "
                                   "Press again to save the image on screen.")
        return
    note = st.session_state.get(_note_key(ctx.image), draft.note)
    drafts[ctx.image] = draft = dataclasses.replace(draft, note=note)
    problems, conflicts = st.session_state.setdefault(PROBLEMS, {}), st.session_state.setdefault(CONFLICTS, {})
    try:
        outcome = rules.save_and_advance(
            ctx.store, ctx.image, ctx.reviewer, {label: label in draft.labels for label in ALL_LABELS}, draft.status, note,
            set(ctx.nih), list(ctx.queue), ctx.model_name, probabilities, expected_updated_at=draft.opened, check_version=True,
            image_shown=ctx.image_shown)
    except StaleReviewError as error:
        problems[ctx.image] = str(error)
        conflicts[ctx.image] = error.theirs
        return
    except CxrvizError as error:  # locked, unreachable, refused: the draft stays, nothing is lost
        problems[ctx.image] = str(error)
        return
    drafts.pop(ctx.image, None)
    st.session_state.get(STARTS, {}).pop(ctx.image, None)
    problems.pop(ctx.image, None)
    conflicts.pop(ctx.image, None)
    st.session_state[FLASH] = outcome.message
    if outcome.next_image:
        state.set_current_image(outcome.next_image)
    st.session_state[ADVANCE] = True


def _resolve(image: str, choice: str, nih: frozenset[str]) -> None:
    theirs = st.session_state.get(CONFLICTS, {}).pop(image, None)
    st.session_state.get(PROBLEMS, {}).pop(image, None)
    mine = _drafts()[image]
    if choice == "theirs":
        _drafts()[image] = rules.starting_draft(theirs, set(nih))
    elif choice == "merge" and theirs is not None:
        _drafts()[image] = rules.merge(mine, theirs)
    else:
        _drafts()[image] = rules.rebase(mine, theirs)
    st.session_state.pop(_note_key(image), None)  # the note box shows the resolved draft


def take_flash() -> str | None:
    """Called by the page on a full run: the last save's message, once; a full run already shows
    the next image, so the fragment need not ask for another."""
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


def suspect_section(suspects: tuple[Suspect, ...]) -> dict[str, str]:
    """Say what the queue suspects of this image, as text; returns label -> help text of the
    buttons to mark."""
    if not suspects:
        return {}
    st.warning("  \n".join(escape_markdown(sentence(s)) for s in suspects), icon=":material/report:")
    marked: dict[str, list[str]] = {}
    for suspect in suspects:
        for label in marked_labels((suspect,)):
            marked.setdefault(label, []).append(sentence(suspect))
    return {label: escape_markdown("; ".join(texts)) for label, texts in marked.items()}


@st.fragment
def review_form(ctx: FormContext, probabilities: dict[str, float] | None) -> None:
    """The form for `ctx.image`; ticking reruns only this fragment, saving reruns the page."""
    if st.session_state.pop(ADVANCE, False):
        st.rerun(scope="app")
    draft = draft_for(ctx.image, ctx.own, set(ctx.nih))
    with st.container(border=True):
        problem = st.session_state.get(PROBLEMS, {}).get(ctx.image)
        if problem:
            st.error(escape_markdown(problem), icon=":material/warning:")
        if ctx.image in st.session_state.get(CONFLICTS, {}):
            theirs = st.session_state[CONFLICTS][ctx.image]
            if theirs is not None:
                st.dataframe([{"saved by": theirs.reviewer, "labels": "|".join(theirs.labels), "status": theirs.status,
                               "note": theirs.note, "at": theirs.updated_at}], hide_index=True)
            c1, c2, c3 = st.columns(3)
            c1.button("Keep theirs", key=f"theirs_{ctx.image}", on_click=_resolve, args=(ctx.image, "theirs", ctx.nih), width="stretch")
            c2.button("Keep mine", key=f"mine_{ctx.image}", on_click=_resolve, args=(ctx.image, "mine", ctx.nih), width="stretch")
            c3.button("Merge", key=f"merge_{ctx.image}", on_click=_resolve, args=(ctx.image, "merge", ctx.nih), width="stretch")
        head, keys = st.columns([2, 1])
        head.markdown("**Your labels**" + (" · *unsaved*" if unsaved(ctx.image) else ""))
        if keys.button("Keys", key=f"keys_{ctx.image}", shortcut="H", width="stretch"):
            show_keys()
        marked = suspect_section(ctx.suspects)
        columns = st.columns(2)
        for i, label in enumerate(ALL_LABELS):
            columns[i % 2].button(
                label_text(label, label in marked), key=f"lab_{ctx.image}_{label}", type="primary" if label in draft.labels else "secondary",
                shortcut=LABEL_KEYS[label], on_click=_toggle, args=(ctx.image, label), width="stretch",
                help=marked.get(label))
        columns = st.columns(2)
        for i, status in enumerate(STATUSES):
            columns[i % 2].button(status, key=f"status_{ctx.image}_{status}", type="primary" if draft.status == status else "secondary",
                          shortcut=STATUS_KEYS[status], on_click=_set_status, args=(ctx.image, status), width="stretch")
        st.text_area("Note", value=draft.note, key=_note_key(ctx.image), on_change=_note_changed, args=(ctx.image,), height=68,
                     max_chars=MAX_NOTE_CHARS)
        st.button("Save and next", key=f"save_{ctx.image}", type="primary", shortcut="Ctrl+Enter", width="stretch",
                  on_click=_save, args=(ctx, probabilities))
