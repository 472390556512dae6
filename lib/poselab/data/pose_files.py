"""Multi-camera pose sequences on disk, read without running code from the file.

VideoPose3D's ``.npz`` files (``data_3d_h36m.npz``, ``data_2d_h36m_gt.npz``) store Python dicts as pickled
object arrays: opening them with numpy's unpickling switched on executes whatever the pickle says.  poselab therefore
never unpickles a file just because it is there:

* **the flat layout** (``save_flat`` / ``load_flat``): one plain array per subject, take and camera, keys like
  ``3d|S1|Walking 1`` and ``2d|S1|Walking 1|0``, metadata as a JSON string; loaded with ``allow_pickle=False``.
  The synthetic lifting set is written this way, and ``convert_pickled`` turns VideoPose3D's files into it;
* **the pickled layout** is read only when the file's SHA-256 is one the manifest pins (``trusted``), else
  ``UnsafeFileError`` names the file and the one-off command that converts it
  (``python -m poselab.data convert h36m``).  Both read the pickles through ``_ArraysOnly``, an unpickler that
  builds numpy arrays and plain containers and refuses every other global, so not even a pinned or converted file
  can run code; numpy's own ``allow_pickle`` is never switched on.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np

from poselab.data.integrity import file_hash

SEP = "|"
FLAT_SUFFIX = ".flat.npz"


class UnsafeFileError(ValueError):
    """A data file that could only be read by unpickling it, and is not pinned as trusted."""


def sha256sum(path: Path) -> str:
    return file_hash(path)


def flat_path(path: Path) -> Path:
    """Where the flat (pickle-free) copy of a pickled VideoPose3D file lives: ``data_3d_h36m.flat.npz``."""
    path = Path(path)
    return path.with_name(path.name.removesuffix(".npz") + FLAT_SUFFIX)


def save_flat(path: Path, positions_3d: dict | None = None, positions_2d: dict | None = None,
              metadata: dict | None = None) -> None:
    """Write subject -> take -> array (3D) and subject -> take -> [array per camera] (2D) as plain arrays, with fixed
    zip timestamps so that equal contents give equal bytes."""
    arrays = {}
    for subject, takes in (positions_3d or {}).items():
        for take, a in takes.items():
            arrays[SEP.join(("3d", subject, take))] = np.asarray(a)
    for subject, takes in (positions_2d or {}).items():
        for take, views in takes.items():
            for v, a in enumerate(views):
                arrays[SEP.join(("2d", subject, take, str(v)))] = np.asarray(a)
    arrays["metadata"] = np.array(json.dumps(metadata or {}))
    for key, a in arrays.items():
        if a.dtype == object:
            raise ValueError(f"{key}: object arrays would need pickling")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, value, allow_pickle=False)


def load_flat(path: Path) -> tuple[dict, dict, dict]:
    """(positions_3d, positions_2d, metadata) of a flat file; pickles are refused (``allow_pickle=False``)."""
    pos3d: dict = {}
    views: dict = {}
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["metadata"])) if "metadata" in z.files else {}
            if not isinstance(meta, dict):
                raise ValueError(f"{path}: the metadata is not a JSON object")
            for key in z.files:
                parts = key.split(SEP)
                if parts[0] == "3d" and len(parts) == 3:
                    pos3d.setdefault(parts[1], {})[parts[2]] = z[key]
                elif parts[0] == "2d" and len(parts) == 4 and parts[3].isdigit():
                    views.setdefault(parts[1], {}).setdefault(parts[2], {})[int(parts[3])] = z[key]
                elif key != "metadata":
                    raise ValueError(f"{path}: member {key!r} is not a pose array of the flat layout")
    except ValueError as e:  # numpy: "Object arrays cannot be loaded when allow_pickle=False", or bad JSON
        if "allow_pickle" in str(e):
            raise UnsafeFileError(f"{path}: {e}; a flat pose file holds plain arrays only") from None
        raise ValueError(str(e) if str(path) in str(e) else f"{path}: {e}") from None
    pos2d = {s: {t: [v[k] for k in sorted(v)] for t, v in takes.items()} for s, takes in views.items()}
    return pos3d, pos2d, meta


def is_flat(path: Path) -> bool:
    """Whether ``path`` is a flat pose file (its members are plain arrays with flat keys)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return "metadata.npy" in names and all(n == "metadata.npy" or SEP in n for n in names)


def has_pickles(path: Path) -> bool:
    """Whether any array in an npz file is an object array (read from the headers; nothing is unpickled)."""
    try:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                with zf.open(name) as fh:
                    if _header(fh)[2].hasobject:
                        return True
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise ValueError(f"{path} is not a readable npz file ({e})") from None
    return False


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds numpy arrays, dtypes and scalars and Python's plain containers, and nothing else:
    any other global a pickle names (``os.system``, a class of its own) is refused before it could run."""

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
               *((m, f) for m in ("numpy.core.multiarray", "numpy._core.multiarray")
                 for f in ("_reconstruct", "scalar"))}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"it names {module}.{name}, which is not a numpy array part")
        return super().find_class(module, name)


def read_npz_objects(path: Path, keys: tuple[str, ...]) -> dict:
    """The members ``keys`` of an npz file: plain arrays as they are, object arrays unpickled by ``_ArraysOnly``
    (their ``.item()`` for 0-d ones, as VideoPose3D stores its dicts).  ``UnsafeFileError`` names the file when a
    pickle asks for anything but arrays."""
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            for key in keys:
                if f"{key}.npy" not in names:
                    continue
                with zf.open(f"{key}.npy") as fh:
                    dtype = _header(fh)[2]
                    if not dtype.hasobject:
                        with zf.open(f"{key}.npy") as again:
                            out[key] = np.lib.format.read_array(again, allow_pickle=False)
                        continue
                    try:
                        value = _ArraysOnly(fh).load()
                    except (pickle.UnpicklingError, AttributeError, EOFError, TypeError, ValueError) as e:
                        raise UnsafeFileError(f"{path}: member {key} is refused: {e}") from None
                if not isinstance(value, np.ndarray):
                    raise UnsafeFileError(f"{path}: member {key} is a {type(value).__name__}, not an array")
                out[key] = value.item() if value.ndim == 0 else value
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"{path} is not a readable npz file ({e})") from None
    return out


def _header(fh):
    version = np.lib.format.read_magic(fh)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return read(fh)


def read_pickled(path: Path, keys: tuple[str, ...], trusted: tuple[str, ...] = ()) -> dict:
    """The objects ``keys`` of a VideoPose3D file.  A file with object arrays is opened only when its SHA-256 is in
    ``trusted``, and even then through ``_ArraysOnly`` (arrays and containers only); a file without object arrays is
    read as plain arrays."""
    if not has_pickles(path):
        return read_npz_objects(path, keys)
    digest = sha256sum(path)
    if digest not in trusted:
        raise UnsafeFileError(
            f"{path} stores pickled Python objects (sha256 {digest[:16]}...), which can run code when opened; it is "
            "not opened.  Convert it once with `python -m poselab.data convert h36m`, or pin its sha256 in "
            "data_manifest.yaml")
    return read_npz_objects(path, keys)


def read_poses(path: Path, trusted: tuple[str, ...] = ()) -> tuple[dict, dict, dict]:
    """(positions_3d, positions_2d, metadata) of a VideoPose3D-style file: the file itself when it is flat, else its
    flat copy (``flat_path``), else the pickled file when pinned (``read_pickled``: ``UnsafeFileError`` otherwise).
    Parts the file does not hold are empty dicts."""
    path = Path(path)
    for candidate in (path, flat_path(path)):
        if candidate.is_file() and is_flat(candidate):
            return load_flat(candidate)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    raw = read_pickled(path, ("positions_3d", "positions_2d", "metadata"), trusted)
    parts = [raw.get(k, {}) for k in ("positions_3d", "positions_2d", "metadata")]
    return tuple(p if isinstance(p, dict) else {} for p in parts)


def convert_pickled(path_3d: Path, path_2d: Path) -> tuple[Path, Path]:
    """The explicit one-off conversion: read VideoPose3D's two files through ``_ArraysOnly`` and write their flat
    copies beside them (``flat_path``).  Returns the two new paths."""
    pos3d = read_npz_objects(path_3d, ("positions_3d",)).get("positions_3d")
    raw2d = read_npz_objects(path_2d, ("positions_2d", "metadata"))
    pos2d, meta = raw2d.get("positions_2d"), raw2d.get("metadata", {})
    for path, value in ((path_3d, pos3d), (path_2d, pos2d)):
        if not isinstance(value, dict):
            raise ValueError(f"{path} holds no VideoPose3D positions dict")
    out3, out2 = flat_path(path_3d), flat_path(path_2d)
    save_flat(out3, positions_3d={s: {t: np.asarray(a, np.float32) for t, a in takes.items()}
                                  for s, takes in pos3d.items()})
    save_flat(out2, positions_2d={s: {t: [np.asarray(v, np.float32) for v in views] for t, views in takes.items()}
                                  for s, takes in pos2d.items()}, metadata=_jsonable(meta))
    return out3, out2


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    return value.item() if hasattr(value, "item") else value
