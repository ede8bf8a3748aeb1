"""Reviewer boxes out and in: the BBox_List-shaped CSV, COCO JSON, the byte-identical round trip."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from cxrviz.data.boxes import load_boxes
from cxrviz.errors import MetadataError
from cxrviz.review.box_export import BOX_COLUMNS, boxes_coco, boxes_csv, import_boxes
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.store import Store
from cxrviz.review.store.boxes import add_box, list_boxes
from tests.conftest import REPO


def _seed(store: Store) -> None:
    add_box(store, ReviewerBox("00000001_000.png", "ann", "Mass", 100.25, 200.5, 50, 40, 1024, 1024), at="2026-01-01T10:00:00.000000Z")
    # a 2048 x 2500 original: stored in its own frame, exported in the 1024 frame
    add_box(store, ReviewerBox("00000002_000.png", "=cmd|' /C calc'!A0", "Nodule", 200, 250, 100, 50, 2048, 2500),
            at="2026-01-02T10:00:00.000000Z")
    add_box(store, ReviewerBox("00000001_000.png", "bob", "Cardiomegaly", 300, 400, 400, 300, 1024, 1024, "wrong",
                               "00000001_000.png:Cardiomegaly:0"), at="2026-01-03T10:00:00.000000Z")
    add_box(store, ReviewerBox("00000001_000.png", "bob", "Cardiomegaly", 310, 390, 380, 320, 1024, 1024, "corrected",
                               "00000001_000.png:Cardiomegaly:0"), at="2026-01-03T10:01:00.000000Z")


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_csv_has_the_nih_shape_in_the_1024_frame_and_neutralises_formulas(tmp_path):
    store = Store(str(tmp_path / "a.sqlite"))
    _seed(store)
    data = boxes_csv(list_boxes(store))
    rows = _rows(data)
    assert rows[0] == BOX_COLUMNS and rows[0][:6] == ["Image Index", "Finding Label", "x", "y", "w", "h"]
    assert rows[1] == ["00000001_000.png", "Mass", "100.25", "200.50", "50.00", "40.00", "ann", "drawn", "", "2026-01-01T10:00:00.000000Z", "1024", "1024"]
    nodule = next(r for r in rows if r[1] == "Nodule")
    assert nodule[2:6] == ["100.00", "102.40", "50.00", "20.48"]  # 200*1024/2048, 250*1024/2500, ...
    assert nodule[6] == "'=cmd|' /C calc'!A0"  # a formula in a cell is neutralised
    assert [r[7] for r in rows[1:]] == ["drawn", "wrong", "corrected", "drawn"]
    # the NIH reader reads it as it reads BBox_List_2017.csv
    path = tmp_path / "boxes.csv"
    path.write_bytes(data)
    table = load_boxes(path)
    assert list(table["finding"]) == ["Mass", "Cardiomegaly", "Cardiomegaly", "Nodule"] and table["x"].iloc[0] == 100.25


def test_coco_json_in_the_image_frame_without_wrong_marks(tmp_path):
    store = Store(str(tmp_path / "a.sqlite"))
    _seed(store)
    coco = json.loads(boxes_coco(list_boxes(store)))
    assert [c["name"] for c in coco["categories"]][:2] == ["Atelectasis", "Cardiomegaly"] and len(coco["categories"]) == 14
    assert {i["file_name"]: (i["width"], i["height"]) for i in coco["images"]} == {"00000001_000.png": (1024, 1024), "00000002_000.png": (2048, 2500)}
    assert len(coco["annotations"]) == 3  # the wrong mark is not an object
    nodule = next(a for a in coco["annotations"] if a["category_id"] == 6)
    assert nodule["bbox"] == [200, 250, 100, 50] and nodule["area"] == 5000
    assert coco["images"][nodule["image_id"] - 1]["file_name"] == "00000002_000.png"


def test_export_import_export_round_trip_is_byte_identical(target, tmp_path):
    source = Store(str(tmp_path / "a.sqlite"))
    _seed(source)
    first = boxes_csv(list_boxes(source))
    empty = Store(target)
    assert import_boxes(empty, first) == 4
    assert boxes_csv(list_boxes(empty)) == first
    assert boxes_coco(list_boxes(empty)) == boxes_coco(list_boxes(source))
    assert import_boxes(empty, first) == 0  # importing twice adds nothing
    assert [b.reviewer for b in list_boxes(empty)].count("=cmd|' /C calc'!A0") == 1


def test_import_refuses_bad_files_before_writing(tmp_path):
    store = Store(str(tmp_path / "a.sqlite"))
    with pytest.raises(MetadataError, match="columns"):
        import_boxes(store, b"Image Index,Finding Labels\n")
    good = "00000001_000.png,Mass,1,1,5,5,ann,drawn,,2026-01-01T00:00:00Z,1024,1024\n"
    bad = "00000001_000.png,Mass,1,1,0,5,ann,drawn,,2026-01-01T00:00:00Z,1024,1024\n"
    with pytest.raises(MetadataError, match="line 3.*no area"):
        import_boxes(store, (",".join(BOX_COLUMNS) + "\n" + good + bad).encode())
    with pytest.raises(MetadataError, match="line 2"):
        import_boxes(store, (",".join(BOX_COLUMNS) + "\n" + good.replace("Mass", "Broken Leg")).encode())
    assert list_boxes(store) == []
    with pytest.raises(MetadataError, match="cannot be read"):
        import_boxes(store, tmp_path / "missing.csv")


def test_cli_export_and_import_round_trip(tmp_path):
    db = tmp_path / "a.sqlite"
    _seed(Store(str(db)))
    run = [sys.executable, "-m", "cxrviz"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # run from tmp_path, to see that no label files appear there
    out = subprocess.run([*run, "export", "--db", str(db), "--boxes", str(tmp_path / "b.csv"), "--coco", str(tmp_path / "b.json")],
                         check=True, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert "exported 4 boxes" in out.stdout and not (tmp_path / "corrections.csv").exists()
    subprocess.run([*run, "import", "--boxes", str(tmp_path / "b.csv"), "--db", str(tmp_path / "c.sqlite")], check=True, cwd=tmp_path, env=env)
    subprocess.run([*run, "export", "--db", str(tmp_path / "c.sqlite"), "--boxes", str(tmp_path / "c.csv")], check=True, cwd=tmp_path, env=env)
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()
    assert json.loads((tmp_path / "b.json").read_text())["annotations"]
    nothing = subprocess.run([*run, "import", "--db", str(db)], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert nothing.returncode == 2 and "--boxes FILE" in nothing.stderr


def test_localize_ground_truth_reads_reviewer_boxes_without_wrong_marks(tmp_path):
    from cxrviz.commands._boxes import ground_truth

    store = Store(str(tmp_path / "a.sqlite"))
    _seed(store)
    path = tmp_path / "boxes.csv"
    path.write_bytes(boxes_csv(list_boxes(store)))
    table = ground_truth(path)
    assert list(table["finding"]) == ["Mass", "Cardiomegaly", "Nodule"]  # bob's wrong mark is gone, his correction kept
    assert table.loc[1, "x"] == 310.0
    assert len(ground_truth(None)) == len(load_boxes())  # the NIH table is read as before
