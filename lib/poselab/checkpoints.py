"""Checkpoints: written so that an interrupted or concurrent run never leaves a half-written file behind (and a full
disk is said as such, naming the file),
read so that nothing in a file can run code (``weights_only=True``) and a bad file is named, not a traceback.
"""

from __future__ import annotations

import os
import pickle
import re
import time
import zipfile
from pathlib import Path

import torch

from poselab.io import replace_atomically


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: truncated, corrupt, junk, or carrying more than weights (a pickle payload)."""


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` through ``poselab.io.replace_atomically``: readers see the old file or the new one."""
    replace_atomically(path, lambda fh: torch.save(obj, fh), binary=True)


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
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Exception as e:  # noqa: BLE001 (any bytes: junk ends in KeyError or IndexError inside torch's unpickler)
        said = isinstance(e, pickle.UnpicklingError | RuntimeError | EOFError | zipfile.BadZipFile | OSError)
        reason = plain_reason(e) if said else f"{type(e).__name__}: {plain_reason(e)}"  # "KeyError: 101"
        raise CheckpointError(f"{path} cannot be read as a poselab checkpoint ({reason})") from None
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


class CheckpointMismatchError(ValueError):
    """A checkpoint's keys or shapes do not match the model; the message lists every difference."""


def official_state_dict(obj: object) -> dict[str, torch.Tensor]:
    """The model weights inside a loaded official checkpoint.

    Accepts a plain state dict (the released ``pose_hrnet_*.pth`` files and ``final_state.pth``) or a training
    ``checkpoint.pth`` (a dict with ``state_dict``); removes the ``module.`` and ``model.`` prefixes
    that DataParallel and wrapper modules add.
    """
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointMismatchError("not a state dict: expected a mapping of parameter names to tensors")
    return strip_prefixes(obj)


def check_state_dict(model: torch.nn.Module, state: dict[str, torch.Tensor], limit: int = 20) -> None:
    """Raise ``CheckpointMismatchError`` listing missing keys, unexpected keys and shape mismatches (the first
    ``limit`` of each, with counts) unless ``state`` fits ``model`` exactly."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)}, model {tuple(v.shape)}"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    problems = []
    for title, items in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes)):
        if items:
            more = f"\n    ... and {len(items) - limit} more" if len(items) > limit else ""
            problems.append(f"  {len(items)} {title}:\n    " + "\n    ".join(items[:limit]) + more)
    if problems:
        raise CheckpointMismatchError("checkpoint does not match the model:\n" + "\n".join(problems))
