"""The Image page's walk through the Browse results, its messages for a name that leads nowhere, and counts in words."""

from __future__ import annotations

import numpy as np

from cxrviz.app.image_nav import missing_image, walk
from cxrviz.app.links import unknown_page
from cxrviz.app.scorecam import first_line
from cxrviz.app.wording import count

NAMES = np.array(["00000001_000.png", "00000002_000.png", "00000003_000.png", "00000004_000.png"])
PRESENT = np.array([True, False, True, True])


def test_walk_follows_browse_order_and_skips_images_not_here():
    route = walk(NAMES, np.array([3, 1, 0]), PRESENT)
    assert route.names == ["00000004_000.png", "00000001_000.png"]
    assert route.neighbours("00000004_000.png") == (None, "00000001_000.png")
    assert route.neighbours("00000001_000.png") == ("00000004_000.png", None)
    assert route.where("00000001_000.png") == "2 of 2 Browse results"
    assert route.neighbours("00000003_000.png") == (None, "00000004_000.png")  # outside the results: next is the first
    assert route.where("00000003_000.png") == "not among the 2 Browse results"
    alone = walk(NAMES, None, PRESENT)  # no Browse filter in this session: every local image
    assert alone.names == ["00000001_000.png", "00000003_000.png", "00000004_000.png"]
    assert alone.where("00000003_000.png") == "2 of 3 local images"
    assert walk(NAMES, np.array([0]), PRESENT).where("00000001_000.png") == "1 of 1 Browse result"


def test_a_walk_is_built_once_per_browse_filter_and_folder_state():
    rows = np.array([3, 1, 0])
    route = walk(NAMES, rows, PRESENT)
    assert walk(NAMES, rows.copy(), PRESENT.copy()) is route  # the same filter in a new run: not rebuilt
    assert walk(NAMES, np.array([3, 0]), PRESENT) is not route  # another filter
    added = PRESENT.copy()
    added[1] = True  # an image arrived in the folder
    assert walk(NAMES, rows, added).names == ["00000004_000.png", "00000002_000.png", "00000001_000.png"]
    assert walk(NAMES, None, PRESENT) is not walk(NAMES, None, added)


def test_missing_image_blames_the_name_or_the_folder():
    text, folder = missing_image("typo.png", False, "images")
    assert "not an NIH ChestX-ray14 image name" in text and "images" not in text.split(":")[0] and not folder
    text, folder = missing_image("99999999_000.png", False, "images")
    assert "not in the NIH metadata" in text and not folder
    text, folder = missing_image("00000001_000.png", True, "images")
    assert "not in the image folder images" in text and folder
    assert "none is configured" in missing_image("00000001_000.png", True, None)[0]


def test_unknown_page_names_only_pages_that_do_not_exist():
    known = ["browse", "image", "upload"]
    assert unknown_page("nosuchpage", known) == "nosuchpage"
    assert unknown_page("/image", known) is None and unknown_page("", known) is None and unknown_page(None, known) is None


def test_counts_in_words():
    assert count(1, "local image") == "1 local image" and count(2, "local image") == "2 local images"
    assert count(0, "image") == "0 images" and count(1204, "image") == "1,204 images"
    assert count(2, "study", "studies") == "2 studies"


def test_scorecam_first_line_uses_the_last_measured_rate():
    assert "timing the first batch" in first_line(None)
    assert first_line((0.366, 320)) == "ScoreCAM: 320 channels · about 2 min at the rate measured here last time"  # 117 s
