"""Writing checkpoints so that an interrupted run never leaves a half-written file behind."""

from __future__ import annotations

import os
from pathlib import Path

import torch


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


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
