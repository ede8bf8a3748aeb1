"""Which labels are probably wrong: cleanlab's multi-label tools on out-of-fold probabilities.

Input: the given labels ((n, K) 0/1, e.g. the NIH labels) and probabilities from models that
never trained on each image (`cxrviz.model.crossval.out_of_fold`). Output, per image, cleanlab's
label-quality score (`multilabel_classification.get_label_quality_scores`: low = suspect) and,
per (image, finding), whether confident learning flags the label
(`find_multilabel_issues_per_class`) and in which direction: a finding labelled absent that
the models see is "probably missing", one labelled present that they do not is "probably
spurious". Pairs are ranked by cleanlab's per-finding quality with `adjust_pred_probs`
(each finding's probabilities judged against that finding's own average confidence, so a
rare finding's modest probabilities are not all read as misses).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxrviz.errors import CxrvizError
from cxrviz.findings import FINDINGS

log = logging.getLogger(__name__)

MISSING = "probably missing"
SPURIOUS = "probably spurious"
COLUMNS = ("image", "finding", "label", "direction", "score", "image_score", "probability", "flagged")


class LabelIssueError(CxrvizError):
    """The labels and probabilities cannot be audited together (shapes, values, too few images)."""


@dataclass(frozen=True)
class LabelIssues:
    image_scores: np.ndarray  # (n,) cleanlab label quality per image, in [0, 1]; low = suspect
    pair_scores: np.ndarray  # (n, K) per (image, finding) label quality; low = suspect
    flagged: np.ndarray  # (n, K) bool: confident learning calls this label an issue


def _checked(targets: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    targets, probs = np.asarray(targets), np.asarray(probs, dtype=np.float64)
    if targets.ndim != 2 or targets.shape != probs.shape:
        raise LabelIssueError(f"Labels {targets.shape} and probabilities {probs.shape} must be the same (images, findings) shape.")
    if not np.isin(targets, (0, 1)).all():
        raise LabelIssueError("Labels must be 0 (absent) or 1 (present).")
    if not (np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()):
        raise LabelIssueError("Probabilities must be finite numbers between 0 and 1.")
    if len(targets) < 2:
        raise LabelIssueError(f"Auditing labels needs at least 2 images (got {len(targets)}).")
    return targets.astype(int), probs


def find_label_issues(targets: np.ndarray, probs: np.ndarray) -> LabelIssues:
    """cleanlab's scores and flags for every image and every (image, finding) pair."""
    from cleanlab.multilabel_classification.filter import find_multilabel_issues_per_class
    from cleanlab.multilabel_classification.rank import get_label_quality_scores, get_label_quality_scores_per_class

    targets, probs = _checked(targets, probs)
    labels = [list(np.flatnonzero(row)) for row in targets]
    with warnings.catch_warnings():  # cleanlab warns about classes with few examples; the scores stay defined
        warnings.simplefilter("ignore")
        image_scores = get_label_quality_scores(labels, probs)
        pair_scores = get_label_quality_scores_per_class(labels, probs, adjust_pred_probs=True)
        flagged = np.asarray(find_multilabel_issues_per_class(labels, probs), dtype=bool)
    if flagged.shape != targets.shape:  # documented as K masks of length n; 2.9 returns (n, K)
        flagged = flagged.T
    return LabelIssues(np.asarray(image_scores, dtype=float), np.asarray(pair_scores, dtype=float).reshape(targets.shape),
                       flagged.astype(bool))


def ranked_pairs(names: list[str], targets: np.ndarray, probs: np.ndarray, findings: tuple[str, ...] = FINDINGS,
                 only_flagged: bool = True) -> pd.DataFrame:
    """(image, finding) pairs, most suspect (lowest adjusted score) first; `only_flagged` keeps
    the pairs confident learning flags. (Ranking by the adjusted score alone beat "flagged first"
    on miscalibrated synthetic data, tests/review/test_label_issues.py.)

    Columns: image, finding, label (0/1 as given), direction, score (per-pair quality),
    image_score, probability (the out-of-fold one), flagged."""
    if len(names) != len(targets) or len(findings) != np.shape(targets)[1]:
        raise LabelIssueError(f"{len(names)} image names and {len(findings)} findings for labels of shape {np.shape(targets)}.")
    issues = find_label_issues(targets, probs)
    targets, probs = _checked(targets, probs)
    rows, cols = np.nonzero(issues.flagged) if only_flagged else np.indices(targets.shape).reshape(2, -1)
    frame = pd.DataFrame({
        "image": np.asarray(names, dtype=object)[rows],
        "finding": np.asarray(findings, dtype=object)[cols],
        "label": targets[rows, cols],
        "direction": np.where(targets[rows, cols] == 1, SPURIOUS, MISSING),
        "score": issues.pair_scores[rows, cols],
        "image_score": issues.image_scores[rows],
        "probability": probs[rows, cols],
        "flagged": issues.flagged[rows, cols],
    }, columns=list(COLUMNS))
    frame = frame.sort_values(["score", "image", "finding"], kind="stable")
    log.info("%d of %d (image, finding) labels flagged", int(issues.flagged.sum()), issues.flagged.size)
    return frame.reset_index(drop=True)


def naive_pair_scores(targets: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The first-cut triage order, for comparison: 1 - |probability - label| (low = suspect)."""
    targets, probs = _checked(targets, probs)
    return 1 - np.abs(probs - targets)
