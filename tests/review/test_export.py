import csv
import io

import pandas as pd

from cxrviz.data.metadata import load_metadata
from cxrviz.review.export import corrections_csv, data_entry_csv, neutralise, restore
from cxrviz.review.imports import import_corrections
from cxrviz.review.store import Store


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def _seed(store: Store) -> None:
    store.save_review("00000001_000.png", "ann", ["Cardiomegaly", "Mass"], "corrected", "=HYPERLINK(\"http://x\")",
                      model="m", probabilities={"Mass": 0.75, "Cardiomegaly": 0.5})
    store.save_review("00000001_001.png", "bob", ["Emphysema"], "uncertain", "+1 -- ask @sam\r\nsecond line, «ü»")
    store.save_review("00000001_000.png", "bob", [], "confirmed", "'quoted")


def test_corrections_csv_columns_and_changes(tmp_path, metadata):
    store = Store(str(tmp_path / "a.sqlite"))
    _seed(store)
    rows = _rows(corrections_csv(store.reviews(), metadata))
    first = next(r for r in rows if r["Reviewer"] == "ann")
    assert first["Original Labels"] == "Cardiomegaly"
    assert first["Corrected Labels"] == "Cardiomegaly|Mass"
    assert first["Added"] == "Mass" and first["Removed"] == ""
    assert first["P(Mass)"] == "0.750000" and first["Model"] == "m"
    assert first["Reviewed At"].endswith("Z")
    bob = next(r for r in rows if r["Reviewer"] == "bob" and r["Image Index"] == "00000001_000.png")
    assert bob["Corrected Labels"] == "No Finding" and bob["Removed"] == "Cardiomegaly"


def test_formula_cells_are_neutralised(tmp_path, metadata):
    store = Store(str(tmp_path / "a.sqlite"))
    _seed(store)
    text = corrections_csv(store.reviews(), metadata).decode("utf-8")
    for row in _rows(text.encode()):
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert "'=HYPERLINK" in text and "''quoted" in text
    for raw in ["=1+1", "+x", "-x", "@x", "\tx", "\rx", "'x", "''x", "'", "plain", ""]:
        assert restore(neutralise(raw)) == raw


def test_import_reproduces_the_same_state(tmp_path, metadata):
    source = Store(str(tmp_path / "a.sqlite"))
    _seed(source)
    exported = corrections_csv(source.reviews(), metadata)
    target = Store(str(tmp_path / "b.sqlite"))
    assert import_corrections(target, exported, metadata).counts["new"] == 3
    assert target.reviews() == source.reviews()
    assert corrections_csv(target.reviews(), metadata) == exported


def test_data_entry_export_applies_latest_corrections(tmp_path, metadata):
    store = Store(str(tmp_path / "a.sqlite"))
    _seed(store)
    path = tmp_path / "Data_Entry_2017.csv"
    path.write_bytes(data_entry_csv(store.reviews(), metadata))
    reloaded = load_metadata(path)  # drops into our own loader (and any pipeline reading the 2017 file)
    assert len(reloaded) == len(metadata)
    labels = dict(zip(reloaded.table["image"].head(3), reloaded.table["finding_labels"].head(3)))
    assert labels["00000001_000.png"] == "No Finding"  # bob's confirmed review is the latest
    assert labels["00000001_001.png"] == "Cardiomegaly|Emphysema"  # uncertain reviews are not applied
    raw = pd.read_csv(path, nrows=1)
    assert list(raw.columns[:2]) == ["Image Index", "Finding Labels"]


def test_cli_export_and_import(tmp_path, metadata):
    import subprocess
    import sys

    db = tmp_path / "a.sqlite"
    _seed(Store(str(db)))
    out = subprocess.run([sys.executable, "-m", "cxrviz", "export", "--db", str(db), "--corrections", str(tmp_path / "c.csv"),
                          "--data-entry", str(tmp_path / "d.csv")], capture_output=True, text=True, check=True)
    assert "exported 3 reviews" in out.stdout
    subprocess.run([sys.executable, "-m", "cxrviz", "import", str(tmp_path / "c.csv"), "--db", str(tmp_path / "b.sqlite")], check=True)
    assert len(Store(str(tmp_path / "b.sqlite")).reviews()) == 3
