"""The Report panel of the Review page: draft the reader's report from their saved reading, edit it
(saved to the store as it changes), sign it, and start a new version of a signed one.

Until a version is signed it is marked UNVERIFIED DRAFT; a signed version is shown read-only with
who signed it and when, and every earlier version stays listed. Report text is the reader's own
typing: it is only ever shown as text (`st.text`, a text area), never as Markdown. The rules live
in `review/reports.py`, the writes in `review/store/reports.py`; this module draws and calls.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from cxrviz.app import pacs_view
from cxrviz.app.messages import show_error
from cxrviz.app.text import escape_markdown
from cxrviz.errors import CxrvizError
from cxrviz.review import reports as rules
from cxrviz.review.measurements import Measurement
from cxrviz.review.report_files import WRITERS, ReportSources, sr_datasets
from cxrviz.review.reports import ReportVersion
from cxrviz.review.store import reports as stored
from cxrviz.review.visibility import ImageUnderReview

NOTICES = "_report_notices"  # image -> (kind, message) said once after a callback
HELD = "_report_held"  # image -> the version a callback of this rerun wrote (emptied when the panel is drawn)
SIGNED_NOW = "_report_signed_now"  # images signed by a callback of this rerun (emptied when the panel is drawn)
REDRAFT = "_report_redraft"  # images whose "Draft from my reading" waits for the reader to confirm replacing their text


@dataclass(frozen=True)
class PanelContext:
    store: object
    image: str
    reader: str
    view: ImageUnderReview
    metadata: object
    measurements: tuple[Measurement, ...] = ()
    image_path: Path | None = None  # the image's file, for the DICOM SR's Secondary Capture
    config: object | None = None  # Settings: with a PACS (CXRVIZ_DICOMWEB), "Store in the PACS"


def text_key(image: str, version: int) -> str:
    """The text area of one version (0: before version 1 exists)."""
    return f"report_text_{image}_v{version}"


def _say(image: str, kind: str, message: str) -> None:
    st.session_state.setdefault(NOTICES, {})[image] = (kind, message)


def _draft_of(ctx: PanelContext) -> ReportVersion:
    """The draft from the reader's saved reading, their boxes and measurements, and the prior study."""
    own = ctx.view.own
    if own is None:
        raise rules.ReportError(f"Save your reading of {ctx.image} first: the draft is made from what you saved.")
    mine = [b for b in ctx.view.boxes if ctx.view.visibility.is_own(b.reviewer)]
    row = ctx.metadata.row_of(ctx.image) if ctx.metadata is not None else None
    view = None if row is None else str(ctx.metadata.table["view"].iat[row])
    prior = None if row is None or ctx.view.references_hidden else rules.prior_study(ctx.metadata, ctx.image)
    return rules.draft_report(own, mine, [m for m in ctx.measurements if m.image == ctx.image], prior, view)


def _reading_findings(ctx: PanelContext) -> tuple[str, ...] | None:
    """The findings of the reader's saved reading, or None when there is no decided reading."""
    own = ctx.view.own
    return rules.confirmed_findings(own) if own is not None and own.status in rules.DRAFTABLE else None


def _draft(ctx: PanelContext, expected: int | None, confirmed: bool = False) -> None:
    """Fill the text from the saved reading; text the reader wrote is replaced only once they confirm."""
    try:
        draft = _draft_of(ctx)
        typed = st.session_state.get(text_key(ctx.image, expected or 0), "")
        if not confirmed and typed.strip() and typed != draft.text:
            st.session_state.setdefault(REDRAFT, set()).add(ctx.image)
            return
        st.session_state.get(REDRAFT, set()).discard(ctx.image)
        saved = stored.save_draft(ctx.store, ctx.image, ctx.reader, draft, expected_version=expected)
    except CxrvizError as error:
        _say(ctx.image, "error", str(error))
        return
    st.session_state[text_key(ctx.image, saved.version)] = saved.text
    st.session_state.pop(text_key(ctx.image, 0), None)
    _say(ctx.image, "info", f"Drafted from your saved reading (version {saved.version}); edit it, then sign.")


def _held(ctx: PanelContext, expected: int | None) -> int | None:
    """The version this tab holds: the one drawn, or the one a callback of this same rerun just wrote
    (typing, then Sign straight from the box, runs the text's autosave and Sign together)."""
    return st.session_state.setdefault(HELD, {}).get(ctx.image, expected)


def _autosave(ctx: PanelContext, expected: int | None) -> None:
    if ctx.image in st.session_state.get(SIGNED_NOW, set()):  # Sign ran first in this rerun and took the text with it
        return
    text = st.session_state.get(text_key(ctx.image, expected or 0), "")
    held = _held(ctx, expected)
    try:  # a first version written by hand reports the findings of the saved reading, if any
        saved = stored.save_text(ctx.store, ctx.image, ctx.reader, text, _reading_findings(ctx) if held is None else None,
                                 expected_version=held)
    except CxrvizError as error:
        _say(ctx.image, "error", f"Your text is kept in this tab but was not saved: {error}")
        return
    st.session_state[HELD][ctx.image] = saved.version
    if expected is None:  # version 1 was just made: its text area takes over
        st.session_state[text_key(ctx.image, saved.version)] = text


def _sign(ctx: PanelContext, expected: int | None) -> None:
    text = st.session_state.get(text_key(ctx.image, expected or 0), "")
    held = _held(ctx, expected)
    try:
        rules.check_text(text)
        saved = stored.save_text(ctx.store, ctx.image, ctx.reader, text, _reading_findings(ctx) if held is None else None,
                                 expected_version=held)
        stored.sign(ctx.store, ctx.image, ctx.reader, saved.version, text)
    except CxrvizError as error:
        _say(ctx.image, "error", str(error))
        return
    st.session_state.setdefault(SIGNED_NOW, set()).add(ctx.image)
    # signed: the panel now shows the read-only text under "Signed by … (version n)"


def _new_version(ctx: PanelContext, expected: int) -> None:
    try:
        nxt = stored.start_new_version(ctx.store, ctx.image, ctx.reader, expected)
    except CxrvizError as error:
        _say(ctx.image, "error", str(error))
        return
    st.session_state[text_key(ctx.image, nxt.version)] = nxt.text
    _say(ctx.image, "info", f"Version {nxt.version} started from version {expected}; version {expected} stays as signed.")


def _keep_text(image: str) -> None:
    st.session_state.get(REDRAFT, set()).discard(image)


def _named(findings) -> str:
    return ", ".join(f.replace("_", " ") for f in findings) or "no finding"


def _reading_changed(ctx: PanelContext, current: ReportVersion | None) -> None:
    """Say when the saved reading no longer has the findings this version reports."""
    now = _reading_findings(ctx)
    if current is None or now is None or set(now) == set(current.findings):
        return
    todo = "start a new version to amend it" if current.signed else "draft again or edit the text to match"
    st.info(escape_markdown(f"Your saved reading has changed since this version was written: it now has {_named(now)}; "
                            f"this version reports {_named(current.findings)}. If the reading is right, {todo}."),
            icon=":material/sync_problem:")


def _notice(image: str) -> None:
    kind, message = st.session_state.get(NOTICES, {}).pop(image, (None, None))
    if kind == "error":
        st.error(escape_markdown(message), icon=":material/warning:")
    elif kind:
        st.info(escape_markdown(message), icon=":material/edit_note:")


_DOWNLOADS = (("text", "Text"), ("fhir", "FHIR R4 JSON"), ("sr", "DICOM SR"))


def _sources(ctx: PanelContext) -> ReportSources:
    def source_of(name: str):  # a PACS image's own header: its SR references the image where the PACS holds it
        return pacs_view.source_header(ctx.config, name) if ctx.config is not None and pacs_view.is_pacs_image(name) else None

    return ReportSources(ctx.metadata, ctx.view.boxes, ctx.measurements,
                         lambda name: ctx.image_path if name == ctx.image else None, source_of)


def _download(ctx: PanelContext, version: ReportVersion, key: str) -> None:
    """The signed version in each export format, the same bytes as `export --reports --format F`. The
    FHIR and SR files are made only when clicked (the SR wraps the image itself as a Secondary Capture);
    with a PACS configured, the SR (with that Secondary Capture for an NIH image) can be stored in it."""
    sources = _sources(ctx)
    ready = True  # the FHIR and SR files are made when clicked, where a failure could not be said: check first
    if ctx.config is not None and pacs_view.is_pacs_image(ctx.image):
        try:
            pacs_view.source_header(ctx.config, ctx.image)  # cached: the click then finds it
        except CxrvizError as error:
            show_error(error)
            ready = False
    elif ctx.image_path is None or not Path(ctx.image_path).is_file():
        st.caption("The DICOM SR needs the image file, which is not in the images folder (CXRVIZ_IMAGES).")
        ready = False
    st.caption(f"Download signed report, version {version.version}:")
    for column, (fmt, label) in zip(st.columns(len(_DOWNLOADS)), _DOWNLOADS):
        suffix, mime, writer = WRITERS[fmt]
        data = writer(version, sources) if fmt == "text" else functools.partial(writer, version, sources)
        column.download_button(f"{label} ({suffix})", data, rules.file_name(version, suffix), mime, on_click="ignore",
                               key=f"{key}_{fmt}", width="stretch", disabled=fmt == "sr" and not ready
                               or fmt == "fhir" and not ready and pacs_view.is_pacs_image(ctx.image))
    if ctx.config is not None and ready:
        pacs_view.store_button(ctx.config, functools.partial(sr_datasets, version, sources),
                               label=f"Store the signed report (version {version.version}) in the PACS", key=f"{key}_stow",
                               help="STOW-RS of the report's DICOM SR (and, for an NIH image, its Secondary Capture) "
                                    "to the configured PACS; each object's outcome is shown.")


def _editor(ctx: PanelContext, current: ReportVersion | None, last_signed: ReportVersion | None) -> None:
    version = current.version if current else None
    key = text_key(ctx.image, version or 0)
    if key not in st.session_state:
        st.session_state[key] = current.text if current else ""
    st.warning(f"{rules.UNVERIFIED}: not signed" + (f" (version {version})" if version else "")
               + ". Do not act on it until it is signed.", icon=":material/pending:")
    own = ctx.view.own
    can_draft = own is not None and own.status in rules.DRAFTABLE
    why = ("Makes the text from your saved reading: findings, your boxes' side and zone, measurements, the prior study."
           if can_draft else "Save a reading of this image (confirmed, corrected or uncertain) first.")
    left, right = st.columns(2)
    left.button("Draft from my reading", key=f"report_draft_{ctx.image}", on_click=_draft, args=(ctx, version),
                disabled=not can_draft, help=why, width="stretch")
    right.button("Sign", key=f"report_sign_{ctx.image}", type="primary", on_click=_sign, args=(ctx, version),
                 help=f"Sign as {ctx.reader}; the signed text can no longer change (a later change is a new version).",
                 width="stretch")
    if ctx.image in st.session_state.get(REDRAFT, set()):
        st.warning("Drafting from your reading replaces the text you have written (the report log keeps it).",
                   icon=":material/edit_off:")
        yes, no = st.columns(2)
        yes.button("Replace my text with the draft", key=f"report_redraft_{ctx.image}", on_click=_draft,
                   args=(ctx, version, True), width="stretch")
        no.button("Keep my text", key=f"report_keep_{ctx.image}", on_click=_keep_text, args=(ctx.image,), width="stretch")
    _reading_changed(ctx, current)
    st.text_area("Report text", key=key, on_change=_autosave, args=(ctx, version), height=420,
                 help="Saved to the review store when you leave the box; a reload or a new tab finds it.")
    if current is not None:
        st.caption("Your draft is saved in the review store as you edit it; it stays unverified until you sign it.")
    if last_signed is not None:
        _download(ctx, last_signed, f"report_dl_{ctx.image}_{last_signed.version}")


def _signed(ctx: PanelContext, current: ReportVersion) -> None:
    st.success(escape_markdown(rules.status_line(current)), icon=":material/verified:")
    _reading_changed(ctx, current)
    st.text(current.text)
    left, right = st.columns(2)
    left.button("New version", key=f"report_new_{ctx.image}", on_click=_new_version, args=(ctx, current.version),
                help="Start the next version from this text; this signed version is kept as it is.", width="stretch")
    with right:
        _download(ctx, current, f"report_dl_{ctx.image}_{current.version}")


def _earlier(found: Sequence[ReportVersion]) -> None:
    if not found:
        return
    with st.expander(f"Earlier versions ({len(found)})"):
        for version in reversed(found):
            st.caption(escape_markdown(rules.status_line(version) if version.signed else f"Version {version.version}: not signed"))
            st.text(version.text)


def _others(ctx: PanelContext, theirs: Sequence[ReportVersion] | None = None) -> None:
    if ctx.view.others is None:  # blind: not before this reader's own decided reading (the gate says)
        return
    if theirs is None:
        theirs = [v for v in stored.visible_reports(ctx.store, ctx.reader, ctx.image, signed_only=True)
                  if not ctx.view.visibility.is_own(v.reviewer)]
    if theirs:
        with st.expander(f"Other readers' signed reports ({len(theirs)})"):
            for version in theirs:
                st.caption(escape_markdown(f"{version.reviewer}: " + rules.status_line(version)))
                st.text(version.text)


def panel(store, image: str, reader: str, view: ImageUnderReview, metadata,
          measurements: Sequence[Measurement] = (), image_path: Path | None = None, config=None,
          found: Sequence[ReportVersion] | None = None, theirs: Sequence[ReportVersion] | None = None) -> None:
    """The Report panel for `reader`'s report on `image` (`view`: what the page read through the gate).
    `found` / `theirs`: the reader's versions and others' signed ones they may see, as the page's one
    read (`team.under_review`) got them after this rerun's callbacks; None: read here."""
    ctx = PanelContext(store, image, reader, view, metadata, tuple(measurements), image_path, config)
    st.session_state.setdefault(HELD, {}).pop(image, None)  # callbacks run before this: what they wrote is in the store now
    st.session_state.setdefault(SIGNED_NOW, set()).discard(image)
    st.subheader("Report")
    try:
        found = list(found) if found is not None else stored.versions(store, image, reader)
    except CxrvizError as error:
        show_error(error)
        return
    _notice(image)
    current = found[-1] if found else None
    if current is not None and current.signed:
        _signed(ctx, current)
    else:
        _editor(ctx, current, next((v for v in reversed(found) if v.signed), None))
    _earlier(found[:-1])
    try:
        _others(ctx, theirs)
    except CxrvizError as error:
        show_error(error)
