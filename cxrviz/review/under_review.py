"""The image under review as one value, and what the Review page draws of it.

`store.team.under_review` reads, in one transaction, everything a fragment rerun of the Review page
shows of one image to one reader (`UnderReview`): the gate's `ImageUnderReview` (own review,
others' or None while blind, references hidden, the boxes they may see), their stored draft of it
and the other images they keep drafts of, the measurements and report versions they may see, and
the progress counts. `shown` is the hidden-references policy, pure: what the viewer and the form
get of the NIH labels, boxes, model, suspects and expert note, and how a fresh form starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cxrviz.errors import CxrvizError
from cxrviz.review.measurements import Measurement
from cxrviz.review.reports import ReportVersion
from cxrviz.review.rules import progress as queue_progress
from cxrviz.review.visibility import ImageUnderReview, Visibility, unknown_view


@dataclass(frozen=True)
class UnderReview:
    """One image as one reader may see it, from one store read. `draft`: their stored draft of it
    (a `store.drafts.StoredDraft`, or None); `drafted`: the images they have a stored draft of,
    newest first; `measurements`: those of this image they may see; `reports`: their own report's
    versions, first first; `others_reports`: others' signed versions they may see (None while
    blind); `done_mine` / `done_anyone`: images of the queue reviewed by them / by anyone they may
    know of (None while they have blind-campaign images left to read: it would hint at others'
    work). `complete` is False when the store could not be read (`unknown`): then `draft`, `drafted`,
    `measurements` and `reports` are None, and their panels read them themselves (and say why not)."""

    view: ImageUnderReview
    done_mine: int = 0
    done_anyone: int | None = 0
    draft: object | None = None
    drafted: tuple[str, ...] | None = None
    measurements: tuple[Measurement, ...] | None = None
    reports: tuple[ReportVersion, ...] | None = None
    others_reports: tuple[ReportVersion, ...] | None = None
    complete: bool = True

    @property
    def image(self) -> str:
        return self.view.image

    @property
    def references_hidden(self) -> bool:
        return self.view.references_hidden


def progress(queue: Iterable[str], mine: set[str], everyone: set[str], visibility: Visibility) -> tuple[int, int | None]:
    """(the queue's images reviewed by the reader, by anyone they may know of); the second is None
    while the reader has blind-campaign images left to read (others' progress would hint at them)."""
    done_mine, done_all = queue_progress(queue, mine, visibility.images(everyone) | mine)
    return done_mine, None if visibility.unread else done_all


def unknown(image: str, viewer: str | None) -> UnderReview:
    """What the page draws when the store cannot be read: nobody's readings, no references, no
    progress; drafts, measurements and reports are left for their own panels to read (and say why not)."""
    view = unknown_view(image, viewer)
    return UnderReview(view, 0, 0 if not view.visibility.unread else None, complete=False)


@dataclass(frozen=True)
class References:
    """What the Review page draws of the image's references. `nih`: its NIH labels, always (the
    form tells "confirmed" from "corrected" by them); `nih_labels`, `boxes_table`, `model`: what the
    viewer shows (None while hidden); `suspects`, `expert_note` (with `nih_names`): the form's folded
    reference section; `start`: the labels a fresh form starts from (None: the NIH labels);
    `follow_ups`: whether the prior/next studies may be shown; `problem`: the expert note could not be read."""

    hidden: bool
    nih: frozenset[str]
    nih_labels: frozenset[str] | None
    boxes_table: object | None
    model: object | None
    suspects: tuple = ()
    expert_note: str | None = None
    nih_names: str = ""
    start: frozenset[str] | None = None
    problem: CxrvizError | None = None

    @property
    def follow_ups(self) -> bool:
        return not self.hidden

    @property
    def model_name(self) -> str | None:
        return self.model.spec.name if self.model is not None else None

    def reference(self, escape: Callable[[object], str]) -> str | None:
        """The expert note with the NIH labels, as `escape` makes text safe (the form shows Markdown)."""
        if not self.expert_note:
            return None
        return escape(self.expert_note) + " (NIH: " + escape(self.nih_names) + ")"


def shown(view: ImageUnderReview, nih: Iterable[str] | None, boxes_table, model, suspects: Iterable = (),
          expert_note: Callable[[], str | None] | None = None) -> References:
    """The hidden-references policy: while a campaign hides references from this reader (until
    they have read the image) no NIH labels, no boxes, no model, no suspects, no expert note, and
    the form starts from no label; `nih` is still kept for the saved status. `expert_note` is
    called only when the references are shown."""
    labels = frozenset(nih or ())
    if view.references_hidden:
        return References(True, labels, None, None, None, (), None, "", frozenset())
    note, problem = None, None
    if expert_note is not None:
        try:
            note = expert_note() or None
        except CxrvizError as error:
            problem = error
    return References(False, labels, labels, boxes_table, model, tuple(suspects), note, ", ".join(sorted(labels)) or "No Finding",
                 None, problem)
