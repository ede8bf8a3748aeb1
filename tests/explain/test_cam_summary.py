"""The CAM summary's pieces on constructed maps (the engines' agreement is in tests/model/test_ray_engine.py)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cxrviz.data.boxes import box_from_heatmap
from cxrviz.errors import CxrvizError
from cxrviz.explain.cam_summary import chosen_findings, parse_findings, read_summary, summarise_map
from cxrviz.findings import FINDINGS


def _inside(s: dict) -> bool:
    return s["box_x"] <= s["peak_x"] < s["box_x"] + s["box_w"] and s["box_y"] <= s["peak_y"] < s["box_y"] + s["box_h"]


def test_box_is_the_viewers_box_and_the_peak_its_hottest_pixel():
    cam = np.zeros((100, 120), dtype=np.float32)
    cam[20:60, 30:90] = 0.6  # the largest region at or above half the peak: the viewer's box
    cam[40, 70] = 0.9
    cam[90, 5] = 1.0  # a hotter single pixel outside it
    s = summarise_map(cam)
    box = box_from_heatmap(cam)
    assert (s["box_x"], s["box_y"], s["box_w"], s["box_h"]) == (box.x, box.y, box.w, box.h) == (30, 20, 60, 40)
    assert (s["peak_x"], s["peak_y"]) == (70, 40) and _inside(s)
    assert all(type(v) is int for v in s.values())


def test_a_plateau_peak_is_its_centre():
    """Bilinear upsampling flattens a map within half a cell of the border: a corner maximum is a square."""
    small = np.array([[1.0, 0.2, 0.0], [0.2, 0.1, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    cam = F.interpolate(torch.from_numpy(small)[None, None], size=(300, 300), mode="bilinear",
                        align_corners=False)[0, 0].numpy()
    rows, cols = np.nonzero(cam >= 1 - 1e-6)
    assert rows.max() == cols.max() == 49 and len(rows) == 50 * 50  # cells of 100 px: a 50-px square plateau
    s = summarise_map(cam)
    assert s["box_x"] == s["box_y"] == 0 and _inside(s)
    assert (s["peak_x"], s["peak_y"]) in {(24, 24), (25, 25), (24, 25), (25, 24)}  # its centre, not (0, 0)


def test_a_flat_map_has_no_summary():
    assert summarise_map(np.zeros((64, 64), dtype=np.float32)) is None


def test_chosen_findings():
    probs = np.linspace(0.05, 0.7, len(FINDINGS))
    thresholds = np.full(len(FINDINGS), 0.5)
    thresholds[-1] = np.nan  # a torchxrayvision label without a threshold is never chosen
    at_or_above = chosen_findings(probs, thresholds, "threshold")
    assert at_or_above == [k for k in range(len(FINDINGS) - 1) if probs[k] >= 0.5] and at_or_above
    assert chosen_findings(probs, thresholds, "all") == list(range(len(FINDINGS)))
    assert chosen_findings(probs, thresholds, ("Nodule", "Effusion")) == [FINDINGS.index("Effusion"), FINDINGS.index("Nodule")]


def test_parse_findings():
    assert parse_findings("threshold") == "threshold" and parse_findings(" ALL ") == "all"
    assert parse_findings("effusion, Nodule,Effusion") == ("Effusion", "Nodule")
    for bad in ("Effusion,Lung cancer", "", ","):
        with pytest.raises(CxrvizError, match="Unknown finding"):
            parse_findings(bad)


def test_read_summary():
    assert read_summary(None) == read_summary("") == read_summary(float("nan")) == {}
    assert read_summary('{"Nodule":null}') == {"Nodule": None}
