"""The figures' readability (issue 24): values users can read, axes with titles and units, whole
counts; and the heatmap's default finding is the top bar as shown."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from cxrviz.app import plots
from cxrviz.findings import FINDINGS
from tests.conftest import REPO, SMALL_512


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    probs = rng.uniform(0, 1, len(FINDINGS))
    return pd.DataFrame({"finding": FINDINGS, "probability": probs, "threshold": probs,  # ticks right at the bar ends
                         "nih_label": [i == 2 for i in range(len(FINDINGS))], "raw": probs, "calibrated": True})


def test_probability_values_are_readable_and_never_under_a_threshold_tick():
    fig = plots.probability_bar(_table())
    values = {a.y: a for a in fig.layout.annotations}
    assert set(values) == set(FINDINGS)
    for finding, probability in zip(FINDINGS, _table()["probability"]):
        note = values[finding]
        assert note.text == f"{probability:.2f}" and note.font.size >= 12
        # right of the plot area (paper x = 1 is its right edge): a tick in [0, 1] cannot cover it
        assert note.xref == "paper" and note.x >= 1.0 and note.xanchor == "left"
    assert fig.data[0].text is None  # no 7-px text inside the bars any more
    assert fig.layout.xaxis.title.text == "calibrated probability"
    assert fig.layout.margin.r >= 40  # room for the values


def test_top_finding_is_the_highest_shown_value():
    shown = np.zeros(len(FINDINGS))
    shown[FINDINGS.index("Effusion")] = 0.54
    shown[FINDINGS.index("Consolidation")] = 0.34
    assert FINDINGS[plots.top_finding(shown)] == "Effusion"
    assert plots.top_finding(None) == 0


def test_age_histogram_counts_whole_images_in_five_year_bins():
    few = pd.DataFrame({"age": [30.0, 31.0, 44.0, 70.0, 71.0], "gender": pd.Categorical(["M", "F", "F", "M", "M"])})
    fig = plots.age_histogram(few)
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.tickformat == ",d"  # no tick at 0.5
    assert fig.layout.yaxis.title.text == "images" and "years" in fig.layout.xaxis.title.text
    assert all(trace.xbins.size == plots.AGE_BIN for trace in fig.data)
    assert fig.layout.yaxis.range[1] >= 2  # the 70 and 71-year-old men share a bar
    many = pd.DataFrame({"age": np.full(40, 50.0), "gender": pd.Categorical(["F"] * 40)})
    assert plots.age_histogram(many).layout.yaxis.dtick is None  # Plotly's own integer steps beyond 8


def test_age_bins_cover_every_age():
    edges = plots.age_bins(pd.Series([3.0, 94.0]))
    assert edges[0] == 0 and edges[-1] == 95 and np.all(np.diff(edges) == 5)


def test_image_explains_the_top_calibrated_finding_first(app_env):
    """00000282_000.png: the raw top is Consolidation, the calibrated bars put Effusion on top;
    the heatmap's finding must be the one on top of the bars."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=240)
    at.query_params["image"] = SMALL_512
    at.switch_page("pages/image.py").run()
    assert not at.exception, [e.value for e in at.exception]

    def top_bar(at):
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        bar = next(t for t in spec["data"] if t.get("type") == "bar")
        return bar["y"][-1]  # sorted ascending: the last bar is drawn on top

    chosen = next(s for s in at.selectbox if s.label == "Finding to explain")
    assert chosen.value == top_bar(at)
    at.toggle(key="image_calibrated").set_value(False).run()
    raw_top = top_bar(at)
    assert raw_top != chosen.value  # this image is one where calibration changes the top finding
