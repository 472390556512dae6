"""Worker processes that never outlive the process that started them: ``ProcessPoolExecutor(...,
initializer=die_with_parent)`` starts a watcher thread in each worker that ends it once its parent is gone, so killing a
run (or its notebook kernel) stops its training workers instead of leaving them to finish and write files that a rerun
also writes."""

from __future__ import annotations

import os
import threading
import time


def die_with_parent(poll_seconds: float = 0.5) -> None:
    """Call first thing in a worker: end this process within ``poll_seconds`` of its parent's death."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="poselab-parent-watch", daemon=True).start()
