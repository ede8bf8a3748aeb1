"""CPU priority for work nobody is waiting on, so the people reading on the same machine are not.

The batch commands (`predict`, `train`, `evaluate`, ...) and the app's prefetch of the next image
run at a lower priority (a higher Unix niceness): while the machine is idle they take every core
as before; when a reader's save-and-next needs a core, the kernel gives it to the reader first.
Processes a batch command starts (DataLoader workers, a local Ray's workers) inherit it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

BATCH_NICE = 10  # the batch commands' default (--nice): about a tenth of a core's share against a reader
PREFETCH_NICE = 5  # the prefetch thread: well behind the page it works for, ahead of a batch job
MAX_NICE = 19


def lower(by: int) -> int | None:
    """Lower this process's priority by `by` niceness steps (capped at 19): every thread it runs
    now (on Linux niceness is per thread, and numpy's BLAS pool is started at import) and, through
    them, every thread and process it starts later. The main thread's new niceness, or None where
    the system does not allow it (then nothing changes)."""
    if by <= 0:
        return None
    try:
        target = min(MAX_NICE, os.getpriority(os.PRIO_PROCESS, 0) + by)
        for tid in _threads():
            try:
                os.setpriority(os.PRIO_PROCESS, tid, max(target, os.getpriority(os.PRIO_PROCESS, tid)))
            except ProcessLookupError:  # a thread that ended meanwhile
                pass
        return os.getpriority(os.PRIO_PROCESS, 0)
    except (AttributeError, OSError) as error:
        log.info("Could not lower the CPU priority (%s); running at the normal priority", error)
        return None


def _threads() -> list[int]:
    """The ids of this process's threads (Linux: /proc/self/task), the calling one first; elsewhere
    only 0, which `setpriority` takes as the whole process."""
    tasks = Path("/proc/self/task")
    if not sys.platform.startswith("linux") or not tasks.is_dir():
        return [0]
    me = threading.get_native_id()
    return [me] + [int(t.name) for t in tasks.iterdir() if t.name.isdigit() and int(t.name) != me]


def lower_this_thread(by: int) -> int | None:
    """Lower only the calling thread's priority by `by` (Linux, where niceness is per thread; threads
    it starts inherit it). Elsewhere nothing changes (a process-wide change would slow the page
    itself) and it returns None."""
    if by <= 0 or not sys.platform.startswith("linux"):
        return None
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(MAX_NICE, now + by))
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError as error:
        log.info("Could not lower the prefetch thread's priority (%s)", error)
        return None
