"""A separate process that imports a box CSV, for the kill-mid-import test.

`box_import_worker TARGET CSV` prints `checking N TOTAL` / `writing N TOTAL` as the import's
progress callback reports, flushed, and `done ADDED` once the transaction has committed.
"""

import sys
from pathlib import Path

from cxrviz.review.box_export import import_boxes
from cxrviz.review.store import Store


def progress(stage: str, done: int, total: int) -> None:
    print(stage, done, total, flush=True)


if __name__ == "__main__":
    target, source = sys.argv[1], Path(sys.argv[2])
    added = import_boxes(Store(target, timeout=30), source, progress=progress)
    print("done", added, flush=True)
