"""Worker processes that never outlive the process that started them.

``ProcessPoolExecutor(..., initializer=die_with_parent)``: on Linux the kernel sends the worker SIGTERM when
its parent exits (``PR_SET_PDEATHSIG``), and everywhere a watcher thread ends the worker once its parent is
gone; so killing a run (or its notebook kernel) stops its training workers instead of leaving them to finish
and write files that a rerun also writes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(poll_seconds: float = 1.0) -> None:
    """Call first thing in a worker: end this process when its parent dies."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="poselab-parent-watch", daemon=True).start()
