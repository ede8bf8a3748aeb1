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

PREVIOUS_KEY = "review_prev"  # the Previous / Next buttons' widget keys (`.st-key-…` in the page)
NEXT_KEY = "review_next"

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
  const queue = [];
  let inflight = null;  // {at, search, sawRun}: a move sent and not yet drawn
  const running = () => !!document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
  const button = (key) => document.querySelector(KEYS[key][0]);
  const typing = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  const badge = () => {
    let b = document.getElementById("cxrviz-key-queue");
    if (!b) { b = document.createElement("div"); b.id = "cxrviz-key-queue"; b.setAttribute("role", "status");
              document.body.appendChild(b); }
    return b;
  };
  let note = "", noteUntil = 0;
  const show = () => {
    const b = badge();
    const text = queue.length ? queue.map((k) => KEYS[k][1]).join(" ") + " waiting: applied when the page is ready"
                              : (Date.now() < noteUntil ? note : "");
    b.textContent = text; b.style.display = text ? "block" : "none";
  };
  const busy = () => !!inflight || running() || !button("ArrowRight");
  const send = (key) => {
    const target = button(key);
    inflight = {at: Date.now(), search: location.search, sawRun: false};
    target.click();
  };
  window.addEventListener("keydown", (e) => {
    if (!(e.key in KEYS) || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey || typing(e.target)) return;
    if (!/\/review$/.test(location.pathname)) return;  // another page: its own keys
    if (!busy() && !queue.length) {  // Streamlit acts on it now; later presses wait until it is drawn
      inflight = {at: Date.now(), search: location.search, sawRun: false};
      return;
    }
    e.preventDefault(); e.stopImmediatePropagation();
    queue.push(e.key); show();
  }, true);
  setInterval(() => {
    if (!/\/review$/.test(location.pathname)) queue.length = 0;  // left the page: nothing to replay
    if (inflight) {
      if (running()) inflight.sawRun = true;
      const drawn = !running() && (inflight.sawRun || location.search !== inflight.search);
      if (drawn || Date.now() - inflight.at > 4000) inflight = null;
    }
    if (!queue.length || busy()) return;
    const key = queue.shift();
    const target = button(key);
    if (target.disabled) {
      note = KEYS[key][1] + " ignored: " + (key === "ArrowRight" ? "this is the last image" : "this is the first image");
      noteUntil = Date.now() + 4000; queue.length = 0;
    } else {
      send(key);
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
""" % {"next": NEXT_KEY, "prev": PREVIOUS_KEY}


def install() -> None:
    """The page's first element (in the sidebar, so it takes no room beside the X-ray)."""
    st.sidebar.html(STYLE + SCRIPT, unsafe_allow_javascript=True)
