import numpy as np
import pytest

from cxrviz.data.boxes import Box, box_from_heatmap, iobb, iou, load_boxes, scale_box
from cxrviz.errors import MetadataError
from cxrviz.findings import FINDINGS


def test_real_box_table(boxes):
    assert len(boxes) == 984
    assert boxes["image"].nunique() == 880
    assert set(boxes["finding"]) <= set(FINDINGS)
    assert "Infiltrate" not in set(boxes["finding"])
    assert (boxes["finding"] == "Infiltration").sum() == 123


def test_box_file_errors(tmp_path):
    bad = tmp_path / "b.csv"
    bad.write_text("Image Index,Finding Label\nx.png,Mass\n")
    with pytest.raises(MetadataError, match="does not look like BBox_List_2017.csv"):
        load_boxes(bad)
    bad.write_text("Image Index,Finding Label,Bbox [x,y,w,h]\nx.png,Mass,a,1,2,3\n")
    with pytest.raises(MetadataError, match="not finite numbers"):
        load_boxes(bad)


def test_scaling_between_512_and_1024():
    box = Box(100, 200, 300, 400)
    assert scale_box(box, 512, 512) == Box(50, 100, 150, 200)
    assert scale_box(box, 1024, 1024) == box
    assert scale_box(scale_box(box, 512, 512), 1024, 1024, frame=512) == box


def test_iou_and_iobb_hand_computed():
    a, b = Box(0, 0, 10, 10), Box(5, 0, 10, 10)
    assert iou(a, b) == pytest.approx(50 / 150)
    assert iobb(a, b) == pytest.approx(0.5)
    inner, outer = Box(2, 2, 4, 4), Box(0, 0, 10, 10)
    assert iobb(inner, outer) == 1.0  # a detection inside the truth covers it fully by IoBB
    assert iou(inner, outer) == pytest.approx(16 / 100)
    assert iou(a, Box(20, 20, 5, 5)) == 0.0


def test_box_from_heatmap_finds_the_largest_blob():
    heat = np.zeros((100, 120), dtype=np.float32)
    heat[10:30, 20:60] = 1.0  # 20 × 40 blob
    heat[70:75, 100:105] = 0.9  # smaller blob above threshold
    assert box_from_heatmap(heat, 0.5) == Box(20, 10, 40, 20)
    assert box_from_heatmap(np.zeros((5, 5)), 0.5) is None


def test_boxes_with_infinite_or_non_positive_sizes_are_refused(tmp_path):
    import pytest

    from cxrviz.data.boxes import load_boxes
    from cxrviz.errors import MetadataError

    path = tmp_path / "BBox_List_2017.csv"
    path.write_text("Image Index,Finding Label,Bbox [x,y,w,h]\n00000001_000.png,Mass,10,10,50,50\n"
                    "00000002_000.png,Mass,10,10,inf,50\n00000003_000.png,Mass,10,10,-5,50\n00000004_000.png,Mass,10,10,50,0\n")
    with pytest.raises(MetadataError, match="3 boxes .* at lines 3, 4, 5"):
        load_boxes(path)
