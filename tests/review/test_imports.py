"""Import of a corrections CSV: checked row by row, all or nothing, never rewriting newer history."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cxrviz.cli import main
from cxrviz.review.export import corrections_csv
from cxrviz.review.imports import MAX_CELL_CHARS, ImportRefusedError, import_corrections
from cxrviz.review.store import Store

COLUMNS = ["Image Index", "Corrected Labels", "Status", "Reviewer", "Note", "Reviewed At", "Created At", "Model", "P(Mass)"]
TODAY = "2026-01-15T09:30:00.000000Z"  # "today" for these tests: any fixed past moment
OLD = "2001-03-04T05:06:07.000000Z"


@pytest.fixture(scope="module")
def images(metadata) -> list[str]:
    return list(metadata.table["image"].head(12))


def _row(image: str, **cells: str) -> dict[str, str]:
    row = {"Image Index": image, "Corrected Labels": "Mass", "Status": "corrected", "Reviewer": "ann", "Note": "",
           "Reviewed At": "2025-06-01T10:00:00Z", "Created At": "2025-06-01T09:00:00Z", "Model": "", "P(Mass)": "0.25"}
    row.update(cells)
    return row


def _csv(rows: list[dict[str, str]], columns: list[str] = COLUMNS, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue().encode(encoding)


def _state(store: Store) -> tuple[list, list]:
    return store.reviews(), store.audit()


def _refused(store: Store, data, metadata, **kwargs) -> ImportRefusedError:
    before = _state(store)
    with pytest.raises(ImportRefusedError) as caught:
        import_corrections(store, data, metadata, "importer", **kwargs)
    assert _state(store) == before  # nothing written
    return caught.value


# ---- all or nothing ----------------------------------------------------------------------------


def test_a_bad_sixth_row_writes_nothing(target, metadata, images):
    store = Store(target)
    store.save_review(images[0], "ann", ["Effusion"], "corrected", "kept", at=TODAY)
    rows = [_row(image) for image in images[:8]]
    rows[5]["Status"] = "done"  # the sixth data row: row 7 counting the header
    error = _refused(store, _csv(rows), metadata)
    assert [(p.row, p.column) for p in error.problems] == [(7, "Status")]
    assert "row 7, Status: 'done' is not a status" in str(error)
    assert [r.note for r in store.reviews()] == ["kept"] and len(store.audit()) == 1


def test_a_database_failure_half_way_rolls_back_every_row(target, metadata, images, monkeypatch):
    """The store writes one transaction: a failure at the sixth row leaves the first five unwritten."""
    import sqlalchemy as sa

    from cxrviz.errors import StoreError
    from cxrviz.review.imports import read_corrections

    store = Store(target)
    rows = [review for _, review in read_corrections(_csv([_row(image) for image in images[:5]] + [_row(images[5], Reviewer="zed")]).decode(),
                                                      "test", metadata)]
    original = Store.reviewer_id

    def failing(self, conn, name):
        if name == "zed":
            assert len(conn.execute(sa.text("SELECT id FROM reviews")).all()) == 5  # rows 1-5 written
            raise StoreError("disk full")
        return original(self, conn, name)

    monkeypatch.setattr(Store, "reviewer_id", failing)
    with pytest.raises(StoreError, match="disk full"):
        store.import_reviews(rows, "importer")
    assert store.reviews() == [] and store.audit() == []


def test_every_bad_row_is_listed_and_the_message_is_capped(target, metadata, images):
    store = Store(target)
    rows = [_row(image, **{"P(Mass)": "lots"}) for image in images[:2]] + [_row(f"{n:08d}_000.png") for n in range(90000000, 90000025)]
    error = _refused(store, _csv(rows), metadata)
    assert len(error.problems) == 27
    assert {p.row for p in error.problems} == set(range(2, 29))
    assert "… and 7 more" in str(error)


# ---- hostile cells: each named by row and column, nothing written -----------------------------

HOSTILE_CELLS = {
    "empty image": ({"Image Index": ""}, "Image Index", "not an NIH image name"),
    "path traversal": ({"Image Index": "../../../../etc/passwd"}, "Image Index", "not an NIH image name"),
    "image not in metadata": ({"Image Index": "99999999_999.png"}, "Image Index", "not in the metadata"),
    "unknown label": ({"Corrected Labels": "Mass|Tumour"}, "Corrected Labels", "unknown label 'Tumour'"),
    "no finding and a finding": ({"Corrected Labels": "No Finding|Mass"}, "Corrected Labels", "together with findings"),
    "empty labels": ({"Corrected Labels": ""}, "Corrected Labels", "is empty"),
    "unknown status": ({"Status": "approved"}, "Status", "not a status"),
    "non-numeric probability": ({"P(Mass)": "high"}, "P(Mass)", "not a number"),
    "nan probability": ({"P(Mass)": "nan"}, "P(Mass)", "between 0 and 1"),
    "probability above one": ({"P(Mass)": "1.5"}, "P(Mass)", "between 0 and 1"),
    "garbage date": ({"Reviewed At": "zzzz"}, "Reviewed At", "not an ISO 8601"),
    "date without a zone": ({"Reviewed At": "2025-06-01T10:00:00"}, "Reviewed At", "no time zone"),
    "date only": ({"Reviewed At": "2025-06-01"}, "Reviewed At", "not an ISO 8601"),
    "future date": ({"Reviewed At": "2999-01-01T00:00:00Z"}, "Reviewed At", "in the future"),
    "empty date": ({"Reviewed At": ""}, "Reviewed At", "not an ISO 8601"),
    "created after reviewed": ({"Created At": "2025-07-01T00:00:00Z"}, "Created At", "after Reviewed At"),
    "empty reviewer": ({"Reviewer": " "}, "Reviewer", "reviewer name is required"),
    "invisible reviewer": ({"Reviewer": "a\u200bnn"}, "Reviewer", "U+200B"),
    "NUL in a note": ({"Note": "before\x00after"}, "Note", "NUL byte"),
    "long model": ({"Model": "m" * 201}, "Model", "not a model name"),
}


@pytest.mark.parametrize("case", HOSTILE_CELLS, ids=list(HOSTILE_CELLS))
def test_a_hostile_cell_is_named(target, metadata, images, case):
    cells, column, why = HOSTILE_CELLS[case]
    store = Store(target)
    rows = [_row(images[0]), _row(images[1]), _row(images[2], **cells)]
    error = _refused(store, _csv(rows), metadata)
    assert [(p.row, p.column) for p in error.problems] == [(4, column)]
    assert why in error.problems[0].why
    assert store.reviews() == []


HOSTILE_FILES = {
    "unterminated quote": (lambda ok: ok + b'00000001_000.png,Mass,corrected,ann,"never closed,2025-06-01T10:00:00Z\r\n', 3,
                           "unterminated quote"),
    "text after a closing quote": (lambda ok: ok + b'00000001_000.png,Mass,corrected,"ann"x,,2025-06-01T10:00:00Z\r\n', 3, "expected after"),
    "cell over the size limit": (lambda ok: ok + b"00000001_000.png,Mass,corrected,ann," + b"n" * (MAX_CELL_CHARS + 10)
                                 + b",2025-06-01T10:00:00Z\r\n", 3, f"limit of {MAX_CELL_CHARS}"),
    "short row": (lambda ok: ok + b"00000001_000.png,Mass,corrected\r\n", 3, "has 3 cells"),
    "duplicate row": (lambda ok: ok + ok.split(b"\r\n", 1)[1], 3, "already on row 2"),
}


@pytest.mark.parametrize("case", HOSTILE_FILES, ids=list(HOSTILE_FILES))
def test_a_malformed_row_is_named(target, metadata, images, case):
    make, row, why = HOSTILE_FILES[case]
    store = Store(target)
    ok = _csv([_row("00000001_001.png")], COLUMNS[:6])
    error = _refused(store, make(ok), metadata)
    assert error.problems[-1].row == row and why in error.problems[-1].why, error.problems


@pytest.mark.parametrize(("data", "why"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\xff\xfe", "the file is not a text file (a NUL byte on line 3)"),
    ("Image Index,Reviewer\r\n".encode("utf-16"), "UTF-16"),
    (b"", "is empty"),
    (b"image,labels\r\n00000001_000.png,Mass\r\n", "no 'Image Index'"),
], ids=["binary", "utf-16", "empty", "not a corrections csv"])
def test_an_unusable_file_is_refused_with_a_message(target, metadata, data, why):
    store = Store(target)
    error = _refused(store, data, metadata)
    assert len(error.problems) == 1 and why in str(error)


def test_missing_file_and_folder_get_messages(tmp_path, metadata):
    store = Store(str(tmp_path / "s.sqlite"))
    assert "does not exist" in str(_refused(store, tmp_path / "nope.csv", metadata))
    assert "is a folder" in str(_refused(store, tmp_path, metadata))


# ---- encodings ---------------------------------------------------------------------------------


def test_a_spreadsheet_file_with_a_byte_order_mark_imports(target, metadata, images):
    store = Store(target)
    report = import_corrections(store, b"\xef\xbb\xbf" + _csv([_row(images[0])]), metadata, "importer")
    assert report.counts["new"] == 1 and report.encoding == "UTF-8"
    assert store.reviews()[0].image == images[0]


def test_a_latin1_file_imports_with_the_right_characters(target, metadata, images, tmp_path):
    store = Store(target)
    path = tmp_path / "latin.csv"
    path.write_bytes(_csv([_row(images[0], Reviewer="José Müller", Note="épanchement ± 5 mm, côté droit")], encoding="cp1252"))
    report = import_corrections(store, path, metadata, "importer")
    assert "Windows-1252" in report.encoding and "not valid UTF-8" in report.encoding
    [review] = store.reviews()
    assert review.reviewer == "José Müller" and review.note == "épanchement ± 5 mm, côté droit"


# ---- history: older rows never win, re-imports change nothing ----------------------------------


def test_an_older_row_never_replaces_a_newer_review(target, metadata, images):
    store = Store(target)
    store.save_review(images[0], "ann", ["Effusion"], "corrected", "made today", at=TODAY)
    store.save_review(images[1], "ann", ["Effusion"], "corrected", "made long ago", at=OLD)
    rows = [_row(images[0], Reviewer="ANN", **{"Reviewed At": OLD, "Created At": OLD}),  # same reviewer, other case
            _row(images[1], Note="newer", **{"Reviewed At": TODAY, "Created At": "2000-01-01T00:00:00Z"}),
            _row(images[2], Reviewer="bob")]
    report = import_corrections(store, _csv(rows), metadata, "importer")
    assert [outcome for _, outcome, _ in report.rows] == ["skipped-older", "updated", "new"]
    by_image = {r.image: r for r in store.reviews()}
    assert by_image[images[0]].note == "made today" and by_image[images[0]].updated_at == TODAY
    assert by_image[images[1]].note == "newer" and by_image[images[1]].updated_at == TODAY
    assert by_image[images[1]].created_at == "2000-01-01T00:00:00.000000Z"  # restored in the same write
    audit = [a for a in store.audit() if a["action"] == "import"]
    assert [a["image"] for a in audit] == [images[1], images[2]]
    assert json.loads(audit[0]["old_values"])["note"] == "made long ago"
    assert json.loads(audit[0]["new_values"])["imported_by"] == "importer"
    assert audit[1]["old_values"] is None and audit[1]["reviewer"] == "bob"


def test_replace_newer_lets_an_older_row_win(target, metadata, images):
    store = Store(target)
    store.save_review(images[0], "ann", ["Effusion"], "corrected", "made today", at=TODAY)
    data = _csv([_row(images[0], Note="from 2001", **{"Reviewed At": OLD, "Created At": OLD})])
    report = import_corrections(store, data, metadata, "lead", replace_newer=True)
    assert report.counts["updated"] == 1
    [review] = store.reviews()
    assert review.note == "from 2001" and review.updated_at == OLD and review.created_at == OLD
    assert json.loads(store.audit()[-1]["new_values"])["imported_by"] == "lead"


def test_importing_twice_changes_nothing(target, metadata, images):
    store = Store(target)
    data = _csv([_row(image) for image in images[:5]])
    first = import_corrections(store, data, metadata, "importer")
    state = _state(store)
    second = import_corrections(store, data, metadata, "importer")
    assert first.counts["new"] == 5 and second.counts["unchanged"] == 5
    assert _state(store) == state and len(state[1]) == 5


def test_dry_run_writes_nothing_and_says_what_would_change(target, metadata, images):
    store = Store(target)
    store.save_review(images[0], "ann", ["Effusion"], "corrected", at=TODAY)
    store.save_review(images[1], "ann", ["Effusion"], "corrected", at=OLD)
    import_corrections(store, _csv([_row(images[3])]), metadata, "importer")
    before = _state(store)
    rows = [_row(images[0]), _row(images[1]), _row(images[2], Reviewer="newcomer"), _row(images[3])]
    report = import_corrections(store, _csv(rows), metadata, "importer", dry_run=True)
    assert report.counts == {"new": 1, "updated": 1, "skipped-older": 1, "unchanged": 1}
    assert _state(store) == before
    assert report.lines()[2] == f"row 4: new: {images[2]} by newcomer at 2025-06-01T10:00:00.000000Z"


# ---- export round trip -------------------------------------------------------------------------

HOSTILE_NOTES = ["=HYPERLINK(\"http://evil\",\"x\")", "'leading quote", "''two", "+1", "-1", "@sum", "\tTab first",
                 "first\rsecond\r=1+1", "crlf\r\nline", "lf\nline", 'say "hi", "bye"', "tabs\tinside\t", "«ü» 漢字 🫁",
                 "x" * 100 * 1024, "", " padded "]


def test_export_imports_back_byte_for_byte(target, metadata, images, tmp_path):
    source = Store(str(tmp_path / "source.sqlite"))
    for n, note in enumerate(HOSTILE_NOTES):
        source.save_review(images[n % len(images)], f"reviewer {n % 3}", ["Mass", "Effusion"] if n % 2 else [], "corrected",
                           note, model="densenet" if n % 2 else None, probabilities={"Mass": 1 / 3} if n % 2 else None)
    exported = corrections_csv(source.reviews(), metadata)
    assert b'"first\rsecond\r=1+1"' in exported  # a bare CR is inside quotes
    fresh = Store(target)
    report = import_corrections(fresh, exported, metadata, "importer")
    assert report.counts["new"] == len(source.reviews())
    assert corrections_csv(fresh.reviews(), metadata) == exported
    assert [r.note for r in fresh.reviews()] == [r.note for r in source.reviews()]


def test_a_bare_cr_stays_in_one_cell_for_universal_newline_readers(tmp_path, metadata, images):
    store = Store(str(tmp_path / "s.sqlite"))
    store.save_review(images[0], "ann", [], "confirmed", "fine\r=1+2")  # no quote, no LF: only the CR needs quoting
    path = tmp_path / "c.csv"
    path.write_bytes(corrections_csv(store.reviews(), metadata))
    with open(path, encoding="utf-8") as handle:  # newline=None: CR, LF and CRLF all end lines
        rows = list(csv.reader(handle))
    assert len(rows) == 2 and not any(cell.startswith("=") for row in rows for cell in row)


# ---- the commands ------------------------------------------------------------------------------


def test_cli_import_dry_run_as_and_refusal(target, metadata, images, tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(_csv([_row(images[0]), _row(images[1])]))
    bad.write_bytes(_csv([_row(images[0]), _row("../x.png")]))
    assert main(["import", str(good), "--db", target, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"row 2: new: {images[0]}" in out and "dry run: nothing written" in out
    assert Store(target).reviews() == []
    assert main(["import", str(good), "--db", target, "--as", "Data Steward"]) == 0
    assert "2 new" in capsys.readouterr().out
    assert {json.loads(a["new_values"])["imported_by"] for a in Store(target).audit()} == {"Data Steward"}
    assert main(["import", str(bad), "--db", target]) == 2
    err = capsys.readouterr().err
    assert "Nothing was imported" in err and "row 3, Image Index: '../x.png'" in err
    assert main(["import", str(tmp_path / "missing.csv"), "--db", target]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_export_to_an_unwritable_path_gets_a_message(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["export", "--db", db, "--corrections", str(blocker / "c.csv"), "--data-entry", str(tmp_path / "d.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", "--db", db, "--corrections", str(tmp_path), "--data-entry", str(tmp_path / "d.csv")]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_cli_import_into_a_team_store_needs_an_admin(target, images, tmp_path, capsys):
    from cxrviz.review.store import team

    store = Store(target)
    team.sign_in(store, "admin@example.org")  # the first signed-in user: admin
    team.set_role(store, "admin@example.org", "bob@example.org", "reader")
    good = tmp_path / "good.csv"
    good.write_bytes(_csv([_row(images[0])]))
    assert main(["import", str(good), "--db", target, "--as", "bob@example.org"]) == 2
    assert "only an admin can import" in capsys.readouterr().err and Store(target).reviews() == []
    assert main(["import", str(good), "--db", target, "--as", "admin@example.org"]) == 0
    assert {json.loads(a["new_values"])["imported_by"] for a in Store(target).audit()} == {"admin@example.org"}
