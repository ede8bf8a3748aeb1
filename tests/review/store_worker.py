"""A separate process that saves reviews, for the durability and concurrency tests.

`store_worker TARGET REVIEWER COUNT` saves COUNT images; with `--same-image GO_FILE` it saves one
image (the same in every worker) as soon as GO_FILE exists, so several workers race on a first save.
"""

import sys
import time
from pathlib import Path

from cxrviz.review.store import Store

if __name__ == "__main__":
    target, reviewer, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if "--open-at" in sys.argv:  # many processes opening (and so migrating) one empty database at once
        go = Path(sys.argv[sys.argv.index("--open-at") + 1])
        print("ready", flush=True)
        while not go.exists():
            time.sleep(0.005)
        Store(target, timeout=30).save_review(f"{reviewer}.png", reviewer, [], "confirmed")
        sys.exit(0)
    store = Store(target, timeout=30)
    if "--same-image" in sys.argv:
        go = Path(sys.argv[sys.argv.index("--same-image") + 1])
        print("ready", flush=True)
        while not go.exists():
            time.sleep(0.005)
        store.save_review("00000000_000.png", reviewer, ["Effusion"], "corrected", "raced")
        sys.exit(0)
    for i in range(count):
        store.save_review(f"{i:08d}_000.png", reviewer, ["Effusion"] if i % 2 else [], "corrected", f"note {i}")
        if count == 1:
            print("saved", flush=True)
    if count == 1:
        sys.stdin.read()  # stay alive until killed
