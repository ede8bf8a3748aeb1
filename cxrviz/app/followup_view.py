"""The prior and next study of the same patient, side by side, for judging a follow-up flip."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from cxrviz.app.gallery import problem_text
from cxrviz.app.text import escape_markdown
from cxrviz.data.followups import Study
from cxrviz.data.image_index import ImageIndex
from cxrviz.data.imaging import thumbnail
from cxrviz.data.metadata import Metadata
from cxrviz.errors import CxrvizError
from cxrviz.findings import NO_FINDING

THUMB_WIDTH = 240


def _labels(study: Study) -> str:
    return ", ".join(label for label in study.labels if label != NO_FINDING) or NO_FINDING


def follow_up_of(metadata: Metadata, image: str) -> int | None:
    row = metadata.row_of(image)
    value = None if row is None else metadata.table["follow_up"].iat[row]
    return None if value is None or pd.isna(value) else int(value)


def study_caption(study: Study, role: str) -> str:
    at = "follow-up ?" if study.follow_up is None else f"follow-up {study.follow_up}"
    return f"{role}: {study.image} · {at} · NIH: {_labels(study)}"


def _tile(column, study: Study | None, role: str, index: ImageIndex, cache_dir: Path) -> None:
    with column:
        if study is None:
            st.text(f"{role}: none (this is the patient's {'first' if role == 'Prior' else 'last'} study).")
            return
        st.text(study_caption(study, role))
        path = index.path_of(study.image)
        if path is None:
            st.text("Not present locally (CXRVIZ_IMAGES): only its labels can be shown.")
            return
        try:
            st.image(str(thumbnail(cache_dir, path)), width=THUMB_WIDTH)
        except (CxrvizError, OSError) as error:
            st.text(f"{study.image}: {problem_text(error, path)}")


def prior_and_next(studies: tuple[Study | None, Study | None], flipping: list[str], index: ImageIndex,
                   cache_dir: Path, follow_up: int | None = None) -> None:
    """The patient's prior and next study (thumbnail, follow-up number, NIH labels) and which
    finding flips, so the middle study is judged in context."""
    st.subheader("Same patient: prior and next study")
    here = "" if follow_up is None else f" (follow-up {follow_up})"
    if flipping:
        st.caption(escape_markdown(f"Flips here{here}: {', '.join(flipping)} is labelled in the prior and the next study "
                                   "but not in this one."))
    prior, following = studies
    left, right = st.columns(2)
    _tile(left, prior, "Prior", index, cache_dir)
    _tile(right, following, "Next", index, cache_dir)
