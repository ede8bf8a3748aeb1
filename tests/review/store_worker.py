"""A separate process that saves reviews, for the durability and concurrency tests."""

import sys

from cxrviz.review.store import Store

if __name__ == "__main__":
    target, reviewer, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = Store(target)
    for i in range(count):
        store.save_review(f"{i:08d}_000.png", reviewer, ["Effusion"] if i % 2 else [], "corrected", f"note {i}")
        if count == 1:
            print("saved", flush=True)
    if count == 1:
        sys.stdin.read()  # stay alive until killed
