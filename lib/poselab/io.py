"""Small input/output helpers shared by the science and the report: the git commit, a timestamp, the one atomic
writer (``replace_atomically``: JSON files, checkpoints), the one file lock (``exclusive``: a reports folder, a data
folder), and a full disk said as such (``DiskFull``: which filesystem, which file)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


def git_commit(cwd: Path | None = None) -> str:
    """Short hash of HEAD, with '-dirty' if tracked files changed; 'unknown' outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_json(path: Path, default):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return default


def replace_atomically(path: Path, fill: Callable[[IO], None], binary: bool = False) -> None:
    """``fill`` a uniquely named temporary file beside ``path``, then rename it into place: readers see the old file
    or the new one, never part of one, and concurrent writers never share a temporary file; a full disk is a
    ``DiskFull`` naming the file, and nothing half-written is kept."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with writing(path), os.fdopen(fd, "wb" if binary else "w") as fh:
            fill(fh)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data) -> None:
    """JSON, written atomically (``replace_atomically``)."""
    replace_atomically(path, lambda fh: json.dump(data, fh, indent=1, default=str))


class Locked(RuntimeError):
    """Another process holds the lock (its PID in ``holder``)."""

    def __init__(self, path: Path, holder: str):
        super().__init__(f"{path} is locked by process {holder}")
        self.path, self.holder = path, holder


@contextmanager
def exclusive(path: Path, wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """An exclusive lock on the file ``path`` for the block (``flock``: released when the process ends, however it
    ends), the holder's PID written in it.  Held by another process: ``Locked`` at once, or with ``wait``, first
    ``wait(holder's PID)`` (to say so), then wait for it."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            if wait is None:
                raise Locked(path, holder) from None
            wait(holder)
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield


class DiskFull(OSError):
    """No space left where a file was being written; the message names the filesystem, its free space, the file and
    what to do.  (Picklable, so that it reaches a notebook from a training worker unchanged.)"""

    def __init__(self, message: str):
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return self.strerror

    def __reduce__(self):
        return type(self), (self.strerror,)


# torch.save on a full disk raises RuntimeError("[enforce fail at inline_container.cc:...] . unexpected pos ...") or
# "... file write failed", without an errno; such an error counts as a full disk when the filesystem has less than
# this left (the half-written file still holds its bytes when it is checked).
NEARLY_FULL = 1 << 20


def _mount(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists():
        path = path.parent
    while not os.path.ismount(path):
        path = path.parent
    return path


def filesystem(path: Path) -> str:
    """The filesystem ``path`` is on, for a message: its mount point, type and free space."""
    mount = _mount(path)
    kind = ""
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and fields[1] == str(mount):
                kind = fields[2]
    except OSError:
        pass
    free = shutil.disk_usage(mount).free / 2**20
    return f"{mount} ({kind + ', ' if kind else ''}{free:.1f} MB free)"


def disk_full(path: Path) -> DiskFull:
    return DiskFull(f"no space left on {filesystem(path)} writing {path}: free some space there (or write elsewhere: "
                    "--reports-dir, --data-dir) and rerun; nothing half-written was kept")


def is_disk_full(e: BaseException, path: Path) -> bool:
    """Whether ``e``, raised while writing ``path``, means that its filesystem is full."""
    if isinstance(e, OSError):
        return e.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(e, RuntimeError) and ("unexpected pos" in str(e) or "write failed" in str(e)):
        try:
            return shutil.disk_usage(_mount(path)).free < NEARLY_FULL
        except OSError:
            return False
    return False


def as_disk_full(e: BaseException, where: Path) -> BaseException:
    """``e`` as a ``DiskFull`` when it is a full disk that names no filesystem (its file, else ``where``), else ``e``:
    for the last line of a command, where the write that failed is no longer known."""
    if isinstance(e, OSError) and not isinstance(e, DiskFull) and is_disk_full(e, where):
        return disk_full(Path(e.filename or where))
    return e


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Around a write of ``path``: a full disk (any error that ``is_disk_full``) becomes a ``DiskFull`` naming it."""
    try:
        yield
    except DiskFull:
        raise
    except (OSError, RuntimeError) as e:
        if is_disk_full(e, path):
            raise disk_full(path) from None
        raise
