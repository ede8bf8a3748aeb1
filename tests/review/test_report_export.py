"""`python -m cxrviz export --reports DIR --format text`: one file per signed report version,
safe file names, the signature in each, drafts left out, and `--as` through the blind gate."""

from __future__ import annotations

import os
import subprocess
import sys

from cxrviz.review.campaigns import CampaignSpec
from cxrviz.review.store import Store, team
from cxrviz.review.store import reports as stored
from tests.conftest import REPO

IMAGE, OTHER = "00001511_000.png", "00009745_000.png"


def _export(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("CXRVIZ_DB", "CXRVIZ_METADATA"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "cxrviz", "export", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def test_every_signed_version_becomes_one_text_file_and_drafts_stay_out(tmp_path):
    db = str(tmp_path / "reviews.sqlite")
    store = Store(db)
    stored.save_text(store, IMAGE, "ann", "Nodule in the right upper zone.", ["Nodule"])
    stored.sign(store, IMAGE, "ann", 1, at="2026-12-03T11:00:00.000000Z")
    stored.start_new_version(store, IMAGE, "ann", 1)
    stored.save_text(store, IMAGE, "ann", "Nodule in the right upper zone, smaller.", expected_version=2)
    stored.sign(store, IMAGE, "ann", 2, at="2026-12-03T12:00:00.000000Z")
    stored.save_text(store, OTHER, "Dr Bob/../x", "Cardiomegaly.", ["Cardiomegaly"])
    stored.sign(store, OTHER, "Dr Bob/../x", 1, at="2026-12-03T13:00:00.000000Z")
    stored.save_text(store, OTHER, "ann", "An unsigned draft.")  # not exported

    out = tmp_path / "out" / "reports"
    done = _export("--db", db, "--reports", str(out), "--format", "text", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "exported 3 signed reports as text" in done.stdout
    files = sorted(p.name for p in out.iterdir())
    assert files[:2] == ["00001511_000__ann__v1.txt", "00001511_000__ann__v2.txt"]
    assert len(files) == 3 and files[2].startswith("00009745_000__Dr-Bob-x-") and files[2].endswith("__v1.txt")
    assert (out / files[0]).read_text() == ("Nodule in the right upper zone.\n\n"
                                            "Signed by ann at 2026-12-03 11:00:00 UTC (version 1)\n")
    assert (out / files[1]).read_text().startswith("Nodule in the right upper zone, smaller.\n")
    assert not (tmp_path / "corrections.csv").exists()  # reports only: no label files unless asked for

    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("")
    refused = _export("--db", db, "--reports", str(not_a_folder), cwd=tmp_path)
    assert refused.returncode != 0 and "is a file; give --reports a folder" in refused.stderr


def test_export_as_a_blind_reader_leaves_out_others_reports_they_may_not_see(tmp_path):
    db = str(tmp_path / "reviews.sqlite")
    store = Store(db)
    team.sign_in(store, "Admin")
    team.create_campaign(store, "Admin", CampaignSpec("blind", (IMAGE,), ("ann", "bob"), 2, blind=True))
    for reader in ("ann", "bob"):
        stored.save_text(store, IMAGE, reader, f"{reader}'s report.", [])
        stored.sign(store, IMAGE, reader, 1)
    store.save_review(IMAGE, "ann", ["Mass"], "corrected")
    done = _export("--db", db, "--reports", str(tmp_path / "bob"), "--as", "bob", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "bob").iterdir()) == ["00001511_000__bob__v1.txt"]


def test_fhir_and_sr_exports_carry_the_signed_report_and_its_boxes(tmp_path, nih_images):
    import pydicom
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport

    from cxrviz.review.boxes import ReviewerBox
    from cxrviz.review.dicom_sr import image_uids
    from cxrviz.review.store import boxes as stored_boxes

    db = str(tmp_path / "reviews.sqlite")
    store = Store(db)
    stored_boxes.add_box(store, ReviewerBox(IMAGE, "ann", "Nodule", 600.0, 200.0, 80.0, 60.0, 1024, 1024))
    stored.save_text(store, IMAGE, "ann", "Nodule in the left upper zone.\n\nIMPRESSION:\n1. Nodule.", ["Nodule"])
    stored.sign(store, IMAGE, "ann", 1, at="2026-12-03T11:00:00.000000Z")

    fhir_dir, sr_dir = tmp_path / "fhir", tmp_path / "sr"
    done = _export("--db", db, "--reports", str(fhir_dir), "--format", "fhir", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (json_file,) = fhir_dir.iterdir()
    report = DiagnosticReport.model_validate_json(json_file.read_text())
    assert report.status == "final" and "Nodule" in report.conclusion

    missing = _export("--db", db, "--reports", str(sr_dir), "--format", "sr", "--images", str(tmp_path / "none"), cwd=tmp_path)
    assert missing.returncode != 0 and "not in the images folder" in missing.stderr and "Traceback" not in missing.stderr
    done = _export("--db", db, "--reports", str(sr_dir), "--format", "sr", "--images", str(nih_images), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (sr_file,) = sr_dir.iterdir()
    sr = pydicom.dcmread(sr_file)
    assert sr.Modality == "SR" and sr.VerificationFlag == "VERIFIED"
    referenced = {item.ReferencedSOPInstanceUID for item in sr.CurrentRequestedProcedureEvidenceSequence[0]
                  .ReferencedSeriesSequence[0].ReferencedSOPSequence}
    assert referenced == {image_uids(IMAGE)["sop"]}
    def datasets(ds):
        yield ds
        for element in ds:
            if element.VR == "SQ":
                for item in element.value:
                    yield from datasets(item)

    polylines = [list(item.GraphicData) for item in datasets(sr) if getattr(item, "GraphicType", None) == "POLYLINE"]
    # the box in the 1024 frame, in the pixels of the 512-px file the Secondary Capture is made of
    assert [[round(v) for v in data] for data in polylines] == [[300, 100, 340, 100, 340, 130, 300, 130, 300, 100]]
