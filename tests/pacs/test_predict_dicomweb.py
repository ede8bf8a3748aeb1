"""`predict --dicomweb`: batch prediction over a PACS query on both engines, the same probabilities
as the folder path on the same images, resumable, and a PACS that goes down stops the run
(keeping what it finished) instead of writing every image as an error."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from cxrviz.cli import main
from cxrviz.data import dicomweb
from cxrviz.findings import FINDINGS
from cxrviz.model.batch import predict_to_csv

# The DICOM path stretches an image to its own min..max (and applies the 16-bit file's window) where
# a PNG is divided by 255 (data/uploads.py): nearly the same input, so probabilities within 0.1 of
# the folder's. The same file uploaded gives the very same probabilities (to float noise).
MAX_DIFFERENCE, SAME = 0.1, 1e-4


def _rows(path) -> dict[str, dict]:
    with open(path, newline="") as handle:
        return {r["Image Index"]: r for r in csv.DictReader(handle)}


@pytest.fixture()
def cli_env(app_env, orthanc, monkeypatch):
    monkeypatch.setenv("CXRVIZ_DICOMWEB_USER", orthanc.auth[0])
    monkeypatch.setenv("CXRVIZ_DICOMWEB_PASSWORD", orthanc.auth[1])
    return app_env


def test_predict_over_dicomweb_matches_the_folder_and_resumes(cli_env, orthanc, pacs_content, nih_images, tmp_path, capsys):
    made = pacs_content["made"]
    out = tmp_path / "pacs.csv"
    older = [m for m in made if m.age >= 60]
    assert 0 < len(older) < len(made)
    assert main(["predict", "--dicomweb", orthanc.dicomweb, "--age", "60-120", "--out", str(out), "--workers", "0"]) == 0
    assert set(_rows(out)) == {m.sop_uid for m in older}
    assert main(["predict", "--dicomweb", orthanc.dicomweb, "--out", str(out), "--workers", "1"]) == 0  # the rest only
    assert f"added {len(made) - len(older)} rows" in capsys.readouterr().out
    pacs_rows = _rows(out)
    assert set(pacs_rows) == {m.sop_uid for m in made} and not any(r["error"] for r in pacs_rows.values())

    folder = tmp_path / "folder"
    folder.mkdir()
    for m in made:
        (folder / m.source).symlink_to(nih_images / m.source)
    assert main(["predict", "--images", str(folder), "--out", str(tmp_path / "folder.csv"), "--workers", "0"]) == 0
    folder_rows = _rows(tmp_path / "folder.csv")
    for m in made:
        ours = np.array([float(pacs_rows[m.sop_uid][f]) for f in FINDINGS])
        theirs = np.array([float(folder_rows[m.source][f]) for f in FINDINGS])
        assert np.abs(ours - theirs).max() < MAX_DIFFERENCE, (m.source, m.photometric, m.bits)
    from cxrviz.data.uploads import decode_upload
    from cxrviz.model.inference import predict_gray
    from cxrviz.model.registry import bundled_spec, load_model

    model = load_model(bundled_spec(), "cpu")
    for m in made[:3]:  # MONOCHROME1, 16-bit, 8-bit: as the Upload page would show the same file
        uploaded = predict_gray(model, decode_upload(m.to_bytes(), "x.dcm").gray)
        ours = np.array([float(pacs_rows[m.sop_uid][f]) for f in FINDINGS])
        assert np.abs(ours - uploaded).max() < SAME, m.source


def test_predict_needs_a_source_and_sane_ranges(cli_env, orthanc, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CXRVIZ_IMAGES")
    assert main(["predict", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--dicomweb" in capsys.readouterr().err
    assert main(["predict", "--dicomweb", orthanc.dicomweb, "--age", "sixty", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--age" in capsys.readouterr().err
    monkeypatch.delenv("CXRVIZ_DICOMWEB_USER")
    assert main(["predict", "--dicomweb", orthanc.dicomweb, "--out", str(tmp_path / "x.csv")]) == 2
    assert "401" in capsys.readouterr().err


@pytest.mark.parametrize("workers", [0, 1])  # in a DataLoader worker too: the sentence, not torch's traceback text
def test_a_pacs_that_goes_down_stops_the_run_and_keeps_what_was_done(pacs, pacs_content, tmp_path, workers):
    from cxrviz.model.registry import bundled_spec, load_model

    source = dicomweb.PacsSource.query(pacs)
    real = source.loader(dicomweb.Credentials(*pacs.client._session.auth))
    calls = []

    def flaky(ref):
        calls.append(ref)
        if len(calls) > 2:
            raise dicomweb.PacsUnreachableError("The PACS at … cannot be reached")
        return real(ref)

    out = tmp_path / "preds.csv"
    model = load_model(bundled_spec(), "cpu")
    with pytest.raises(dicomweb.PacsUnreachableError) as stopped:
        predict_to_csv(model, source.names, source.refs, out, batch_size=2, load=flaky, workers=workers)
    assert str(stopped.value) == "The PACS at … cannot be reached"
    assert len(_rows(out)) == 2 and not any(r["error"] for r in _rows(out).values())  # the first batch, no error rows
    added = predict_to_csv(model, source.names, source.refs, out, batch_size=2, load=real)
    assert added == len(source.names) - 2 and len(_rows(out)) == len(source.names)


def test_an_image_the_pacs_cannot_give_is_an_error_row_not_a_stop(pacs, orthanc, nih_images, metadata, tmp_path):
    from pydicom.uid import MPEG2MPML

    from cxrviz.model.registry import bundled_spec, load_model
    from tests.pacs.dicom_files import make_instance

    name = "00000353_000.png"
    odd = make_instance(nih_images / name, metadata.table.iloc[metadata.row_of(name)], syntax=MPEG2MPML, study_date="19990101")
    orthanc.upload(odd.to_bytes())
    try:
        source = dicomweb.PacsSource.query(pacs, dicomweb.PacsQuery(date_range=("19990101", "19990101")))
        assert source.names == [odd.sop_uid]
        out = tmp_path / "preds.csv"
        predict_to_csv(load_model(bundled_spec(), "cpu"), source.names, source.refs, out,
                       load=source.loader(dicomweb.Credentials(*orthanc.auth)))
        assert "no decoder" in _rows(out)[odd.sop_uid]["error"]
    finally:
        orthanc.delete(odd.sop_uid)


@pytest.fixture()
def ray_after():
    ray = pytest.importorskip("ray")
    yield
    ray.shutdown()  # the command started a local Ray in this process: leave none for other tests


def test_ray_engine_over_dicomweb(cli_env, orthanc, pacs_content, tmp_path, ray_after):
    from cxrviz.model.ray_engine import read_predictions

    out = tmp_path / "preds.parquet"
    assert main(["predict", "--dicomweb", orthanc.dicomweb, "--engine", "ray", "--out", str(out), "--device", "cpu"]) == 0
    table = read_predictions(out)
    assert set(table["image"]) == {m.sop_uid for m in pacs_content["made"]} and not table["error"].any()
    assert main(["predict", "--dicomweb", orthanc.dicomweb, "--engine", "ray", "--out", str(out), "--device", "cpu"]) == 0
    assert len(read_predictions(out)) == len(pacs_content["made"])  # resumed: nothing added twice
