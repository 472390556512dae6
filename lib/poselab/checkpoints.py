"""Checkpoints: written so that an interrupted or concurrent run never leaves a half-written file behind (and a full
disk is said as such, naming the file),
read so that nothing in a file can run code (``weights_only=True``) and a bad file is named, not a traceback.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import time
import zipfile
from pathlib import Path

import torch

from poselab.io import writing


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: truncated, corrupt, or carrying more than weights (a pickle payload)."""


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` to a uniquely named temporary file beside ``path``, then rename it into place (concurrent
    writers never share a temporary file; readers see the old file or the new one, never part of one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with writing(path):  # torch's error on a full disk names no file: this says which, and where
            with os.fdopen(fd, "wb") as fh:
                torch.save(obj, fh)
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain_reason(e: BaseException) -> str:
    """The first line of an error, as plain text: no terminal colour codes, and without torch's advice that a file
    refused by ``weights_only=True`` "can still be loaded" (doing so would run whatever code it carries)."""
    text = ANSI.sub("", str(e)).strip()
    line = text.splitlines()[0] if text else type(e).__name__
    line = line.split(" This file can still be loaded")[0].strip()
    return line[:160]


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict:
    """A checkpoint's contents, unpickled with ``weights_only=True`` (tensors, numbers, strings, containers: no
    code runs); ``CheckpointError`` naming the file for anything else."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except (FileNotFoundError, PermissionError):
        raise
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, AttributeError,
            OSError) as e:  # a truncated zip ends in OSError (EINVAL) inside torch's reader
        raise CheckpointError(f"{path} cannot be read as a poselab checkpoint ({plain_reason(e)})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path} holds a {type(obj).__name__}, not a poselab checkpoint")
    return obj


def set_aside(path: Path, why: str) -> Path:
    """Rename a bad file out of the way (``last.pt.corrupt-<time>``) with a note beside it; returns the new path."""
    path = Path(path)
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    os.replace(path, target)
    target.with_name(target.name + ".txt").write_text(f"{path.name} was set aside: {why}\n")
    return target


WRAPPER_PREFIXES = ("module.", "model.")  # DataParallel / DistributedDataParallel, and wrapper modules


def strip_prefixes(state: dict, prefixes: tuple[str, ...] = WRAPPER_PREFIXES) -> dict:
    """The state dict with wrapper prefixes removed from every key, in any order and combination
    (``model.module.x``, ``module.model.x`` and ``module.module.x`` all become ``x``)."""
    clean = {}
    for key, value in state.items():
        while (hit := next((p for p in prefixes if key.startswith(p)), None)) is not None:
            key = key[len(hit) :]
        clean[key] = value
    return clean
