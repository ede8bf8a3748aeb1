"""Import a reviewer-box CSV from the Review and Image pages: the limits said beside the uploader,
a progress bar while a large file is checked and written, every refusal shown as text.

The rules are `cxrviz.review.box_export.import_boxes` (every row checked, then one transaction),
as for `python -m cxrviz import --boxes`; in a team store only an admin may import.
"""

from __future__ import annotations

import streamlit as st

from cxrviz.app import resources
from cxrviz.app.messages import show_error
from cxrviz.app.text import escape_markdown
from cxrviz.errors import CxrvizError
from cxrviz.review.box_export import MAX_BOX_FILE_BYTES, MAX_BOX_ROWS, import_boxes
from cxrviz.review.imports import MAX_PROBLEMS_SHOWN, ImportRefusedError, require_admin_in_team_mode

LIMITS = (f"At most {MAX_BOX_ROWS:,} boxes and {MAX_BOX_FILE_BYTES // 2**20} MiB per file. Every row is checked first: a file "
          "with any bad row imports nothing, and each problem is listed with its row and column. x, y, w, h are in "
          "NIH's 1024-px frame, as the Boxes CSV download writes them.")


def progress_text(stage: str, done: int, total: int) -> tuple[float, str]:
    """(fraction of the bar, its words): checking fills the first half, writing the second."""
    share = min(done / total, 1.0) if total else 1.0
    if stage == "checking":
        return 0.5 * share, f"Checking rows… {done:,} of about {total:,}"
    return 0.5 + 0.5 * share, f"Writing boxes… {done:,} of {total:,} (nothing is kept until the last)"


def refusal_lines(error: ImportRefusedError) -> list[str]:
    """The refusal as lines of text: its first line, then one per problem (the first
    `MAX_PROBLEMS_SHOWN`, then how many more)."""
    lines = [str(error).split("\n", 1)[0]] + [str(p) for p in error.problems[:MAX_PROBLEMS_SHOWN]]
    if len(error.problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"… and {len(error.problems) - MAX_PROBLEMS_SHOWN} more")
    return lines


def upload(store, reviewer: str, key_prefix: str = "boxes") -> None:
    """The uploader and its Import button; the outcome stays shown until the next import."""
    with st.expander("Import boxes from a CSV"):
        st.caption(LIMITS)
        uploaded = st.file_uploader("Box CSV", type=["csv"], key=f"{key_prefix}_box_upload")
        if st.button("Import the boxes", key=f"{key_prefix}_box_import", disabled=uploaded is None):
            bar = st.progress(0.0, text="Reading the file…")

            def progress(stage: str, done: int, total: int) -> None:
                fraction, text = progress_text(stage, done, total)
                bar.progress(fraction, text=text)

            try:
                require_admin_in_team_mode(store, reviewer, "boxes")
                added = import_boxes(store, uploaded.getvalue(), resources.metadata_for(resources.settings()), reviewer,
                                     name=uploaded.name, progress=progress)
            except ImportRefusedError as error:  # one problem a line (Markdown would run them together)
                bar.empty()
                head, *problems = refusal_lines(error)
                st.error(escape_markdown(head) + "".join(f"\n- {escape_markdown(p)}" for p in problems), icon=":material/warning:")
                return
            except CxrvizError as error:
                bar.empty()
                show_error(error)
                return
            bar.progress(1.0, text="Done")
            st.success(escape_markdown(f"Imported {added:,} boxes from {uploaded.name} (boxes the store already had were skipped)."))
