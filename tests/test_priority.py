"""Batch work and the prefetch run below the readers' priority (cxrviz/priority.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from tests.conftest import REPO

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")


def _python(code: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CXRVIZ_DB", None)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_lower_raises_this_process_niceness_by_the_steps_asked_and_zero_keeps_it():
    done = _python("import os\nfrom cxrviz import priority\nstart = os.getpriority(os.PRIO_PROCESS, 0)\n"
                   "print(start, priority.lower(0), os.getpriority(os.PRIO_PROCESS, 0), priority.lower(3), "
                   "os.getpriority(os.PRIO_PROCESS, 0), priority.lower(100))")
    start, zero, after_zero, three, after_three, capped = done.stdout.split()
    assert (zero, int(after_zero)) == ("None", int(start))
    assert int(three) == int(after_three) == min(19, int(start) + 3)
    assert int(capped) == 19


@linux_only
def test_lower_this_thread_leaves_the_rest_of_the_process_alone():
    done = _python("import os, threading\nfrom cxrviz import priority\nseen = {}\n"
                   "def work():\n    seen['new'] = priority.lower_this_thread(4)\n"
                   "    seen['thread'] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())\n"
                   "start = os.getpriority(os.PRIO_PROCESS, 0)\nt = threading.Thread(target=work); t.start(); t.join()\n"
                   "print(start, seen['new'], seen['thread'], os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))")
    start, new, thread, main_after = map(int, done.stdout.split())
    assert new == thread == min(19, start + 4)
    assert main_after == start


@linux_only
def test_the_prefetch_thread_runs_below_the_page_thread():
    from cxrviz.app import prefetch
    from cxrviz.priority import PREFETCH_NICE

    page = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = prefetch._executor.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result(timeout=60)
    assert worker == min(19, page + PREFETCH_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == page  # the page's thread is untouched


# Runs the CLI's main in a fresh interpreter, then prints the process's niceness before and after.
_CLI = ("import os, sys\nfrom cxrviz.cli import main\nstart = os.getpriority(os.PRIO_PROCESS, 0)\ncode = main(sys.argv[1:])\n"
        "print('nice', start, os.getpriority(os.PRIO_PROCESS, 0))\nraise SystemExit(code)\n")


@pytest.mark.parametrize(("args", "steps"), [
    (["predict", "--images", "{missing}", "--out", "{out}"], 10),  # a batch command: 10 steps down by default
    (["predict", "--images", "{missing}", "--out", "{out}", "--nice", "3"], 3),
    (["predict", "--images", "{missing}", "--out", "{out}", "--nice", "0"], 0),  # the normal priority, asked for
    (["export", "--db", "{db}", "--corrections", "{out}"], 0),  # not a batch command: seconds, left as it is
])
def test_batch_commands_lower_their_own_priority(tmp_path, args, steps):
    filled = [a.format(missing=tmp_path / "no-such-folder", out=tmp_path / "out.csv", db=tmp_path / "r.sqlite") for a in args]
    done = _python(_CLI, *filled, cwd=tmp_path)  # export writes its default files where it runs
    line = next(line for line in done.stdout.splitlines() if line.startswith("nice "))
    start, after = map(int, line.split()[1:])
    assert after == min(19, start + steps), done.stderr
    assert ("runs at a lower CPU priority" in done.stderr) == (steps > 0)
