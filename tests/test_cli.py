"""The command line imports a command's module (and torch) only when that command runs."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

from cxrviz.commands import COMMANDS
from tests.conftest import REPO

BOXES = """Image Index,Finding Label,x,y,w,h,Reviewer,Status,Corrects,Time,Image Width,Image Height
00000001_000.png,Mass,100.25,200.50,50.00,40.00,ann,drawn,,2026-01-01T10:00:00.000000Z,1024,1024
00000001_001.png,Nodule,10.00,20.00,30.00,40.00,ann,drawn,,2026-01-01T10:01:00.000000Z,512,512
00000001_002.png,Effusion,300.00,400.00,100.00,100.00,bob,drawn,,2026-01-01T10:02:00.000000Z,1024,1024
"""
CORRECTIONS = """Image Index,Corrected Labels,Status,Reviewer,Reviewed At
00000001_000.png,Mass,corrected,ann,2025-06-01T10:00:00Z
00000001_001.png,No Finding,confirmed,ann,2025-06-01T10:00:00Z
00000001_002.png,Effusion,corrected,bob,2025-06-01T10:00:00Z
"""
# Runs the CLI's main in a fresh interpreter, then says whether torch got imported.
_WRAPPER = ("import sys\nfrom cxrviz.cli import main\ncode = main(sys.argv[1:])\n"
            "print('torch loaded:', 'torch' in sys.modules)\nraise SystemExit(code)\n")


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("CXRVIZ_DB", "CXRVIZ_METADATA"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-c", _WRAPPER, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_the_help_table_matches_each_module():
    for name, (module, help_text) in COMMANDS.items():
        command = importlib.import_module(f"cxrviz.commands.{module}")
        assert (command.NAME, command.HELP) == (name, help_text)


def test_import_and_export_of_three_rows_never_load_torch(tmp_path):
    (tmp_path / "boxes.csv").write_text(BOXES)
    (tmp_path / "corrections.csv").write_text(CORRECTIONS)
    db = str(tmp_path / "s.sqlite")
    done = _cli("import", "--boxes", "boxes.csv", "--db", db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "imported 3 boxes" in done.stdout and "torch loaded: False" in done.stdout
    done = _cli("import", "corrections.csv", "--db", db, "--as", "lead", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 new" in done.stdout and "torch loaded: False" in done.stdout
    done = _cli("export", "--db", db, "--boxes", "out.csv", "--corrections", "c.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "exported 3 boxes" in done.stdout and "torch loaded: False" in done.stdout
    assert (tmp_path / "out.csv").read_text().count("\n") == 4


@pytest.mark.parametrize("command", ["predict", "train", "evaluate", "localize", "audit"])
def test_model_commands_still_parse_their_options(command, tmp_path):
    done = _cli(command, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"usage: python -m cxrviz {command}" in done.stdout and "--" in done.stdout.split("options:", 1)[1]


def test_top_level_help_lists_every_command_and_a_wrong_one_is_named(tmp_path):
    done = _cli("--help", cwd=tmp_path)
    assert done.returncode == 0 and all(name in done.stdout for name in COMMANDS)
    wrong = _cli("imprt", cwd=tmp_path)
    assert wrong.returncode == 2 and "invalid choice: 'imprt'" in wrong.stderr
