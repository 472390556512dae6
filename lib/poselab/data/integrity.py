"""File digests for generated data: recorded when a set is written, checked before it is used.

``record(folder)`` lists every file of a freshly written set with its size and SHA-256 (stored in the set's
``meta.json``); ``problems(folder, recorded)`` names each file that is missing or differs.  Hashing is cached
by (size, modification time) in ``folder/.hashes.json``, so checking an unchanged set reads no data; a file
rewritten in place gets a new time and is hashed again.  A damaged copy that kept its size and time (``cp -p``, bit
rot) passes that cache: ``problems(..., rehash=True)`` (``python -m poselab.data --verify``, ``make data VERIFY=1``)
hashes every file regardless.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from poselab.io import write_json

CACHE = ".hashes.json"
SKIP = {"meta.json", "timing.json", CACHE}


def file_hash(path: Path, algorithm: str = "sha256", chunk: int = 1 << 22) -> str:
    """The hex digest of a file's bytes (``sha256``, or ``md5`` for the manifest's published checksums)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in SKIP)


def _read_cache(folder: Path) -> dict:
    try:
        return json.loads((folder / CACHE).read_text())
    except (OSError, ValueError):
        return {}


def _digest(path: Path, rel: str, cache: dict, rehash: bool = False) -> str:
    st = path.stat()
    hit = cache.get(rel)
    if not rehash and hit and hit["bytes"] == st.st_size and hit["mtime_ns"] == st.st_mtime_ns:
        return hit["sha256"]
    digest = file_hash(path)
    cache[rel] = {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
    return digest


def _write_cache(folder: Path, cache: dict, before: dict | None = None) -> None:
    """Keep the digests for next time (when any were computed, i.e. ``cache`` differs from ``before``)."""
    if cache == before:
        return
    try:
        write_json(folder / CACHE, cache)
    except OSError:  # a read-only data folder: the digests are computed again next time
        pass


def record(folder: Path) -> dict[str, dict]:
    """relative path -> {"bytes", "sha256"} for every file of ``folder`` (the bookkeeping files excepted)."""
    folder = Path(folder)
    cache: dict = {}
    out = {}
    for p in _files(folder):
        rel = p.relative_to(folder).as_posix()
        out[rel] = {"bytes": p.stat().st_size, "sha256": _digest(p, rel, cache)}
    _write_cache(folder, cache)
    return out


def problems(folder: Path, recorded: dict[str, dict], rehash: bool = False) -> list[str]:
    """Every recorded file that is missing, has another size, or another SHA-256 (one line each); ``rehash``: every
    file's bytes are read, whatever the cache of digests says."""
    folder = Path(folder)
    cache = _read_cache(folder)
    before = dict(cache)
    found = []
    for rel, want in recorded.items():
        p = folder / rel
        if not p.is_file():
            found.append(f"{rel} is missing")
        elif p.stat().st_size != want["bytes"]:
            found.append(f"{rel} has {p.stat().st_size} bytes, {want['bytes']} were written")
        elif _digest(p, rel, cache, rehash) != want["sha256"]:
            found.append(f"{rel} differs from what was written (sha256)")
    _write_cache(folder, cache, before)
    return found


def content_digest(recorded: dict[str, dict]) -> str:
    """One digest of a set's recorded file digests: what run keys and notebook fingerprints use."""
    return hashlib.sha256(json.dumps(recorded, sort_keys=True).encode()).hexdigest()[:16]
