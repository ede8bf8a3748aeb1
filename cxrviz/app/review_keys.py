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
body.cxrviz-advancing .st-key-review_form { opacity: 0.45; pointer-events: none; }
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
  const queue = [];  // {key, sel, text}: presses waiting for the page
  let inflight = null;  // {at, search, sawRun}: a move sent and not yet drawn
  let advancing = null;  // a save sent with the next X-ray shown ahead of the page: {from, to, fromSrc, at, sawRun, overlay}
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
                             + (waiting ? ` · ${waiting} waiting for the next form` : "")
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
  const advance = (idle) => {
    const next = ahead(), under = mainImage(), from = current();
    const save = from && document.querySelector(cls("save_" + from) + " button");
    if (!save || save.disabled) return;
    advancing = {from, to: null, fromSrc: under ? under.src : "", at: Date.now(), sawRun: false, overlay: null};
    noteUntil = 0;  // an earlier note (a save that failed) is about that save, not this one
    const copy = next && decoded.get(next.src);
    if (idle && copy && under && under.getBoundingClientRect().width) {
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
    const from = advancing.from, to = current();
    advancing = null;
    if (!done && queue.length) {  // typed for the next image: not applied to this one
      note = queue.map((q) => q.text).join(" ") + ` not applied: the save of ${from} did not go through (see the form)`;
      noteUntil = Date.now() + 6000; queue.length = 0;
    }
    for (const q of queue) if (q.form) q.sel = cls(q.form.replaceAll("{image}", to)) + " button";
    show();
  };
  const settle = () => {  // each frame while advancing: the page's own next image and form, or the save's failure
    if (!advancing) return;
    if (running()) advancing.sawRun = true;
    const under = mainImage(), waited = Date.now() - advancing.at;
    const arrived = under && under.src !== advancing.fromSrc && under.complete && under.naturalWidth > 0;
    if (advancing.overlay && (arrived || !under)) { advancing.overlay.remove(); advancing.overlay = null; }
    else if (advancing.overlay) place(advancing.overlay, under);
    const now = current(), moved = advancing.to ? now === advancing.to : now !== advancing.from, idle = !running();
    if (moved && idle && document.querySelector(cls("save_" + now))) { end(true); return; }
    if ((!moved && idle && (advancing.sawRun || waited > 1500)) || (moved && idle && waited > 4000) || waited > 20000) {
      end(moved); return;
    }
    requestAnimationFrame(settle);
  };
  window.addEventListener("keydown", (e) => {
    if (!onPage()) return;  // another page: its own keys
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey) {
      if (!advancing && !typing(e.target) && !e.repeat) advance(!inflight && !queue.length && !running());
      return;  // Streamlit's shortcut presses Save; keys pressed from now on wait for the next image's form
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    const form = HOLD[e.key.length === 1 ? e.key.toUpperCase() : e.key];
    if (advancing && form && !e.shiftKey) {  // for the next image's form, not the saved one's still on screen
      e.preventDefault(); e.stopImmediatePropagation();
      queue.push({key: e.key, form, text: e.key.toUpperCase()}); show();
      return;
    }
    if (!(e.key in KEYS) || e.shiftKey) return;
    if (!busy() && !queue.length) {  // Streamlit acts on it now; later presses wait until it is drawn
      inflight = {at: Date.now(), search: location.search, sawRun: false};
      return;
    }
    e.preventDefault(); e.stopImmediatePropagation();
    queue.push({key: e.key, sel: KEYS[e.key][0], text: KEYS[e.key][1]}); show();
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
    const target = document.querySelector(q.sel);
    if (!target || target.disabled) {
      note = q.text + " ignored: " + (q.key === "ArrowRight" ? "this is the last image" : q.key === "ArrowLeft" ? "this is the first image"
                                      : "its button is not on this form");
      noteUntil = Date.now() + 4000; queue.length = 0;
    } else {
      inflight = {at: Date.now(), search: location.search, sawRun: false};
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
    """The next image's picture as the page will first draw it (`viewer.next_picture`), sent unseen
    with this one: the browser decodes it ahead and shows it at Ctrl+Enter (None: not ready; the
    save then waits for the page as before)."""
    if png is None:
        return
    with st.container(key=AHEAD_KEY):
        st.image(png, caption=escape_markdown(image), output_format="PNG")  # the caption names it, as text


def install() -> None:
    """The page's first element (in the sidebar, so it takes no room beside the X-ray)."""
    st.sidebar.html(STYLE + SCRIPT, unsafe_allow_javascript=True)
