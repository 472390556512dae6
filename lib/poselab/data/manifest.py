"""``data_manifest.yaml``: loading, schema validation, status, verification, fetching.

Every problem is reported as a :class:`ManifestError` that names the data set entry and
says how to fix it, instead of a traceback from deep inside a loader.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import yaml

from poselab.data.integrity import file_hash
from poselab.data.pose_files import UnsafeFileError, read_poses

SCHEMA_VERSION = 1
KINDS = ("generated", "real")
ACQUISITIONS = ("generated", "fetch", "manual")
_ENTRY_KEYS = {
    "required": {"title", "kind", "acquisition", "root", "licence", "used_by", "files"},
    "optional": {"description", "homepage", "archives", "instructions", "generator"},
}
_FILE_KEYS = {"path", "kind", "glob", "min_count", "md5", "sha256", "validate", "optional", "partial"}
_HEX = set("0123456789abcdef")
_ARCHIVE_KEYS = {"url", "file", "md5", "bytes", "extract_to", "checksum_note"}


class ManifestError(Exception):
    """A problem with one data set: names the entry and the fix."""

    def __init__(self, entry: str, problem: str, fix: str = ""):
        self.entry, self.problem, self.fix = entry, problem, fix
        super().__init__(f"data set {entry!r}: {problem}" + (f"\n  fix: {fix}" if fix else ""))


@dataclass(frozen=True)
class FileSpec:
    path: str
    kind: str = "file"  # "file" or "dir"
    glob: str = "*"
    min_count: int = 1
    md5: str | None = None
    # SHA-256 digests of files in a pickled layout that may be unpickled (see poselab.data.pose_files)
    sha256: tuple[str, ...] = ()
    validate: str | None = None
    optional: bool = False
    partial: bool = False  # a folder with fewer files than min_count (but some) is a usable part of the data set


class PartialData(ValueError):
    """A file or folder that is a usable part of its data set (a subset of val2017, say): reported as "partial"."""


@dataclass(frozen=True)
class Archive:
    url: str
    file: str
    md5: str | None = None
    bytes: int | None = None
    extract_to: str = "."
    checksum_note: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    kind: str
    acquisition: str
    root: str
    licence: str
    used_by: tuple[str, ...]
    files: tuple[FileSpec, ...]
    archives: tuple[Archive, ...] = ()
    description: str = ""
    homepage: str = ""
    instructions: str = ""
    generator: str = ""

    def folder(self, data_dir: Path, profile: str = "default") -> Path:
        return Path(data_dir) / self.root.format(profile=profile)


@dataclass
class Manifest:
    datasets: dict[str, Dataset] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Dataset:
        if name not in self.datasets:
            raise ManifestError(name, "no such entry in data_manifest.yaml",
                                f"use one of: {', '.join(self.datasets)}")
        return self.datasets[name]


def _is_hex(value, n: int) -> bool:
    return isinstance(value, str) and len(value) == n and set(value.lower()) <= _HEX


def _safe_relative(entry: str, what: str, path: str) -> str:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts:
        raise ManifestError(entry, f"{what} {path!r} must be a relative path inside the data directory",
                            "write it relative to data/ without '..'")
    return path


def _safe_root(entry: str, root: str) -> str:
    """A root that may hold ``{profile}`` (the only placeholder) and is a relative path inside the data directory for
    every profile name."""
    try:
        root.format(profile="default")
    except (KeyError, IndexError, ValueError, AttributeError):  # {user}, {0}, a lone '{', {profile.x}
        raise ManifestError(entry, f"root {root!r} may hold only the placeholder {{profile}}",
                            "write it like synthetic/{profile}/pose2d, or without braces") from None
    return _safe_relative(entry, "root", root)  # a profile's name holds no '/' or '..


def _check_keys(entry: str, where: str, got: dict, allowed: set, required: set = frozenset()) -> None:
    unknown = set(got) - allowed
    if unknown:
        raise ManifestError(entry, f"unknown key(s) {sorted(unknown)} in {where}",
                            f"allowed keys: {sorted(allowed)}")
    missing = set(required) - set(got)
    if missing:
        raise ManifestError(entry, f"missing key(s) {sorted(missing)} in {where}",
                            "add them to the entry in data_manifest.yaml")


# The type every key must have (a mistyped value is an error that names it, not a crash later).
_TYPES = {
    "entry": {"title": str, "kind": str, "acquisition": str, "root": str, "licence": str, "used_by": list,
              "files": list, "description": str, "homepage": str, "archives": list, "instructions": str,
              "generator": str},
    "file": {"path": str, "kind": str, "glob": str, "min_count": int, "md5": str, "sha256": (str, list),
             "validate": str, "optional": bool, "partial": bool},
    "archive": {"url": str, "file": str, "md5": str, "bytes": int, "extract_to": str, "checksum_note": str},
}


def _check_types(entry: str, where: str, got: dict, kind: str) -> None:
    for key, want in _TYPES[kind].items():
        value = got.get(key)
        if value is None and key not in ("path", "url", "file") and kind != "entry":
            continue
        if value is None and kind == "entry" and key not in _ENTRY_KEYS["required"]:
            continue
        ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
        if not ok:
            names = "/".join(t.__name__ for t in (want if isinstance(want, tuple) else (want,)))
            raise ManifestError(entry, f"{key!r} in {where} must be a {names}, not {value!r}", f"fix {key!r}")


def _parse_entry(name: str, raw: dict) -> Dataset:
    if not isinstance(raw, dict):
        raise ManifestError(name, "entry must be a mapping", "see the other entries for the layout")
    _check_keys(name, "the entry", raw, _ENTRY_KEYS["required"] | _ENTRY_KEYS["optional"], _ENTRY_KEYS["required"])
    _check_types(name, "the entry", raw, "entry")
    if raw["kind"] not in KINDS:
        raise ManifestError(name, f"kind {raw['kind']!r} is not one of {KINDS}", "fix the kind")
    if raw["acquisition"] not in ACQUISITIONS:
        raise ManifestError(name, f"acquisition {raw['acquisition']!r} is not one of {ACQUISITIONS}",
                            "fix the acquisition")
    if raw["kind"] == "generated" and not raw.get("generator"):
        raise ManifestError(name, "a generated data set needs a 'generator'", "name the function that makes it")
    if raw["acquisition"] == "fetch" and not raw.get("archives"):
        raise ManifestError(name, "acquisition 'fetch' needs 'archives' with URLs", "list the downloads")
    if not isinstance(raw["files"], list) or not raw["files"]:
        raise ManifestError(name, "'files' must be a non-empty list", "list the files expected on disk")
    files = []
    for f in raw["files"]:
        if not isinstance(f, dict) or "path" not in f:
            raise ManifestError(name, f"file entry {f!r} needs a 'path'", "write {path: ...}")
        _check_keys(name, f"file {f['path']!r}", f, _FILE_KEYS)
        _check_types(name, f"file {f['path']!r}", f, "file")
        if f.get("kind", "file") not in ("file", "dir"):
            raise ManifestError(name, f"file {f['path']!r}: kind must be 'file' or 'dir'", "fix the kind")
        _safe_relative(name, "file path", f["path"])
        _safe_relative(name, f"glob of {f['path']!r}", f.get("glob", "*"))  # a pattern reaching out counts files there
        if f.get("md5") is not None and not _is_hex(f["md5"], 32):
            raise ManifestError(name, f"md5 of {f['path']!r} is not 32 hex digits", "fix the checksum")
        pinned = f.get("sha256") or []
        pinned = [pinned] if isinstance(pinned, str) else pinned
        if not isinstance(pinned, list) or not all(_is_hex(d, 64) for d in pinned):
            raise ManifestError(name, f"sha256 of {f['path']!r} must be 64 hex digits (or a list of them)",
                                "fix the digest")
        f = {**f, "sha256": tuple(pinned)}
        if f.get("validate") is not None and f["validate"] not in VALIDATORS:
            raise ManifestError(name, f"unknown validator {f['validate']!r} for {f['path']!r}",
                                f"use one of: {', '.join(VALIDATORS)}")
        files.append(FileSpec(**f))
    archives = []
    for a in raw.get("archives") or []:
        if not isinstance(a, dict):
            raise ManifestError(name, f"archive entry {a!r} must be a mapping", "write {url: ..., file: ...}")
        _check_keys(name, f"archive {a.get('file')!r}", a, _ARCHIVE_KEYS, {"url", "file"})
        _check_types(name, f"archive {a.get('file')!r}", a, "archive")
        _safe_relative(name, "archive file", a["file"])
        _safe_relative(name, "extract_to", a.get("extract_to", "."))
        if a.get("md5") is not None and not _is_hex(a["md5"], 32):
            raise ManifestError(name, f"md5 of archive {a['file']!r} is not 32 hex digits", "fix the checksum")
        archives.append(Archive(**a))
    return Dataset(
        name=name,
        title=raw["title"],
        kind=raw["kind"],
        acquisition=raw["acquisition"],
        root=_safe_root(name, raw["root"]),
        licence=" ".join(str(raw["licence"]).split()),
        used_by=tuple(str(u) for u in raw["used_by"]),  # type-checked above
        files=tuple(files),
        archives=tuple(archives),
        description=" ".join(str(raw.get("description", "")).split()),
        homepage=raw.get("homepage", ""),
        instructions=" ".join(str(raw.get("instructions", "")).split()),
        generator=raw.get("generator", ""),
    )


def load_manifest(path: Path | None = None) -> Manifest:
    """Read and validate ``data_manifest.yaml`` (default: the repository's)."""
    from poselab.paths import repo_root

    path = Path(path) if path else repo_root() / "data_manifest.yaml"
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ManifestError("<manifest>", f"{path} does not exist", "restore data_manifest.yaml") from None
    except yaml.YAMLError as e:
        raise ManifestError("<manifest>", f"{path} is not valid YAML: {e}", "fix the syntax") from None
    if not isinstance(raw, dict) or raw.get("version") != SCHEMA_VERSION or not isinstance(raw.get("datasets"), dict):
        raise ManifestError("<manifest>", f"expected 'version: {SCHEMA_VERSION}' and a 'datasets' mapping",
                            "compare with the layout documented at the top of the file")
    return Manifest({name: _parse_entry(name, entry) for name, entry in raw["datasets"].items()})


# --------------------------------------------------------------------------- validators


def _validate_videopose3d_3d(path: Path, trusted: tuple[str, ...] = ()) -> str:
    poses, _, _ = read_poses(path, trusted)
    if not isinstance(poses, dict) or not poses:
        raise ValueError("no 3D pose sequences (positions_3d)")
    for subject, actions in poses.items():
        for action, arr in actions.items():
            a = np.asarray(arr)
            if a.ndim != 3 or a.shape[-1] != 3:
                raise ValueError(f"{subject}/{action} has shape {a.shape}, expected (frames, joints, 3)")
    return f"{len(poses)} subjects, {sum(len(a) for a in poses.values())} sequences"


def _validate_videopose3d_2d(path: Path, trusted: tuple[str, ...] = ()) -> str:
    _, poses, meta = read_poses(path, trusted)
    if not isinstance(poses, dict) or not poses:
        raise ValueError("no 2D pose sequences (positions_2d)")
    n_joints = meta.get("num_joints")
    for subject, actions in poses.items():
        for action, views in actions.items():
            for view in views:
                if np.asarray(view).shape[1:] != (n_joints, 2):
                    raise ValueError(f"{subject}/{action} view shape {np.shape(view)}, expected (T, {n_joints}, 2)")
    return f"{len(poses)} subjects, {n_joints} joints"


def _validate_mpii_json(path: Path) -> str:
    """Every person record checked (finite numbers), and every image it names present in ``images/``."""
    from poselab.data.mpii import check_people

    people = json.loads(Path(path).read_text())
    n = check_people(people)
    images = Path(path).parent.parent / "images"
    if images.is_dir():
        present = set(os.listdir(images))
        absent = sorted({p["image"] for p in people} - present)
        if absent:
            raise ValueError(f"{len(absent)} image(s) it names are not in {images} (e.g. {absent[0]})")
    return f"{n} people"


def _validate_mpii_gt_valid(path: Path) -> str:
    from poselab.data.mpii import read_gt_valid

    truth = read_gt_valid(path)
    return f"{len(truth.joints)} validation people, {int(truth.annotated.sum())} annotated joints"


def _validate_mpii_release(path: Path) -> str:
    from poselab.data.mpii import read_release_head_boxes

    boxes = read_release_head_boxes(path)
    if not boxes:
        raise ValueError("no annotated person with a head box")
    return f"{sum(len(b) for b in boxes.values())} head boxes in {len(boxes)} images"


# The released person_keypoints_val2017.json (no digest of the extracted file is published; the archive's MD5 is, and
# ``fetch`` checks it): 5,000 images, whose people HRNet's COCODataset keeps 6,352 of (non-crowd, a box with area,
# at least one keypoint; "=> load 6352 samples" in the logs of its tools/test.py with the ground-truth boxes).
COCO_VAL2017 = {"images": 5000, "people": 6352}


def _validate_coco_keypoints(path: Path) -> str:
    """Every annotation checked (``poselab.data.coco.check_annotations``); val2017's file against the released one's
    pinned counts (``COCO_VAL2017``: another file is a subset, "partial"); and the images it names present in the
    split's folder beside ``annotations/`` (``val2017/``): some absent is "partial" (the study runs on the others)."""
    from poselab.data.coco import check_annotations, load_annotations, person_instances
    from poselab.data.fixtures import is_fixture

    data = json.loads(path.read_text())
    check_annotations(data)
    if not any(c.get("keypoints") for c in data["categories"]):
        raise ValueError("no keypoint category (is this a person_keypoints file?)")
    split = Path(path).stem.rsplit("_", 1)[-1]  # person_keypoints_val2017 -> val2017
    note = f"{len(data['images'])} images, {len(data['annotations'])} person annotations"
    partial = []
    if split == "val2017" and not is_fixture(Path(path).parent.parent):
        kept = len(person_instances(load_annotations(path)).people)
        counts = {"images": len(data["images"]), "people": kept}
        if counts != COCO_VAL2017:
            partial.append(f"not the released val2017 file ({counts['images']} images and {kept} evaluable people "
                           f"against its {COCO_VAL2017['images']} and {COCO_VAL2017['people']}): a subset")
    images = Path(path).parent.parent / split
    if images.is_dir():
        names = {im["file_name"] for im in data["images"]}
        absent = sorted(names - set(os.listdir(images)))
        if absent:
            partial.append(f"{len(absent)} of the {len(names)} images it names are not in {images} (e.g. "
                           f"{absent[0]}): the study runs on the people of the other {len(names) - len(absent)}")
    if partial:
        raise PartialData(f"{note}; " + "; ".join(partial))
    return note


VALIDATORS = {
    "videopose3d_3d": _validate_videopose3d_3d,
    "videopose3d_2d": _validate_videopose3d_2d,
    "mpii_json": _validate_mpii_json,
    "mpii_gt_valid": _validate_mpii_gt_valid,
    "mpii_release_mat": _validate_mpii_release,
    "coco_keypoints_json": _validate_coco_keypoints,
}
PINNABLE = ("videopose3d_3d", "videopose3d_2d")  # validators that read pickled layouts only when pinned


# --------------------------------------------------------------------------- status


IMAGE_MAGIC = {".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",), ".png": (b"\x89PNG\r\n\x1a\n",)}


def unreadable_images(files: list[Path]) -> list[Path]:
    """The image files (by suffix) that are empty or do not start as their format does: a few bytes read of each,
    so that a data set of 25,000 images is checked in seconds."""
    bad = []
    for p in files:
        magic = IMAGE_MAGIC.get(p.suffix.lower())
        if magic is None:
            continue
        with open(p, "rb") as fh:
            head = fh.read(8)
        if not head.startswith(magic):
            bad.append(p)
    return bad


def md5sum(path: Path) -> str:
    return file_hash(path, "md5")


@dataclass
class Status:
    name: str
    state: str  # verified | present | partial | missing | corrupt | not generated | unconverted (pickled, not opened)
    detail: str


def check_dataset(ds: Dataset, data_dir: Path, profile: str = "default", verify: bool = True) -> Status:
    """Which of the entry's files are on disk, and whether they pass their checks."""
    from poselab.data.fixtures import is_fixture

    folder = ds.folder(data_dir, profile)
    fixture = ds.kind == "real" and is_fixture(folder)  # a small set in the real layout (poselab.data.fixtures)
    missing, partial, notes = [], [], ["a fixture in the real layout, not the real data set"] if fixture else []
    for f in ds.files:
        p = folder / f.path
        if f.kind == "dir":
            found = sorted(p.glob(f.glob)) if p.is_dir() else []
            if len(found) < (min(f.min_count, 1) if fixture else f.min_count):
                if f.partial and found:
                    partial.append(f"{f.path}/: {len(found)} of {f.min_count} {f.glob}")
                elif not f.optional:
                    missing.append(f"{f.path}/ ({len(found)} of at least {f.min_count} {f.glob})")
                continue
            if verify and (bad := unreadable_images(found)):
                again = "generate them again" if ds.kind == "generated" else "fetch them again"
                return Status(ds.name, "corrupt", f"{f.path}/: {len(bad)} file(s) are empty or not images "
                                                  f"(e.g. {bad[0].name}); {again}")
            notes.append(f"{f.path}/: {len(found)} files")
            continue
        if not p.is_file():
            if not f.optional:
                missing.append(f.path)
            continue
        if not verify:
            continue
        if f.md5 and md5sum(p) != f.md5:
            return Status(ds.name, "corrupt", f"{f.path}: MD5 differs from the manifest")
        if f.validate:
            try:
                validator = VALIDATORS[f.validate]
                notes.append(f"{f.path}: {validator(p, f.sha256) if f.validate in PINNABLE else validator(p)}")
            except UnsafeFileError as e:
                return Status(ds.name, "unconverted", str(e))
            except PartialData as e:
                partial.append(f"{f.path}: {e}")
            except Exception as e:  # any parse problem means the file is not what we expect
                return Status(ds.name, "corrupt", f"{f.path}: {e}")
    if missing:
        state = "not generated" if ds.kind == "generated" else "missing"
        return Status(ds.name, state, "missing: " + ", ".join(missing))
    if partial:
        return Status(ds.name, "partial", "; ".join([*partial, *notes]) + " (a usable part of the data set)")
    return Status(ds.name, "verified" if verify else "present", "; ".join(notes) or "all files present")


def require(ds: Dataset, data_dir: Path, profile: str = "default") -> Path:
    """The data set's folder, or a ManifestError that says how to obtain it."""
    st = check_dataset(ds, data_dir, profile, verify=False)
    if st.state in ("present", "verified"):
        return ds.folder(data_dir, profile)
    fix = {"generated": f"run `make data PROFILE={profile}`",
           "fetch": f"run `python -m poselab.data fetch {ds.name}`. {ds.instructions}",
           "manual": ds.instructions}[ds.acquisition]
    raise ManifestError(ds.name, f"{st.state} under {ds.folder(data_dir, profile)} ({st.detail})", fix)


# --------------------------------------------------------------------------- fetching


def _check_member(entry: str, name: str, dest: Path) -> Path:
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith(("/", "\\")) or ".." in p.parts or ":" in (p.parts[0] if p.parts else ""):
        raise ManifestError(entry, f"archive member {name!r} would be written outside the data folder",
                            "the archive is unsafe; do not extract it")
    target = (dest / name).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise ManifestError(entry, f"archive member {name!r} escapes the data folder",
                            "the archive is unsafe; do not extract it")
    return target


def safe_extract(archive: Path, dest: Path, entry: str = "<archive>") -> list[str]:
    """Extract a .zip or .tar(.gz) into dest, refusing absolute paths, '..' and links."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    names = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            for info in infos:
                _check_member(entry, info.filename, dest)
                mode = (info.external_attr >> 16) & 0o170000
                if mode == 0o120000:
                    raise ManifestError(entry, f"archive member {info.filename!r} is a symbolic link",
                                        "the archive is unsafe; do not extract it")
            for info in infos:
                zf.extract(info, dest)
                names.append(info.filename)
        return names
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for m in members:
            _check_member(entry, m.name, dest)
            if not (m.isfile() or m.isdir()):
                raise ManifestError(entry, f"archive member {m.name!r} is a link or special file",
                                    "the archive is unsafe; do not extract it")
        for m in members:
            tf.extract(m, dest, set_attrs=False, filter="data")
            names.append(m.name)
    return names


def download(url: str, target: Path, progress: bool = True) -> Path:
    """Download url to target (atomically, via a .part file) with a progress bar."""
    from tqdm.auto import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    with urllib.request.urlopen(url) as resp, open(part, "wb") as out:  # noqa: S310 (URLs come from the manifest)
        total = int(resp.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress) as bar:
            while block := resp.read(1 << 20):
                out.write(block)
                bar.update(len(block))
    os.replace(part, target)
    return target


def fetch(ds: Dataset, data_dir: Path, progress: bool = True, keep_archives: bool = False) -> Status:
    """Download, checksum and safely extract every archive of a fetchable data set."""
    if ds.acquisition != "fetch":
        raise ManifestError(ds.name, f"cannot be downloaded automatically ({ds.acquisition})", ds.instructions)
    folder = ds.folder(data_dir)
    for a in ds.archives:
        path = folder / "downloads" / a.file
        if not path.exists():
            download(a.url, path, progress)
        if a.bytes is not None and path.stat().st_size != a.bytes:
            raise ManifestError(ds.name, f"{a.file} has {path.stat().st_size} bytes, expected {a.bytes}",
                                f"delete {path} and fetch again")
        if a.md5 and md5sum(path) != a.md5:
            raise ManifestError(ds.name, f"{a.file}: MD5 differs from the manifest ({a.md5})",
                                f"delete {path} and fetch again")
        safe_extract(path, folder / a.extract_to, ds.name)
        if not keep_archives:
            path.unlink()
    if not keep_archives:
        shutil.rmtree(folder / "downloads", ignore_errors=True)
    return check_dataset(ds, data_dir)


def status_table(data_dir: Path, profile: str, verify: bool = True) -> list[tuple[Dataset, Status]]:
    """(data set, its status on disk) for every entry of the manifest: what ``python -m poselab.data status`` prints
    and notebook 01 tabulates."""
    return [(ds, check_dataset(ds, data_dir, profile, verify)) for ds in load_manifest().datasets.values()]
