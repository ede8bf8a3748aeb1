"""The Review page's keyboard queue and compact layout, sent first on every run of the page.

Why a queue: a button's `shortcut=` acts only while its button is drawn, and Streamlit folds presses
of one button that arrive while a run is still pending into one. So on a fresh load (the X-ray still
being computed) or right after a move, a quick → → → moved one image and dropped the rest without a
word. This listener, registered by the page's first element, holds ←/→ pressed while the page is
busy (a run in progress, a move not yet drawn, the buttons not on screen yet), shows how many are
waiting, and replays them one at a time as soon as the page can act; a press with nowhere to go
(the last image) is shown as ignored. It also warns before a reload or close while a note is being
typed and not yet applied (a text box applies its text when it loses focus).

The style rules make the form fit beside the X-ray at 1280×800: tighter buttons whose labels wrap
instead of being cut ("Pneumotho…"), and less empty space above the page.
"""

from __future__ import annotations

import streamlit as st

from cxrviz.app.text import escape_markdown

PREVIOUS_KEY = "review_prev"  # the Previous / Next buttons' widget keys (`.st-key-…` in the page)
NEXT_KEY = "review_next"
AHEAD_KEY = "review_next_picture"  # the next X-ray, sent hidden (`next_picture`)

STYLE = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.75rem; }
.st-key-review_form { gap: 0.4rem; }
.st-key-review_form [data-testid="stHorizontalBlock"] { gap: 0.4rem; }
.st-key-review_form [data-testid="stColumn"] > div { gap: 0.4rem; }
.st-key-review_form .stButton button { min-height: 2.1rem; padding: 0.1rem 0.45rem; }
.st-key-review_form .stButton button * { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; line-height: 1.15; }
.st-key-review_form [data-testid="stMarkdownContainer"] p { margin-bottom: 0; }
.st-key-review_next_picture { display: none !important; }
body.cxrviz-advancing .st-key-review_form, body.cxrviz-advancing .st-key-review_prev,
body.cxrviz-advancing .st-key-review_next { opacity: 0.45; pointer-events: none; }
#cxrviz-key-queue { position: fixed; right: 1rem; bottom: 1rem; z-index: 1000; padding: 0.35rem 0.7rem;
  border-radius: 0.5rem; background: #31333f; color: #fff; font-size: 0.85rem; display: none; }
</style>
"""

SCRIPT = r"""
<script>
(() => {
  if (window.__cxrvizReviewKeys) return;  // once per page load; reruns keep it
  window.__cxrvizReviewKeys = true;
  const KEYS = {ArrowRight: [".st-key-%(next)s button", "→"], ArrowLeft: [".st-key-%(prev)s button", "←"]};
  const HOLD = %(hold)s;  // a form key -> its button's widget key, {image} for the image's name
  const queue = [];  // {key, text, sel | form, save}: presses waiting for the page (a form key's button found when applied)
  let inflight = null;  // {at, search, sawRun, move}: a press sent and not yet drawn (move: ← or →)
  let advancing = null;  // a save sent with the next X-ray shown ahead of the page: {from, to, fromSrc, at, sawRun, idleSince, overlay}
  const running = () => !!document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
  const cls = (key) => ".st-key-" + key.trim().replace(/[^a-zA-Z0-9_-]/g, "-");
  const button = (key) => document.querySelector(KEYS[key][0]);
  const typing = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  const onPage = () => /\/review$/.test(location.pathname);
  const current = () => new URLSearchParams(location.search).get("image");
  const mainImage = () => [...document.querySelectorAll('[data-testid="stImage"] img')].find((i) => !i.closest(".st-key-%(ahead)s"));
  const ahead = () => {  // the next X-ray as the page will first draw it (`next_picture`), sent with this one
    const box = document.querySelector(".st-key-%(ahead)s");
    const img = box && box.querySelector("img"), name = box && box.querySelector('[data-testid="stImageCaption"]');
    return img && name ? {src: img.src, name: name.innerText.replace(/\u2060/g, "").trim()} : null;  // its name, less `escape_markdown`'s word joiners
  };
  const decoded = new Map();  // src -> a decoded copy (null while decoding)
  const preload = () => {
    const next = ahead();
    if (!next || decoded.has(next.src)) return;
    const copy = new Image();
    decoded.set(next.src, null);
    copy.src = next.src;
    copy.decode().then(() => decoded.set(next.src, copy), () => decoded.delete(next.src));
    while (decoded.size > 4) decoded.delete(decoded.keys().next().value);
  };
  const badge = () => {
    let b = document.getElementById("cxrviz-key-queue");
    if (!b) { b = document.createElement("div"); b.id = "cxrviz-key-queue"; b.setAttribute("role", "status");
              document.body.appendChild(b); }
    return b;
  };
  let note = "", noteUntil = 0;
  const show = () => {
    const b = badge();
    const waiting = queue.map((q) => q.text).join(" ");
    const text = advancing ? `Saving ${advancing.from} …` + (advancing.to ? ` next: ${advancing.to}` : "")
                             + (waiting ? ` · ${waiting} waiting for the next form` : "") + (Date.now() < noteUntil ? ` · ${note}` : "")
               : queue.length ? waiting + " waiting: applied when the page is ready"
               : (Date.now() < noteUntil ? note : "");
    b.textContent = text; b.style.display = text ? "block" : "none";
  };
  const busy = () => !!advancing || !!inflight || running() || !button("ArrowRight");
  const place = (overlay, under) => {
    const r = under.getBoundingClientRect();
    Object.assign(overlay.style, {left: r.left + "px", top: r.top + "px", width: r.width + "px", height: r.height + "px"});
  };
  // Ctrl+Enter with the next X-ray in hand: it goes on screen now, over this one, while the save is
  // committed and the page draws the next image's form; "Saved" still comes from the page, after the
  // commit. A save that does not go through takes the overlay away: this image and its form are back.
  const advance = () => {  // called with the page idle: the save's run is the next one
    const next = ahead(), under = mainImage(), from = current(), onward = button("ArrowRight");
    const save = from && document.querySelector(cls("save_" + from) + " button");
    if (!save || save.disabled || !onward || onward.disabled) return;  // the last image: the page stays on it, nothing to hold for
    advancing = {from, to: null, fromSrc: under ? under.src : "", at: Date.now(), sawRun: false, idleSince: null, overlay: null};
    noteUntil = 0;  // an earlier note (a save that failed) is about that save, not this one
    const copy = next && decoded.get(next.src);
    if (copy && under && under.getBoundingClientRect().width) {
      const overlay = document.createElement("div"), picture = document.createElement("img"), tag = document.createElement("span");
      picture.id = "cxrviz-next-picture"; picture.alt = "The next X-ray, " + next.name; picture.src = copy.src;
      Object.assign(picture.style, {width: "100%%", height: "100%%", objectFit: "contain"});
      tag.textContent = next.name;  // the picture's own name on it: the title above still names the image being saved
      Object.assign(tag.style, {position: "absolute", left: "0.4rem", top: "0.4rem", padding: "0.1rem 0.45rem", borderRadius: "0.3rem",
                                background: "rgba(49, 51, 63, 0.85)", color: "#fff", font: "0.85rem sans-serif"});
      overlay.append(picture, tag);
      Object.assign(overlay.style, {position: "fixed", zIndex: 999, pointerEvents: "none",
                                    background: getComputedStyle(document.querySelector(".stApp") || document.body).backgroundColor});
      place(overlay, under);
      document.body.appendChild(overlay);
      Object.assign(advancing, {to: next.name, overlay});
    }
    document.body.classList.add("cxrviz-advancing");
    show();
    requestAnimationFrame(settle);
  };
  const end = (done) => {
    if (advancing.overlay) advancing.overlay.remove();
    document.body.classList.remove("cxrviz-advancing");
    const from = advancing.from;
    advancing = null;
    if (!done && queue.length) {  // typed for the next image: not applied to this one
      note = queue.map((q) => q.text).join(" ") + ` not applied: the save of ${from} did not go through (see the form)`;
      noteUntil = Date.now() + 6000; queue.length = 0;
    }
    show();
  };
  // Each frame while advancing: the page's own next image and form (the save went through), or the
  // page idle again on this image after the save's run (it did not: a message, a conflict to resolve).
  const settle = () => {
    if (!advancing) return;
    try {
      const idle = !running(), t = Date.now(), waited = t - advancing.at;
      if (!idle) { advancing.sawRun = true; advancing.idleSince = null; } else if (advancing.idleSince === null) advancing.idleSince = t;
      const quiet = idle && t - advancing.idleSince > 250;  // not a frame between two runs
      const under = mainImage();
      const arrived = under && under.src !== advancing.fromSrc && under.complete && under.naturalWidth > 0;
      if (advancing.overlay && (arrived || !under)) { advancing.overlay.remove(); advancing.overlay = null; }
      else if (advancing.overlay) place(advancing.overlay, under);
      const now = current(), moved = now !== advancing.from;
      if (moved && idle && document.querySelector(cls("save_" + now))) { end(true); return; }
      if (!moved && quiet && (advancing.sawRun || waited > 10000)) { end(false); return; }
      if (moved && quiet && waited > 4000) { end(true); return; }
    } catch (err) {  // never leave the form dimmed and every key held
      console.error(err); end(false); return;
    }
    requestAnimationFrame(settle);
  };
  window.addEventListener("keydown", (e) => {
    if (!onPage()) return;  // another page: its own keys
    const key = e.key || "";
    if (key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey) {
      if (typing(e.target) || e.repeat) return;  // from the note: Streamlit's shortcut saves it, as before
      const moving = (inflight && inflight.move) || queue.some((q) => !q.form || q.save);
      if (moving || (advancing && current() === advancing.from)) {  // a second press, or for an image not yet shown: not a save of it
        e.preventDefault(); e.stopImmediatePropagation();
        note = "Ctrl+Enter ignored: " + (moving ? "the image you moved to is not shown yet"
                                                : `${advancing.from} is still being saved; press again on the next image`);
        noteUntil = Date.now() + 4000; show();
        return;
      }
      if (busy() || queue.length) {  // the next form drawn, its keys still being applied (or a run going): saved after them
        e.preventDefault(); e.stopImmediatePropagation();
        queue.push({key, form: "save_{image}", save: true, text: "Ctrl+Enter"}); show();
        return;
      }
      advance();
      return;  // Streamlit's shortcut presses Save; keys pressed from now on wait for the next image's form
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    const form = HOLD[key.length === 1 ? key.toUpperCase() : key];
    if ((advancing || queue.length) && form && !e.shiftKey) {  // for the next image's form (or after the keys waiting), in order
      e.preventDefault(); e.stopImmediatePropagation();
      queue.push({key, form, text: key.toUpperCase()}); show();
      return;
    }
    if (!(key in KEYS) || e.shiftKey) return;
    if (!busy() && !queue.length) {  // Streamlit acts on it now; later presses wait until it is drawn
      inflight = {at: Date.now(), search: location.search, sawRun: false, move: true};
      return;
    }
    e.preventDefault(); e.stopImmediatePropagation();
    queue.push({key, sel: KEYS[key][0], text: KEYS[key][1]}); show();
  }, true);
  setInterval(() => {
    if (!onPage()) { queue.length = 0; if (advancing) end(false); }  // left the page: nothing to replay
    preload();
    if (inflight) {
      if (running()) inflight.sawRun = true;
      const drawn = !running() && (inflight.sawRun || location.search !== inflight.search);
      if (drawn || Date.now() - inflight.at > 4000) inflight = null;
    }
    if (!queue.length || busy()) return;
    const q = queue.shift();
    const target = document.querySelector(q.form ? cls(q.form.replaceAll("{image}", current() || "")) + " button" : q.sel);
    if (!target || target.disabled) {
      note = q.text + " ignored: " + (q.key === "ArrowRight" ? "this is the last image" : q.key === "ArrowLeft" ? "this is the first image"
                                      : "its button is not on this form");
      noteUntil = Date.now() + 4000; queue.length = 0;
    } else {
      if (q.save) advance();  // as if pressed now: the next X-ray on screen, keys after it held
      inflight = {at: Date.now(), search: location.search, sawRun: false, move: !q.form};
      target.click();
    }
    show();
  }, 60);
  setInterval(show, 500);
  // A note typed and not yet applied (it applies on leaving the box) would be lost to a reload.
  let unapplied = false;
  document.addEventListener("input", (e) => { if (e.target.tagName === "TEXTAREA") unapplied = true; }, true);
  document.addEventListener("focusout", (e) => { if (e.target.tagName === "TEXTAREA") unapplied = false; }, true);
  window.addEventListener("beforeunload", (e) => { if (unapplied) { e.preventDefault(); e.returnValue = ""; } });
})();
</script>
"""


def _held_keys() -> str:
    """The form's single-key shortcuts -> their buttons' widget keys (`review_form`), as JSON."""
    import json

    from cxrviz.app.review_form import LABEL_KEYS, STATUS_KEYS

    return json.dumps({k: f"lab_{{image}}_{label}" for label, k in LABEL_KEYS.items()}
                      | {k: f"status_{{image}}_{status}" for status, k in STATUS_KEYS.items()})


SCRIPT = SCRIPT % {"next": NEXT_KEY, "prev": PREVIOUS_KEY, "ahead": AHEAD_KEY, "hold": _held_keys()}


def next_picture(image: str, png: bytes | None) -> None:
    """The next image's picture as the page will first draw it (`viewer.warm_next`), sent unseen
    with this one: the browser decodes it ahead and shows it at Ctrl+Enter (None: not ready; the
    save then waits for the page as before)."""
    if png is None:
        return
    with st.container(key=AHEAD_KEY):
        st.image(png, caption=escape_markdown(image), output_format="PNG")  # the caption names it, as text


def install() -> None:
    """The page's first element (in the sidebar, so it takes no room beside the X-ray)."""
    st.sidebar.html(STYLE + SCRIPT, unsafe_allow_javascript=True)
