"""The notebooks' Jupyter kernel: ipykernel, with the kernel process's own stderr in a log file.

Cell output (prints, warnings, tracebacks) reaches the executed notebook as always; what a kernel process
writes to its stderr (start-up notes, and the asyncio noise of a kernel that is stopped by Ctrl-C or a kill)
goes to ``POSELAB_KERNEL_LOG`` (``reports/.jupyter/kernel.log``) instead of the terminal, so an interrupted
run ends in the runner's one line.
"""

from __future__ import annotations

import os
import runpy
import sys


def main() -> None:
    log = os.environ.get("POSELAB_KERNEL_LOG")
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    sys.argv = ["ipykernel_launcher", *sys.argv[1:]]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
