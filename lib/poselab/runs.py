"""One run cache for every trainer: the 2D networks (``poselab.train``), PoseIG's regression model (trained through
the same loop) and the lifting models (``poselab.lifting.train``).

A training run is identified by its **key**: a hash of everything that determines its result (model spec,
configs, seed, the data's digest or arrays, and the digest of the training code).  A finished run is one
checkpoint that records its key; asking for a run whose key matches loads it instead of training again.

* ``code_digest(module)``: the digest of a module and every ``poselab`` module it imports (the only place
  research code hashes code; the runner hashes notebooks with the same walker, ``poselab.code_digest``);
* ``run_key(*parts, arrays=...)``: the key;
* ``finished_run(path, key, ...)``: the finished checkpoint with that key, or None (a corrupt one is set aside
  with a note, and the run trains again);
* ``save_run(path, key, **state)``: write it atomically;
* ``load_run(path)``: read a finished run another notebook trained, with an error that says which notebook to
  run when it is missing (``poselab.studies.pose2d.load_trained`` rebuilds a 2D model from it).

Every checkpoint is read with ``weights_only=True`` (``poselab.checkpoints``): nothing in a file can run code.
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from poselab.checkpoints import CheckpointError, load_checkpoint, save_atomic, set_aside
from poselab.code_digest import digest, reachable_sources

FINAL = "final.pt"  # a finished 2D run (the lifting trainers name theirs after the model: vae_gan.pt)


@functools.cache
def code_digest(module: str) -> str:
    """16 hex digits of the source of ``module`` and every ``poselab`` module it imports, directly or not.  Once per
    process: the code a process runs does not change while it runs (the digest is of the code it imported)."""
    return digest(reachable_sources(f"import {module}"))[:16]


def run_key(*parts, arrays: Iterable[np.ndarray] = ()) -> str:
    """A short hash identifying a training run: JSON-able ``parts`` (specs, configs, seeds, digests) and, for data
    held in memory, the bytes of ``arrays``."""
    h = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def readable_or_set_aside(path: Path, map_location: str = "cpu") -> dict | None:
    """The checkpoint at ``path``, or None when there is none; a truncated or corrupt one (or one carrying more than
    weights) is renamed out of the way with a note (``set_aside``) and the caller starts again without it."""
    if not Path(path).exists():
        return None
    try:
        return load_checkpoint(path, map_location)
    except CheckpointError as e:
        moved = set_aside(path, str(e))
        warnings.warn(f"{e}; set aside as {moved.name}, the run starts again without it", stacklevel=2)
        return None


def finished_run(path: Path, key: str, **expected) -> dict | None:
    """The checkpoint at ``path`` when it is a finished run with ``key`` (and every ``expected`` entry, e.g.
    ``iteration=total``), else None."""
    saved = readable_or_set_aside(path)
    if saved is None or saved.get("key") != key or any(saved.get(k) != v for k, v in expected.items()):
        return None
    return saved


def save_run(path: Path, key: str, **state) -> None:
    """Write a run's checkpoint (weights, history, what ran) atomically, under its key."""
    save_atomic({**state, "key": key}, path)


def load_run(path: Path, hint: str = "run the notebook that trains it first (e.g. make notebooks NB=02)") -> dict:
    """A finished run that another notebook trained; ``FileNotFoundError`` with ``hint`` when it is not there."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no trained model at {path}: {hint}")
    return load_checkpoint(path, "cpu")
