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


# Every thread's niceness (Linux: the 19th field of /proc/self/task/TID/stat), as one sorted list.
_ALL = ("sorted(int(open(f'/proc/self/task/{t}/stat').read().rsplit(')', 1)[1].split()[16]) "
        "for t in os.listdir('/proc/self/task'))")


def test_lower_raises_this_process_niceness_by_the_steps_asked_and_zero_keeps_it():
    done = _python("import os\nfrom cxrviz import priority\nstart = os.getpriority(os.PRIO_PROCESS, 0)\n"
                   "print(start, priority.lower(0), os.getpriority(os.PRIO_PROCESS, 0), priority.lower(3), "
                   "os.getpriority(os.PRIO_PROCESS, 0), priority.lower(100))")
    start, zero, after_zero, three, after_three, capped = done.stdout.split()
    assert (zero, int(after_zero)) == ("None", int(start))
    assert int(three) == int(after_three) == min(19, int(start) + 3)
    assert int(capped) == 19


@linux_only
def test_lower_reaches_the_threads_already_running_and_those_started_after():
    """numpy starts its BLAS threads at import, before a command can lower anything: they count too."""
    done = _python("import os, threading\nimport numpy\nfrom cxrviz import priority\n"
                   f"before = {_ALL}\npriority.lower(4)\ngo = threading.Event()\nt = threading.Thread(target=go.wait); t.start()\n"
                   f"print(before, {_ALL}); go.set(); t.join()")  # the new thread is alive while it is listed
    assert "] [" in done.stdout, (done.stdout, done.stderr)
    before, after = done.stdout.strip().split("] [")
    before, after = [int(n) for n in before.strip("[]").split(",")], [int(n) for n in after.strip("[]").split(",")]
    assert len(before) >= 1 and set(after) == {min(19, max(before) + 4)}, done.stdout


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
def test_the_prefetch_thread_runs_below_the_thread_that_starts_it():
    from cxrviz.app import prefetch
    from cxrviz.priority import PREFETCH_NICE

    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    executor = prefetch.new_executor()  # the page's: made the same way at import
    try:
        worker = executor.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result(timeout=60)
    finally:
        executor.shutdown()
    assert worker == min(19, here + PREFETCH_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here  # the starting thread is untouched


# Runs the CLI's main in a fresh interpreter, then prints the process's niceness before and after.
_CLI = ("import os, sys\nfrom cxrviz.cli import main\nstart = os.getpriority(os.PRIO_PROCESS, 0)\ncode = main(sys.argv[1:])\n"
        f"print('nice', start, *{_ALL})\nraise SystemExit(code)\n")


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
    start, *threads = map(int, line.split()[1:])
    assert set(threads) == {min(19, start + steps)}, done.stderr  # every thread, numpy's included
    assert ("runs at a lower CPU priority" in done.stderr) == (steps > 0)
