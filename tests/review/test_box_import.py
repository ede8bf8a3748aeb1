"""Import of a reviewer-box CSV: every refusal a sentence naming row and column, nothing written;
one transaction however large (a SIGKILL after the first batch leaves no box); the 1024 frame
said in the header, and files with and without that header read alike."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys

import pytest

from cxrviz.cli import main
from cxrviz.review import box_export
from cxrviz.review.box_export import BOX_COLUMNS, FRAME_NOTE, MAX_BOX_ROWS, BoxImportRefusedError, boxes_csv, import_boxes
from cxrviz.review.boxes import MAX_BOXES_PER_IMAGE, ReviewerBox
from cxrviz.review.imports import MAX_CELL_CHARS
from cxrviz.review.store import Store
from cxrviz.review.store import boxes as box_store
from cxrviz.review.store.boxes import IMPORT_BATCH, add_box, box_log, list_boxes
from tests.conftest import REPO

OLD_COLUMNS = ["Image Index", "Finding Label", "x", "y", "w", "h", "Reviewer", "Status", "Corrects", "Time", "Image Width", "Image Height"]


@pytest.fixture(scope="module")
def images(metadata) -> list[str]:
    return list(metadata.table["image"].head(30))


def _row(image: str, **cells: str) -> dict[str, str]:
    row = {"Image Index": image, "Finding Label": "Mass", "x": "100.00", "y": "200.00", "w": "50.00", "h": "40.00",
           "Reviewer": "ann", "Status": "drawn", "Corrects": "", "Time": "2026-01-01T10:00:00.000000Z",
           "Image Width": "1024", "Image Height": "1024"}
    row.update(cells)
    return row


def _csv(rows: list[dict[str, str]], columns: list[str] = OLD_COLUMNS, delimiter: str = ",") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n", delimiter=delimiter)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c.split(" (")[0], "") for c in columns])
    return buffer.getvalue().encode("utf-8")


def _refused(store: Store, data, metadata) -> BoxImportRefusedError:
    before = (list_boxes(store), box_log(store))
    with pytest.raises(BoxImportRefusedError) as caught:
        import_boxes(store, data, metadata)
    assert (list_boxes(store), box_log(store)) == before  # nothing written
    return caught.value


# ---- a bad cell: named by row and column -----------------------------------------------------

BAD_CELLS = {
    "negative x": ({"x": "-5"}, "x", "negative"),
    "NaN width": ({"w": "nan"}, "w", "not a finite number"),
    "infinite y": ({"y": "inf"}, "y", "not a finite number"),
    "x not a number": ({"x": "abc"}, "x", "'abc' is not a number"),
    "past the right edge": ({"x": "1000", "w": "100"}, "w", "passes the right edge"),
    "past the bottom edge": ({"y": "1000", "h": "50"}, "h", "passes the bottom edge"),
    "no area": ({"w": "0"}, "w", "no area"),
    "under a pixel": ({"w": "0.001", "Image Width": "512"}, "w", "under a pixel"),
    "unknown finding": ({"Finding Label": "Broken Leg"}, "Finding Label", "not one of the 14 findings"),
    "No Finding is not a box": ({"Finding Label": "No Finding"}, "Finding Label", "not one of the 14 findings"),
    "unknown image": ({"Image Index": "99999999_999.png"}, "Image Index", "not in the metadata"),
    "path as image": ({"Image Index": "../../etc/passwd"}, "Image Index", "not an NIH image name"),
    "bad status": ({"Status": "approved"}, "Status", "not a box status"),
    "correction naming nothing": ({"Status": "corrected"}, "Corrects", "names the NIH box it is about"),
    "drawn box with a correction": ({"Corrects": "00000001_000.png:Mass:0"}, "Corrects", "a drawn box corrects none"),
    "width not a number": ({"Image Width": "abc"}, "Image Width", "'abc' is not a whole number of pixels"),
    "negative height": ({"Image Height": "-512"}, "Image Height", "not an image size"),
    "bad time": ({"Time": "yesterday"}, "Time", "not an ISO 8601"),
    "future time": ({"Time": "2999-01-01T00:00:00Z"}, "Time", "in the future"),
    "empty reviewer": ({"Reviewer": " "}, "Reviewer", "reviewer name is required"),
    "long reviewer": ({"Reviewer": "r" * 300}, "Reviewer", "at most"),
    "NUL in a cell": ({"Reviewer": "an\x00n"}, "Reviewer", "NUL byte"),
}


@pytest.mark.parametrize("case", BAD_CELLS, ids=list(BAD_CELLS))
def test_a_bad_cell_is_named_by_row_and_column_and_nothing_is_written(tmp_path, metadata, images, case):
    cells, column, why = BAD_CELLS[case]
    store = Store(str(tmp_path / "s.sqlite"))
    error = _refused(store, _csv([_row(images[0]), _row(images[1], **cells), _row(images[2])]), metadata)
    assert [(p.row, p.column) for p in error.problems] == [(3, column)], error.problems
    assert why in error.problems[0].why
    assert f"row 3 (line 3), {column}: " in str(error) and "Traceback" not in str(error)


def test_the_corrections_of_an_nih_box_must_name_a_box_of_the_same_image(tmp_path, metadata, images):
    store = Store(str(tmp_path / "s.sqlite"))
    error = _refused(store, _csv([_row(images[0], Status="wrong", Corrects=f"{images[1]}:Mass:0"),
                                  _row(images[1], Status="wrong", Corrects="nonsense")]), metadata)
    assert [(p.row, p.column) for p in error.problems] == [(2, "Corrects"), (3, "Corrects")]
    assert "another image" in error.problems[0].why and "does not name an NIH box" in error.problems[1].why


# ---- a bad file or row: a sentence, nothing written ----------------------------------------------


def _ok(images) -> bytes:
    return _csv([_row(images[0])])


BAD_FILES = {
    "empty": (lambda ok: b"", None, "is empty"),
    "blank lines only": (lambda ok: b"\n\n\n", None, "is empty"),
    "binary junk": (lambda ok: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe\xfd", None, "not a text file"),
    "UTF-16": (lambda ok: ok.decode().encode("utf-16"), None, "UTF-16"),
    "a column missing": (lambda ok: ok.replace(b",h,", b",hh,", 1), None, "the columns 'h' are missing"),
    "not a box file": (lambda ok: b"Image Index,Corrected Labels,Status\n00000001_000.png,Mass,corrected\n", None, "is not a cxrviz box CSV"),
    "an extra column": (lambda ok: ok.replace(b"Image Height", b"Image Height,Colour", 1).replace(b"1024\n", b"1024,red\n"), 1,
                        "columns a box CSV does not have: 'Colour'"),
    "a column twice": (lambda ok: ok.replace(b"Corrects", b"Reviewer", 1), 1, "names 'Reviewer' twice"),
    "semicolons": (lambda ok: ok.replace(b",", b";"), 1, "separated by semicolons"),
    "tabs": (lambda ok: ok.replace(b",", b"\t"), 1, "separated by tabs"),
    "short row": (lambda ok: ok + b"00000001_000.png,Mass,1,1\n", 3, "has 4 cells; the header has 12"),
    "long row": (lambda ok: ok + ok.split(b"\n")[1] + b",extra\n", 3, "has 13 cells"),
    "duplicate row": (lambda ok: ok + ok.split(b"\n", 1)[1], 3, "the same box as row 2"),
    "unterminated quote": (lambda ok: ok + b'00000001_000.png,Mass,1,1,5,5,"ann,drawn,,,1024,1024\n', 3, "never closed"),
    "a 200,000-character field": (lambda ok: ok + b"00000001_000.png,Mass,1,1,5,5," + b"r" * 200_000 + b",drawn,,,1024,1024\n", 3,
                                  f"longer than the limit of {MAX_CELL_CHARS} characters"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_gets_a_sentence_and_writes_nothing(tmp_path, metadata, images, case):
    make, row, why = BAD_FILES[case]
    store = Store(str(tmp_path / "s.sqlite"))
    error = _refused(store, make(_ok(images)), metadata)
    assert error.problems[-1].row == row and why in str(error), str(error)
    assert str(error).startswith("Nothing was imported from the uploaded file")


def test_every_bad_row_is_listed(tmp_path, metadata, images):
    store = Store(str(tmp_path / "s.sqlite"))
    rows = [_row(images[0], x="-1"), _row(images[1]), _row(images[2], w="wide", Status="gone"), _row("12345678_000.png")]
    error = _refused(store, _csv(rows), metadata)
    assert [(p.row, p.column) for p in error.problems] == [(2, "x"), (4, "w"), (4, "Status"), (5, "Image Index")]
    assert "4 problems; rows counted with the header as row 1" in str(error)


def test_a_cell_with_a_line_break_names_row_and_line(tmp_path, metadata, images):
    store = Store(str(tmp_path / "s.sqlite"))
    error = _refused(store, _csv([_row(images[0], Reviewer="ann\nsmith"), _row(images[1], x="-3")]), metadata)
    assert [(p.row, p.line, p.column) for p in error.problems] == [(2, 2, "Reviewer"), (3, 4, "x")]
    assert "row 3 (line 4), x:" in str(error)


def test_too_many_rows_and_too_large_a_file_are_refused_with_the_limit(tmp_path, metadata, images, monkeypatch):
    store = Store(str(tmp_path / "s.sqlite"))
    assert MAX_BOX_ROWS == 250_000 and box_export.MAX_BOX_FILE_BYTES == 64 * 2**20  # the limits the README states
    monkeypatch.setattr(box_export, "MAX_BOX_ROWS", 3)
    error = _refused(store, _csv([_row(image) for image in images[:5]]), metadata)
    assert [p.row for p in error.problems] == [None] and "has 5 rows; one import takes at most 3 boxes: split the file" in str(error)
    monkeypatch.setattr(box_export, "MAX_BOX_FILE_BYTES", 2**20)
    path = tmp_path / "big.csv"
    path.write_bytes(_csv([_row(images[i % 30], x=f"{i % 900}.00", Reviewer=f"r{i // 30}") for i in range(12_000)]))
    assert "is larger than 1 MiB, the most one import reads" in str(_refused(store, path, metadata))


def test_more_boxes_than_a_reviewer_may_keep_on_an_image_is_refused(target, metadata, images):
    store = Store(target)
    for i in range(MAX_BOXES_PER_IMAGE - 1):
        add_box(store, ReviewerBox(images[0], "ann", "Mass", 10 + 5 * i, 10, 20, 20, 1024, 1024))
    error = _refused(store, _csv([_row(images[0], x="500"), _row(images[1]), _row(images[0], x="600")]), metadata)
    assert [p.row for p in error.problems] == [4] and f"more than {MAX_BOXES_PER_IMAGE} boxes on {images[0]}" in str(error)


# ---- what imports -----------------------------------------------------------------------------


def test_a_byte_order_mark_crlf_and_the_old_header_import(tmp_path, metadata, images):
    store = Store(str(tmp_path / "s.sqlite"))
    data = b"\xef\xbb\xbf" + _csv([_row(images[0]), _row(images[1], Status="", Time="", **{"Image Width": "", "Image Height": ""})])
    assert import_boxes(store, data.replace(b"\n", b"\r\n"), metadata) == 2
    assert [(b.image, b.status, b.frame_width) for b in list_boxes(store)] == [(images[0], "drawn", 1024), (images[1], "drawn", 1024)]


def test_the_export_says_its_frame_and_a_512_px_box_round_trips_with_either_header(target, tmp_path, metadata, images):
    source = Store(str(tmp_path / "a.sqlite"))
    add_box(source, ReviewerBox(images[0], "ann", "Mass", 160, 100, 200, 50, 512, 512), at="2026-01-01T10:00:00.000000Z")
    add_box(source, ReviewerBox(images[1], "bob", "Nodule", 1000, 1100, 48, 100, 1024, 1200), at="2026-01-02T10:00:00.000000Z")
    exported = boxes_csv(list_boxes(source))
    header, first = exported.decode().splitlines()[:2]
    assert header.endswith(f",Image Width {FRAME_NOTE},Image Height {FRAME_NOTE}")
    assert "x y w h in the original 1024 frame" in header and header.split(",")[:6] == BOX_COLUMNS[:6]
    assert first.split(",")[2:6] == ["320.00", "200.00", "400.00", "100.00"] and first.split(",")[-2:] == ["512", "512"]
    target_store = Store(target)
    assert import_boxes(target_store, exported, metadata) == 2
    assert boxes_csv(list_boxes(target_store)) == exported
    [mass] = [b for b in list_boxes(target_store) if b.finding == "Mass"]
    assert (mass.x, mass.y, mass.w, mass.h, mass.frame_width) == (160, 100, 200, 50, 512)
    old = exported.replace(f" {FRAME_NOTE}".encode(), b"")
    assert old.split(b"\n")[0].decode().split(",") == OLD_COLUMNS
    plain = Store(str(tmp_path / "old.sqlite"))
    assert import_boxes(plain, old, metadata) == 2 and boxes_csv(list_boxes(plain)) == exported


def test_progress_reports_checking_then_each_batch_written(tmp_path, metadata):
    images = list(metadata.table["image"].head(IMPORT_BATCH + 1000))
    seen = []
    store = Store(str(tmp_path / "s.sqlite"))
    assert import_boxes(store, _csv([_row(image) for image in images]), metadata, "lead", progress=lambda *a: seen.append(a)) == len(images)
    assert ("checking", 5000, len(images)) in seen
    assert [s for s in seen if s[0] == "writing"] == [("writing", IMPORT_BATCH, len(images)), ("writing", len(images), len(images))]
    log = box_log(store)
    assert len(log) == len(images) and '"imported_by": "lead"' in log[0]["new_values"]


# ---- all or nothing under a kill -------------------------------------------------------------


def test_a_sigkill_after_the_first_batch_leaves_no_box(target, tmp_path, metadata):
    images = list(metadata.table["image"].head(8_000))  # 24,000 rows: five batches
    path = tmp_path / "big.csv"
    path.write_bytes(_csv([_row(image, x=f"{100 + 10 * k}.00", Reviewer=f"reader {k}") for k in range(3) for image in images]))
    Store(target)  # the schema first
    worker = subprocess.Popen([sys.executable, "-m", "tests.review.box_import_worker", target, str(path)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    lines = []
    for line in worker.stdout:
        lines.append(line.split())
        if lines[-1][0] == "writing":  # the first batch is in the (uncommitted) transaction
            os.kill(worker.pid, signal.SIGKILL)
            break
    worker.wait(timeout=60)
    rest = worker.stdout.read().split("\n")
    assert lines[-1] == ["writing", str(IMPORT_BATCH), str(len(images) * 3)], lines[-3:]
    assert not any(line.startswith("done") for line in rest) and worker.returncode == -signal.SIGKILL
    store = Store(target)
    assert list_boxes(store) == [] and box_log(store) == [] and not store.reviewed_images()
    assert import_boxes(store, path, metadata) == len(images) * 3  # the store is not left locked; the import runs through
    assert len(box_store.box_log(store)) == len(images) * 3


# ---- the command line -------------------------------------------------------------------------


def test_cli_lists_every_problem_and_exits_2_without_a_traceback(tmp_path, images, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv([_row(images[0], x="-5"), _row(images[1], **{"Image Width": "abc"})])
                     + b"00000001_000.png,Mass,1,1,5,5," + b"r" * 200_000 + b",drawn,,,1024,1024\n")
    db = str(tmp_path / "s.sqlite")
    assert main(["import", "--boxes", str(path), "--db", db]) == 2
    err = capsys.readouterr().err
    assert "error: Nothing was imported from" in err and "Traceback" not in err
    assert "row 2 (line 2), x: -5 is negative" in err
    assert "row 3 (line 3), Image Width: 'abc' is not a whole number of pixels" in err
    assert "row 4 (line 4): cannot be read as CSV from here on: a cell is longer than the limit" in err
    assert list_boxes(Store(db)) == []
    good = tmp_path / "good.csv"
    good.write_bytes(_csv([_row(images[0])]))
    assert main(["import", "--boxes", str(good), "--db", db, "--as", "lead"]) == 0
    assert "imported 1 boxes" in capsys.readouterr().out


def test_cli_box_import_into_a_team_store_needs_an_admin(tmp_path, images, capsys):
    from cxrviz.review.store import team

    db = str(tmp_path / "team.sqlite")
    store = Store(db)
    team.sign_in(store, "admin@example.org")  # the first signed-in user: admin
    team.set_role(store, "admin@example.org", "bob@example.org", "reader")
    path = tmp_path / "boxes.csv"
    path.write_bytes(_csv([_row(images[0], Reviewer="carol@example.org")]))
    assert main(["import", "--boxes", str(path), "--db", db, "--as", "bob@example.org"]) == 2
    assert "only an admin can import boxes" in capsys.readouterr().err and list_boxes(store) == []
    assert main(["import", "--boxes", str(path), "--db", db, "--as", "admin@example.org"]) == 0
    assert '"imported_by": "admin@example.org"' in box_log(store)[0]["new_values"]


def test_cli_dry_run_of_boxes_checks_and_counts_but_writes_nothing(tmp_path, images, capsys):
    db = str(tmp_path / "s.sqlite")
    path = tmp_path / "boxes.csv"
    path.write_bytes(_csv([_row(images[0]), _row(images[1], Reviewer="new reader")]))
    assert main(["import", "--boxes", str(path), "--db", db, "--dry-run"]) == 0
    assert "would import 2 boxes" in capsys.readouterr().out and list_boxes(Store(db)) == []
    assert not Store(db).reviewed_images() and box_log(Store(db)) == []
    assert main(["import", "--boxes", str(path), "--db", db]) == 0 and len(list_boxes(Store(db))) == 2
    assert main(["import", "--boxes", str(path), "--db", db, "--dry-run"]) == 0
    assert "would import 0 boxes" in capsys.readouterr().out
