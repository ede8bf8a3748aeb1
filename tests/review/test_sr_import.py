"""`import --sr`: TID 1500 SRs (cxrviz's and ones built with highdicom directly) into both stores,
the round trip export -> import -> export, and bad input refused with nothing written."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from cxrviz.cli import main
from cxrviz.data.image_index import scan_images
from cxrviz.review import dicom_sr
from cxrviz.review.boxes import ReviewerBox
from cxrviz.review.dicom_sr import report_of, tid1500_sr
from cxrviz.review.measurements import Measurement
from cxrviz.review.sr_import import SrImportRefusedError, import_srs, nih_source_index, review_after
from cxrviz.review.store import Store
from cxrviz.review.store.boxes import list_boxes
from cxrviz.review.store.measurements import list_measurements, measurement_log
from tests.conftest import BOXED_1024, SMALL_512
from tests.review.test_dicom_sr import READER, _independent_sr, _report, _sc

RECT = [[50, 60], [150, 60], [150, 100], [50, 100], [50, 60]]


@pytest.fixture(scope="module")
def index(metadata, nih_images):
    return nih_source_index(metadata, scan_images(nih_images))


def _write(path, dataset):
    dataset.save_as(path, enforce_file_format=True)
    return path


def test_an_sr_built_with_highdicom_directly_becomes_boxes_and_a_review(target, nih_images, metadata, index, tmp_path):
    sc = _sc(nih_images, metadata, SMALL_512)
    sr = _independent_sr(sc, [("POLYLINE", RECT, ("36118008", "SCT", "Pneumothorax")),
                              ("CIRCLE", [[300, 300], [320, 300]], ("27925004", "SCT", "Nodule"))],
                         lengths=[([[10, 10], [40, 50]], 25.0)])
    store = Store(target)
    report = import_srs(store, [_write(tmp_path / "other.dcm", sr)], metadata, None, "lead", index=index)
    boxes = sorted(list_boxes(store), key=lambda b: b.finding)
    assert [(b.reviewer, b.finding, b.frame_width) for b in boxes] == [("Ada Byron", "Nodule", 1024), ("Ada Byron", "Pneumothorax", 1024)]
    assert (boxes[1].x, boxes[1].y, boxes[1].w, boxes[1].h) == pytest.approx((100, 120, 200, 80))
    (review,) = store.reviews()
    assert (review.image, review.reviewer, review.labels) == (SMALL_512, "Ada Byron", ("Nodule", "Pneumothorax"))
    assert review.status == ("confirmed" if metadata.findings_of(SMALL_512) == {"Nodule", "Pneumothorax"} else "corrected")
    assert [a["action"] for a in store.audit(SMALL_512)] == ["import"]
    assert report.boxes_added == 2 and len(report.measurements) == 1 and report.measurements_added == 1
    assert "1 measurements added, 0 already in the store" in report.summary()
    (length,) = list_measurements(store)
    assert (length.reviewer, length.kind, length.image) == ("Ada Byron", "length", SMALL_512)
    assert [c for p in length.points for c in p] == pytest.approx([20, 20, 80, 100])  # the 512-px file's points in the 1024 frame
    assert [e["action"] for e in measurement_log(store)] == ["measure-create"]


def test_round_trip_export_import_export_is_identical(target, nih_images, metadata, index, tmp_path):
    store = Store(target)
    first, paths, sources = {}, [], {}
    for image in (BOXED_1024, SMALL_512):
        sc = sources[image] = _sc(nih_images, metadata, image)
        boxes = [ReviewerBox(image, READER, "Cardiomegaly", 301.37, 402.11, 420.5, 300.25, 1024, 1024),
                 ReviewerBox(image, READER, "Effusion", 700.0, 650.0, 200.0, 150.0, 1024, 1024)]
        spacing = dicom_sr.file_spacing(metadata.table.iloc[metadata.row_of(image)], 1024, 1024)
        measurements = [Measurement(image, READER, "length", ((100.5, 120.25), (300.0, 240.0)), 1024, 1024, spacing),
                        Measurement(image, READER, "ctr", ((380.0, 600.0), (720.0, 600.0), (200.0, 640.0), (880.0, 640.0)), 1024, 1024)]
        first[image] = dicom_sr.to_bytes(tid1500_sr(_report(image, ("Cardiomegaly", "Effusion")), boxes, measurements, sc))
        paths.append(tmp_path / f"{image}.dcm")
        paths[-1].write_bytes(first[image])
    result = import_srs(store, paths, metadata, None, "lead", index=index)
    assert result.boxes_added == 4
    for reading in result.readings:
        (image,) = reading.images
        stored_measurements = list_measurements(store, image=image)
        assert len(stored_measurements) == 2
        again = tid1500_sr(report_of(reading, image), list_boxes(store, image=image), stored_measurements, sources[image])
        assert dicom_sr.to_bytes(again) == first[image], image
    # importing the same files again changes nothing
    before = store.audit()
    repeat = import_srs(store, paths, metadata, None, "lead", index=index)
    assert repeat.boxes_added == 0 and repeat.boxes_already == 4 and repeat.reviews == () and repeat.measurements_added == 0
    assert store.audit() == before


def _bad_file(case, sc, tmp_path, nih_images):
    path = tmp_path / f"{case.replace(' ', '_')}.dcm"
    if case == "not DICOM":
        path.write_bytes((nih_images / SMALL_512).read_bytes())
    elif case == "not an SR":
        sc.save_as(path, enforce_file_format=True)
    elif case == "unknown image":
        other = pydicom.Dataset()
        other.update(sc)
        other.SOPInstanceUID = generate_uid()
        _write(path, _independent_sr(other, [("POLYLINE", RECT, ("36118008", "SCT", "Pneumothorax"))]))
    elif case == "zero length":  # read fine, refused by the rules a measurement drawn here must pass
        _write(path, _independent_sr(sc, [("POLYLINE", RECT, ("36118008", "SCT", "Pneumothorax"))],
                                     lengths=[([[10, 10], [10, 10]], 0.0)]))
    elif case == "outside":
        _write(path, _independent_sr(sc, [("POLYLINE", [[400, 400], [600, 400], [600, 500], [400, 500], [400, 400]],
                                            ("36118008", "SCT", "Pneumothorax"))]))
    return path


@pytest.mark.parametrize("case, expected", [
    ("not DICOM", "is not a DICOM file"),
    ("not an SR", "not a structured report"),
    ("unknown image", "which is no NIH image cxrviz knows"),
    ("outside", "coordinates outside the 512×512 image"),
    ("zero length", "its length on 00000282_000.png"),
])
def test_one_bad_file_and_nothing_is_written(target, nih_images, metadata, index, tmp_path, case, expected):
    sc = _sc(nih_images, metadata, SMALL_512)
    good = _write(tmp_path / "good.dcm", _independent_sr(sc, [("POLYLINE", RECT, ("36118008", "SCT", "Pneumothorax"))]))
    bad = _bad_file(case, sc, tmp_path, nih_images)
    store = Store(target)
    with pytest.raises(SrImportRefusedError) as caught:
        import_srs(store, [good, bad], metadata, None, "lead", index=index)
    assert caught.value.problems and all(source == str(bad) for source, _ in caught.value.problems)
    assert expected in str(caught.value) and str(caught.value).startswith("Nothing was imported: 1 problem in 1 of the SR files")
    assert list_boxes(store) == [] and store.reviews() == [] and store.audit() == []


def test_the_findings_are_added_to_the_readers_review_never_removed(target, nih_images, metadata, index, tmp_path):
    store = Store(target)
    store.save_review(SMALL_512, "ada byron", ["Effusion"], "corrected", "my note")
    sc = _sc(nih_images, metadata, SMALL_512)
    path = _write(tmp_path / "sr.dcm", _independent_sr(sc, [("POLYLINE", RECT, ("36118008", "SCT", "Pneumothorax"))]))
    import_srs(store, [path], metadata, None, "lead", index=index)
    (review,) = store.reviews()
    assert review.labels == ("Effusion", "Pneumothorax") and review.note == "my note" and review.reviewer == "ada byron"
    assert [b.reviewer for b in list_boxes(store)] == ["ada byron"]  # the same reader, however the SR spells the name
    audits = len(store.audit())
    again = import_srs(store, [path], metadata, None, "lead", index=index)
    assert again.reviews == () and len(store.audit()) == audits  # already present: nothing written


def test_reviews_and_boxes_commit_together(target, nih_images, metadata, index, tmp_path):
    """Past the per-reader box limit the store refuses inside the transaction: the review goes too."""
    sc = _sc(nih_images, metadata, SMALL_512)
    regions = [("POLYLINE", [[x, 10], [x + 10, 10], [x + 10, 20], [x, 20], [x, 10]], ("27925004", "SCT", "Nodule"))
               for x in range(0, 21 * 20, 20)]
    path = _write(tmp_path / "many.dcm", _independent_sr(sc, regions))
    store = Store(target)
    with pytest.raises(SrImportRefusedError, match="Ada Byron would have more than 20 boxes on 00000282_000.png"):
        import_srs(store, [path], metadata, None, "lead", index=index)
    assert store.reviews() == [] and list_boxes(store) == []


def test_review_after_rules():
    assert review_after(None, SMALL_512, "Ada", set(), "2026-01-01T00:00:00.000000Z", set()) is None
    new = review_after(None, SMALL_512, "Ada", {"Mass", "Atelectasis"}, "2026-01-01T00:00:00.000000Z", {"Mass"})
    assert new.labels == ("Atelectasis", "Mass") and new.status == "corrected" and new.updated_at == "2026-01-01T00:00:00.000000Z"
    same = review_after(None, SMALL_512, "Ada", {"Mass"}, "2026-01-01T00:00:00.000000Z", {"Mass"})
    assert same.status == "confirmed"


def test_cli_imports_and_refuses_with_a_sentence(tmp_path, nih_images, metadata, capsys):
    sc = _sc(nih_images, metadata, SMALL_512)
    good = _write(tmp_path / "good.dcm", _independent_sr(sc, [("POLYLINE", RECT, ("36118008", "SCT", "Pneumothorax"))]))
    bad = _bad_file("outside", sc, tmp_path, nih_images)
    db = str(tmp_path / "s.sqlite")
    assert main(["import", "--sr", str(good), str(bad), "--db", db, "--images", str(nih_images), "--as", "lead"]) == 2
    err = capsys.readouterr().err
    assert "error: Nothing was imported" in err and f"{bad}: planar ROI group 1" in err and "Traceback" not in err
    assert list_boxes(Store(db)) == []
    assert main(["import", "--sr", str(good), "--db", db, "--images", str(nih_images), "--as", "lead"]) == 0
    out = capsys.readouterr().out
    assert "imported 1 SR file (Ada Byron)" in out and "1 boxes added" in out
    assert np.isclose(list_boxes(Store(db))[0].w, 200)


def test_dry_run_says_what_would_change_and_writes_nothing(tmp_path, nih_images, metadata, index):
    sc = _sc(nih_images, metadata, SMALL_512)
    path = _write(tmp_path / "sr.dcm", _independent_sr(sc, [("POLYLINE", RECT, ("36118008", "SCT", "Pneumothorax"))]))
    store = Store(str(tmp_path / "s.sqlite"))
    store.save_review(SMALL_512, "Ada Byron", ["Effusion"], "corrected")
    audits = store.audit()
    report = import_srs(store, [path], metadata, None, "lead", dry_run=True, index=index)
    assert [(r.labels, outcome) for r, outcome in report.reviews] == [(("Effusion", "Pneumothorax"), "updated")]
    assert report.boxes_added == 1 and report.summary().startswith("would import 1 SR file (Ada Byron)")
    assert list_boxes(store) == [] and store.audit() == audits and store.reviews()[0].labels == ("Effusion",)
