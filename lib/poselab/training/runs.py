"""One run cache for every trainer: the 2D networks (``poselab.training.loop``, through ``poselab.training.jobs``) and
the lifting models (``poselab.studies.lifting.train``).

A training run is identified by its **key**: a hash of everything that determines its result: the model spec, the
settings, the seed, the data (its sha256, or the arrays themselves) and the declared training code
(``poselab.training.code``).  A finished run is a folder named by its label and key, ``<label>-<key>/final.pt``,
inside a ``RunStore``; asking for a run whose key is there loads it instead of training again, and two settings of
one label keep two folders.

* ``run_key(*parts, arrays=...)``: the key;
* ``RunStore``: where runs are written (``write``) and which other folders' finished runs are reused read-only
  (``read``: an interactive notebook reuses the report's models but never writes among them);
* ``finished_run(path, key, ...)``: the finished checkpoint with that key, or None (a corrupt one is set aside
  with a note, and the run trains again);
* ``save_run(path, key, **state)``: write it atomically;
* ``RunStore.load(label, key)``: a finished run another notebook trained, its key verified, with an error that says
  which notebook to run when it is missing.

Every checkpoint is read with ``weights_only=True`` (``poselab.checkpoints``): nothing in a file can run code.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poselab.checkpoints import CheckpointError, load_checkpoint, save_atomic, set_aside

FINAL = "final.pt"  # a finished run, inside its <label>-<key> folder
# A file the runner names for each notebook it executes: every finished run the notebook trains or loads is listed
# there (one path a line, appended by any process), so that the runner can check later that they are all still there.
USED_ENV = "POSELAB_RUNS_USED"


def note_used(path: Path) -> None:
    """List ``path`` (a finished run) in the runner's file of the runs the executing notebook used, if it names one."""
    log = os.environ.get(USED_ENV)
    if log:
        with open(log, "a") as fh:  # one short line per write: appends from several processes do not interleave
            fh.write(f"{Path(path).resolve()}\n")


def run_key(*parts, arrays: Iterable[np.ndarray] = ()) -> str:
    """A short hash identifying a training run: JSON-able ``parts`` (specs, configs, seeds, digests) and, for data
    held in memory, the bytes of ``arrays``."""
    h = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def load_run_file(path: Path, map_location: str = "cpu") -> dict:
    """A poselab run file's contents; ``CheckpointError`` for one that cannot be read or that another program wrote
    (every poselab run file carries its run key, None for a run without one)."""
    saved = load_checkpoint(path, map_location)
    if "key" not in saved:
        raise CheckpointError(f"{path} holds a dict with the keys {sorted(saved)[:6]} but no run key: not a "
                              "poselab checkpoint (written by another program?)")
    return saved


def readable_or_set_aside(path: Path, map_location: str = "cpu", move: bool = True,
                          needs: tuple[str, ...] = ()) -> dict | None:
    """The checkpoint at ``path``, or None when there is none; a truncated or corrupt one (or one carrying more than
    weights, or a file another program wrote: no run key, or a run file without the entries ``needs`` that its reader
    uses, e.g. a finished run copied over an unfinished one) is renamed out of the way with a note (``set_aside``) and
    the caller starts again without it.  With
    ``move=False`` (a store only read, not ours to change) a bad file is left where it is."""
    if not Path(path).exists():
        return None
    try:
        saved = load_run_file(path, map_location)
        if lacking := [k for k in needs if k not in saved]:
            raise CheckpointError(f"{path} holds a run key but not {', '.join(map(repr, lacking))}: not the "
                                  f"checkpoint expected here (another kind of run file copied or renamed?)")
        return saved
    except CheckpointError as e:
        if not move:
            return None
        moved = set_aside(path, str(e))
        warnings.warn(f"{e}; set aside as {moved.name}, the run starts again without it", stacklevel=2)
        return None


def finished_run(path: Path, key: str, move: bool = True, needs: tuple[str, ...] = (), **expected) -> dict | None:
    """The checkpoint at ``path`` when it is a finished run with ``key`` (and every ``expected`` entry, e.g.
    ``iteration=total``), else None; ``move`` and ``needs`` as for ``readable_or_set_aside``."""
    saved = readable_or_set_aside(path, move=move, needs=needs)
    if saved is None or saved.get("key") != key or any(saved.get(k) != v for k, v in expected.items()):
        return None
    note_used(path)
    return saved


def save_run(path: Path, key: str, **state) -> None:
    """Write a run's checkpoint (weights, history, what ran) atomically, under its key."""
    save_atomic({**state, "key": key}, path)
    if Path(path).name == FINAL:
        note_used(path)


def _is_key(text: str) -> bool:
    return len(text) == 16 and all(c in "0123456789abcdef" for c in text)


class RunMissing(FileNotFoundError):
    """A run that another notebook should have trained is not in the store (or was trained with another key)."""


@dataclass(frozen=True)
class RunStore:
    """Folders of finished runs, one ``<label>-<key>/`` per run.  New runs are trained in ``write``; a finished run
    found in one of ``read`` is reused there and never written to."""

    write: Path
    read: tuple[Path, ...] = ()

    @staticmethod
    def name(label: str, key: str) -> str:
        return f"{label}-{key}"

    def _find(self, label: str, key: str, needs: tuple[str, ...] = ()) -> tuple[Path, dict | None]:
        """The folder of a ``read`` store that holds the finished run, and the run (read without touching the store);
        else the folder in ``write`` and None (its checkpoint not read)."""
        for root in self.read:
            candidate = Path(root) / self.name(label, key)
            saved = finished_run(candidate / FINAL, key, move=False, needs=needs)
            if saved is not None:
                return candidate, saved
        return Path(self.write) / self.name(label, key), None

    def folder(self, label: str, key: str) -> Path:
        """The run's folder: a ``read`` store's when that holds the finished run, else the one in ``write``."""
        return self._find(label, key)[0]

    def others(self, label: str, key: str) -> list[Path]:
        """Finished runs of ``label`` under other keys (what a missing run's message points at)."""
        roots = [Path(self.write), *map(Path, self.read)]
        return sorted(p for root in roots for p in root.glob(f"{label}-*/{FINAL}")
                      if p.parent.name != self.name(label, key) and _is_key(p.parent.name[len(label) + 1:]))

    def load(self, label: str, key: str, hint: str = "run the notebook that trains it first",
             needs: tuple[str, ...] = ()) -> tuple[dict, Path]:
        """The finished run ``label`` with ``key`` (holding the entries ``needs``) and its path; ``RunMissing`` naming
        the folder, the notebook to run (``hint``) and any runs of the label under other keys."""
        folder, saved = self._find(label, key, needs)
        path = folder / FINAL
        saved = saved if saved is not None else finished_run(path, key, needs=needs)
        if saved is None:
            others = self.others(label, key)
            found = (f"; the store holds {label} under other keys (other settings, data or training code): "
                     + ", ".join(p.parent.name for p in others)) if others else ""
            raise RunMissing(f"no finished run {self.name(label, key)} in {path.parent.parent}: {hint}{found}")
        return saved, path
