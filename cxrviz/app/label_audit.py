"""The Label audit page's pieces: expert labels and their statistics (cached per file version),
the suspect-label queue from the store, and the two plots."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cxrviz.app.resources import mtime
from cxrviz.data.expert import ExpertLabels, agreement_statistics, comparison, default_expert_path, load_expert_labels

QUEUE_SOURCE = "likely wrong labels (cleanlab)"
METRICS = (("ppv", "PPV (NIH positives the experts confirm)"), ("sensitivity", "sensitivity (expert positives NIH labels)"),
           ("agreement", "agreement"))


@st.cache_resource(show_spinner="Loading the expert labels…")
def _expert(path: str, mtime_ns: int) -> ExpertLabels:
    from pathlib import Path

    return load_expert_labels(Path(path))


def expert_labels() -> ExpertLabels:
    """Google's 2019 adjudicated labels; raises `ExpertLabelsError` (shown, the page goes on)."""
    path = default_expert_path()
    return _expert(str(path), mtime(path))


@st.cache_data(show_spinner=False)
def _statistics(path: str, mtime_ns: int) -> pd.DataFrame:
    return agreement_statistics(comparison(_expert(path, mtime_ns)))


def expert_statistics() -> pd.DataFrame:
    path = default_expert_path()
    expert_labels()  # raises for a missing or malformed file, before anything is cached
    return _statistics(str(path), mtime(path))


def statistics_plot(stats: pd.DataFrame) -> go.Figure:
    """PPV, sensitivity and agreement per finding with their 95% intervals."""
    figure = go.Figure()
    for key, name in METRICS:
        figure.add_bar(name=name, x=stats["finding"], y=stats[key],
                       error_y={"type": "data", "array": stats[f"{key}_high"] - stats[key],
                                "arrayminus": stats[key] - stats[f"{key}_low"]})
    figure.update_layout(barmode="group", yaxis={"range": [0, 1], "title": "share (95% Wilson interval)"},
                         title="NIH labels against Google's 2019 expert adjudication", legend={"orientation": "h"})
    return figure


def statistics_table(stats: pd.DataFrame) -> pd.DataFrame:
    """The statistics as shown: one 'value [low, high]' column per metric (and the `labels` compared,
    NIH or reviewers, when the statistics carry them)."""
    first = ["finding", "labels"] if "labels" in stats.columns else ["finding"]
    out = stats[[*first, "nih_findings", "images", "nih_positive", "expert_positive", "both_positive"]].copy()
    for key in ("ppv", "sensitivity", "agreement", "nih_positive_disagree"):
        out[key.replace("_", " ")] = [f"{v:.2f} [{lo:.2f}, {hi:.2f}]" if v == v else "n/a"
                                      for v, lo, hi in zip(stats[key], stats[f"{key}_low"], stats[f"{key}_high"])]
    if "labels" in stats.columns:  # the positives are of the labels compared, not always NIH's
        return out.rename(columns={"nih_findings": "NIH findings", "nih_positive": "labelled positive",
                                   "expert_positive": "expert positive", "both_positive": "both positive",
                                   "nih positive disagree": "positives the experts reject"})
    return out.rename(columns={"nih_findings": "NIH findings", "nih_positive": "NIH positive",
                               "expert_positive": "expert positive", "both_positive": "both positive",
                               "nih positive disagree": "NIH positives the experts reject"})


def queue_plot(queue: pd.DataFrame) -> go.Figure:
    """Suspect labels per finding, split by direction."""
    counts = queue.groupby(["finding", "direction"]).size().rename("labels").reset_index()
    figure = go.Figure()
    for direction, part in counts.groupby("direction"):
        figure.add_bar(name=str(direction), y=part["finding"], x=part["labels"], orientation="h")
    figure.update_layout(barmode="stack", title="Suspect labels per finding", xaxis_title="labels",
                         legend={"orientation": "h"}, height=max(300, 28 * counts["finding"].nunique() + 140))
    return figure


def local_queue_images(config, queue: pd.DataFrame) -> list[str]:
    """The suspect table's distinct images, in its order, that this server's image folder holds
    (an audit may have run on another machine's images)."""
    from cxrviz.app import resources
    from cxrviz.review.audit_run import queue_images

    index = resources.image_index(config)
    return [image for image in queue_images(queue) if image in index]


def send_to_review(queue: pd.DataFrame, images: list[str]) -> None:
    """Make `images` (`local_queue_images` of this suspect-label table) the Review page's queue, in
    its order, with what is suspect of each (built once, here), and open the first."""
    from cxrviz.app import state
    from cxrviz.review.suspects import cleanlab_suspects

    state.set_queue(images, QUEUE_SOURCE, suspects=cleanlab_suspects(queue[queue["image"].isin(images)]))
    state.open_page("pages/review.py", images[0])


FLIPS_SOURCE = "follow-up flips"


@st.cache_resource(show_spinner="Finding follow-up flips…")
def _flips(path: str, mtime_ns: int, _metadata) -> tuple[pd.DataFrame, pd.DataFrame]:
    from cxrviz.data.followups import flip_rates, follow_up_flips

    return follow_up_flips(_metadata), flip_rates(_metadata)


def follow_up_flips(config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(flips, per-finding rates) of the configured metadata, computed once per file version."""
    from cxrviz.app import resources

    metadata = resources.metadata_for(config)
    return _flips(str(metadata.source), mtime(metadata.source), metadata)


def flips_of(config, flips: pd.DataFrame, finding: str | None) -> tuple[pd.DataFrame, list[str]]:
    """The flips of one finding (all when None) and their distinct local images, in order."""
    from cxrviz.app import resources

    chosen = flips if finding is None else flips[flips["finding"] == finding]
    local = chosen["image"].isin(list(resources.image_index(config).paths))
    return chosen, list(dict.fromkeys(chosen.loc[local, "image"]))


def flip_rate_plot(rates: pd.DataFrame) -> go.Figure:
    shown = rates.dropna(subset=["rate"]).sort_values("rate")
    figure = go.Figure(go.Bar(x=shown["rate"], y=shown["finding"], orientation="h", customdata=shown[["flips", "triples"]],
                              hovertemplate="%{y}: %{customdata[0]} of %{customdata[1]} (%{x:.0%})<extra></extra>"))
    figure.update_layout(title="Present at follow-ups i and i+2, absent at i+1", xaxis={"title": "share of such triples",
                         "range": [0, 1], "tickformat": ".0%"}, height=max(300, 26 * len(shown) + 120))
    return figure


def send_flips_to_review(config, flips: pd.DataFrame, images: list[str]) -> None:
    """The flips' local middle images as the Review queue, with the flipping findings and each
    image's prior and next study (found once, here, for the queue's images alone)."""
    from cxrviz.app import resources, state
    from cxrviz.data.followups import adjacent_studies
    from cxrviz.review.suspects import flip_suspects

    queued = flips[flips["image"].isin(images)]
    state.set_queue(images, FLIPS_SOURCE, suspects=flip_suspects(queued),
                    studies=adjacent_studies(resources.metadata_for(config), images))
    state.open_page("pages/review.py", images[0])


DISAGREE_SOURCE = "NIH disagrees with experts"


def disagreement_images(config, expert: ExpertLabels, finding: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """(image, expert finding, direction) where NIH and the experts differ, and the local images among them."""
    from cxrviz.app import resources
    from cxrviz.data.expert import comparison, disagreements

    found = disagreements(comparison(expert))
    if finding is not None:
        found = found[found["finding"] == finding]
    local = found["image"].isin(list(resources.image_index(config).paths))
    return found, list(dict.fromkeys(found.loc[local, "image"]))


def send_disagreements_to_review(config, found: pd.DataFrame, images: list[str]) -> None:
    """The local images where NIH and the experts differ as the Review queue, with which finding
    each disagrees on (built once, here)."""
    from cxrviz.app import resources, state
    from cxrviz.review.suspects import expert_suspects

    queued = found[found["image"].isin(images)]
    state.set_queue(images, DISAGREE_SOURCE, suspects=expert_suspects(queued, resources.metadata_for(config).findings_of))
    state.open_page("pages/review.py", images[0])


def reviewer_statistics(config, expert: ExpertLabels) -> tuple[pd.DataFrame, pd.DataFrame]:
    """NIH against reviewers' corrections, each against the experts, on the images with both an
    expert label and a decided review (`cxrviz.review.expert_corrections`), and the per-finding moves.
    Read from the store on each run (a save elsewhere shows up at once), through the blind-reading
    gate (a blind reader's unread campaign images count only their own review); raises `StoreError`."""
    from cxrviz.app import acting, resources
    from cxrviz.review.expert_corrections import corrections_against_experts
    from cxrviz.review.store import team

    return corrections_against_experts(expert, team.visible_reviews(resources.store_for(config), acting.viewer(config)))


def corrections_plot(stats: pd.DataFrame) -> go.Figure:
    """Per metric and finding, NIH's bar beside the reviewers' (same images), with 95% intervals."""
    figure = go.Figure()
    for labels, part in stats.groupby("labels", sort=False):
        x = [[], []]
        y, high, low = [], [], []
        for key, name in METRICS:
            x[0] += [name.split(" (")[0]] * len(part)
            x[1] += list(part["finding"])
            y += list(part[key])
            high += list(part[f"{key}_high"] - part[key])
            low += list(part[key] - part[f"{key}_low"])
        figure.add_bar(name=f"{labels} labels", x=x, y=y, error_y={"type": "data", "array": high, "arrayminus": low})
    figure.update_layout(barmode="group", yaxis={"range": [0, 1], "title": "share (95% Wilson interval)"},
                         title="NIH labels and reviewers' corrections against the experts (same images)",
                         legend={"orientation": "h"})
    return figure


def moves_caption(moved: pd.DataFrame) -> str:
    """'Pneumothorax: 2 calls changed, 2 toward the experts, 0 away; …' (findings with a change)."""
    changed = moved[moved["changed"] > 0]
    if changed.empty:
        return "The reviewers changed no NIH call on a compared finding of these images."
    return "Reviewers' changes to NIH's calls: " + "; ".join(
        f"{r.finding}: {r.changed} changed, {r.toward_experts} toward the experts, {r.away_from_experts} away"
        for r in changed.itertuples()) + "."
