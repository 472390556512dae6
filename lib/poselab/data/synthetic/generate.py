"""Generating the synthetic data sets: image sets for 2D pose and multi-view sequences for lifting.

Image sets (``pose2d``) are written as memory-mappable ``.npy`` arrays, one folder per split:

=====================  ===================  ==============================================
file                   shape, dtype         meaning
=====================  ===================  ==============================================
images.npy             (N, S, S, 3) uint8   RGB image
masks.npy              (N, S, ceil(S/8)) u8 person mask, bits packed along the width
joints2d.npy           (N, 27, 2) float32   internal-skeleton joints, pixels (x, y)
joints3d.npy           (N, 27, 3) float32   joints in camera coordinates, metres
status.npy             (N, 27) uint8        visible / self-occluded / occluded / truncated
K.npy, R.npy, t.npy    (N, 3, 3) ...        intrinsics and world-to-camera extrinsics
subject.npy            (N,) uint8           index into meta["subjects"]
action.npy             (N,) uint8           index into meta["actions"]
sequence.npy           (N,) int32           sequence id (frames of a sequence share a scene)
frame.npy              (N,) int32           frame number at 25 fps
center.npy, scale.npy  (N, 2), (N,) float32 MPII-style person centre and scale (200 px units)
=====================  ===================  ==============================================

Every sequence draws its scene from its own seed ``(seed, split, sequence)``, so the bytes
do not depend on how the work is split between processes.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from poselab.data import integrity
from poselab.data.joints import H36M17, INTERNAL_INDEX, INTERNAL_NAMES
from poselab.data.pose_files import load_flat, save_flat
from poselab.data.synthetic import render
from poselab.data.synthetic.camera import Camera, intrinsics, lifting_rig, look_at
from poselab.data.synthetic.config import ImageSetConfig, LiftingSetConfig, SyntheticConfig
from poselab.data.synthetic.motion import ACTION_NAMES, Motion, sample_motion
from poselab.data.synthetic.skeleton import (
    SUBJECTS,
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    Subject,
    forward_kinematics,
    make_subject,
    place_on_ground,
    vary_appearance,
)
from poselab.io import exclusive, writing

FORMAT_VERSION = 3  # 2: the lifting set in the flat (pickle-free) npz layout; 3: every file's sha256 in meta.json
SPLITS = {"train": (0, TRAIN_SUBJECTS), "val": (1, TEST_SUBJECTS)}
FPS_IMAGES = 25


# --------------------------------------------------------------------------- one sample


@dataclass
class Scene:
    """What the frames of one sequence share: person, motion, outfit, light, camera, scenery."""

    subject: Subject
    action: str
    motion: Motion
    outfit: render.Outfit
    light: render.Light
    camera: Camera
    scenery_seed: int
    n_clutter: int
    n_occluders: int
    times: np.ndarray  # (frames,) seconds
    poses: np.ndarray  # (frames, 27, 3) world joints at those times


def _pose_world(subject: Subject, motion: Motion, t: np.ndarray) -> np.ndarray:
    """World joints (T, 27, 3) of a subject performing a motion at times t, feet on the floor."""
    angles, root = motion(t)
    return place_on_ground(forward_kinematics(angles, root, subject.offsets))


def sample_scene(rng: np.random.Generator, cfg: ImageSetConfig, subjects: tuple[str, ...]) -> Scene:
    subject = vary_appearance(make_subject(subjects[rng.integers(len(subjects))]), rng)
    action = ACTION_NAMES[rng.integers(len(ACTION_NAMES))]
    motion = sample_motion(action, rng)
    k = cfg.frames_per_sequence
    times = np.sort(rng.uniform(0, 12, k))
    # Frame the camera on the person's whole movement, so the frames share one camera.
    ref = _pose_world(subject, motion, np.concatenate([times, np.linspace(0, 12, 6)]))
    lo, hi = ref.reshape(-1, 3).min(0), ref.reshape(-1, 3).max(0)
    extent = max(hi[1] - lo[1], 0.8 * max(hi[0] - lo[0], hi[2] - lo[2]), 0.5)
    target = (lo + hi) / 2
    size = cfg.image_size
    fov = np.deg2rad(rng.uniform(35, 60))
    f = size / (2 * np.tan(fov / 2))
    if rng.random() < cfg.p_truncation:  # a tight, upper-body shot
        fill = rng.uniform(1.0, 1.6)
        target = target + np.array([0, rng.uniform(0.1, 0.35) * extent, 0])
    else:
        fill = rng.uniform(0.68, 0.92)
    target = target + rng.uniform(-0.07, 0.07, 3) * extent
    distance = f * extent / (fill * size) + 0.3
    az, el = np.deg2rad(rng.uniform(0, 360)), np.deg2rad(rng.uniform(-8, 30))
    eye = target + distance * np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
    R, t = look_at(eye, target, roll_deg=rng.uniform(-6, 6))
    camera = Camera(intrinsics(f, (size - 1) / 2, (size - 1) / 2), R, t, size, size)
    return Scene(
        subject=subject,
        action=action,
        motion=motion,
        outfit=render.sample_outfit(rng),
        light=render.sample_light(rng),
        camera=camera,
        scenery_seed=int(rng.integers(2**31)),
        n_clutter=int(rng.integers(cfg.clutter[0], cfg.clutter[1] + 1)),
        n_occluders=int(rng.integers(1, 3)) if rng.random() < cfg.p_occluder else 0,
        times=times,
        poses=ref[:k],
    )


@dataclass
class Scenery:
    """The static part of a sequence's images: background and an occluder layer in front."""

    background: np.ndarray  # (H, W, 3) float32
    occluder_rgb: np.ndarray  # (H, W, 3) premultiplied colour
    occluder_alpha: np.ndarray  # (H, W) coverage


def render_scenery(scene: Scene, bank: render.TextureBank) -> Scenery:
    """Background (wall, floor, clutter, the person's shadow) and occluders, drawn once per sequence."""
    cam = scene.camera
    rng = np.random.default_rng(scene.scenery_seed)
    img = render.background(bank, rng, cam)
    render.draw_objects(img, bank, rng, scene.n_clutter, muted=True)
    feet = scene.poses[:, [INTERNAL_INDEX[n] for n in ("l_ankle", "r_ankle", "l_toe", "r_toe")]]
    render.draw_shadow(img, cam, feet.reshape(-1, 3))
    occ_rgb = np.zeros_like(img)
    occ_alpha = np.zeros(img.shape[:2], np.float32)
    if scene.n_occluders:
        uv = cam.project(scene.poses.reshape(-1, 3))
        box = (*uv.min(0), *uv.max(0))
        occ_alpha = render.draw_objects(occ_rgb, bank, rng, scene.n_occluders, region=box)
    return Scenery(img, occ_rgb, occ_alpha)


@dataclass
class Sample:
    image: np.ndarray  # (S, S, 3) uint8
    mask: np.ndarray  # (S, S) bool
    joints2d: np.ndarray  # (27, 2)
    joints3d: np.ndarray  # (27, 3) camera frame
    status: np.ndarray  # (27,)


class StageTimer:
    """Accumulates wall time per named stage (to see where generation time goes)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[stage] += time.perf_counter() - start


_NO_TIMER = StageTimer()


PAINTS = {"black": (0.0, 0.0, 0.0), "white": (1.0, 1.0, 1.0)}


def render_frame(
    scene: Scene,
    frame: int,
    scenery: Scenery,
    bank: render.TextureBank,
    noise_rng: np.random.Generator,
    noise: float = 0.02,
    timer: StageTimer = _NO_TIMER,
    paint: str | None = None,
) -> Sample:
    """Render frame ``frame`` of a scene: person over the scenery, occluders, labels, noise.

    ``paint="black"`` or ``"white"`` paints every pixel of the person that the camera sees in that flat
    colour (anti-aliased at the silhouette, under the occluders), after the noise, on the usual scene:
    PoseIG's test of solid-colour baselines (He et al. 2023, Fig. A).  Labels and the random draws are the
    same as without it.
    """
    cam = scene.camera
    with timer("person"):
        joints_cam = cam.to_camera(scene.poses[frame])
        joints_2d = render.project_points(joints_cam, cam.K)
        parts = render.body_parts(joints_cam, scene.subject, scene.outfit)
        layer = render.rasterize(parts, cam.K, cam.width, cam.height, scene.light)
    with timer("composite"):
        img = scenery.background.copy()
        render.composite(img, layer)
        if scene.n_occluders:
            img *= 1 - scenery.occluder_alpha[..., None]
            img += scenery.occluder_rgb
    with timer("labels"):
        occluder = scenery.occluder_alpha > 0.5
        radii = render.joint_radii(scene.subject)
        status = render.joint_status(joints_cam, joints_2d, layer.depth, radii, occluder)
        mask = (layer.alpha > 0.5) & ~occluder
    with timer("finish"):
        img *= noise_rng.uniform(0.85, 1.12)
        img += noise_rng.uniform(0, noise) * bank.noise_crop(noise_rng, *img.shape[:2])
        if paint is not None:
            if paint not in PAINTS:
                raise ValueError(f"paint must be one of {', '.join(PAINTS)} or None, not {paint!r}")
            seen = (layer.alpha * (1 - scenery.occluder_alpha))[..., None]
            img = img * (1 - seen) + seen * np.asarray(PAINTS[paint], np.float32)
        image = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    return Sample(image, mask, joints_2d.astype(np.float32), joints_cam.astype(np.float32), status)


def render_sample(cfg: ImageSetConfig, split: str, index: int, paint: str | None = None,
                  bank: render.TextureBank | None = None) -> Sample:
    """Sample ``index`` of a generated split rendered again, exactly as ``generate_split`` wrote it, or with
    its person painted (``render_frame``'s ``paint``).  The sequence's random draws are replayed, so the
    scene, the pose and the noise are the stored sample's."""
    split_id, subjects = SPLITS[split]
    k = cfg.frames_per_sequence
    s, j = divmod(index, k)
    bank = bank or render.TextureBank(cfg.seed, cfg.image_size)
    rng = np.random.default_rng([cfg.seed, split_id, s])
    scene = sample_scene(rng, cfg, subjects)
    scenery = render_scenery(scene, bank)
    for earlier in range(j):  # the frames before this one drew their noise from the same generator
        render_frame(scene, earlier, scenery, bank, rng, cfg.noise)
    return render_frame(scene, j, scenery, bank, rng, cfg.noise, paint=paint)


def person_box(joints2d: np.ndarray) -> tuple[np.ndarray, float]:
    """MPII-style centre (2,) and scale (person size / 200 px) from all projected joints."""
    lo, hi = joints2d.min(0), joints2d.max(0)
    return (lo + hi) / 2, float(max(hi - lo) / 200.0)


# --------------------------------------------------------------------------- image sets

_ANNOTATIONS = {
    "joints2d": ((len(INTERNAL_NAMES), 2), np.float32),
    "joints3d": ((len(INTERNAL_NAMES), 3), np.float32),
    "status": ((len(INTERNAL_NAMES),), np.uint8),
    "K": ((3, 3), np.float32),
    "R": ((3, 3), np.float32),
    "t": ((3,), np.float32),
    "subject": ((), np.uint8),
    "action": ((), np.uint8),
    "sequence": ((), np.int32),
    "frame": ((), np.int32),
    "center": ((2,), np.float32),
    "scale": ((), np.float32),
}

_WORKER: dict = {}


def _init_worker(seed: int, image_size: int) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER["bank"] = render.TextureBank(seed, image_size)


def _render_sequences(args) -> tuple[int, dict]:
    """Worker: render sequences [s0, s1) of a split into the memory-mapped arrays."""
    folder, cfg, split, s0, s1, n_total = args
    split_id, subjects = SPLITS[split]
    bank = _WORKER.get("bank") or render.TextureBank(cfg.seed, cfg.image_size)
    images = np.load(Path(folder) / "images.npy", mmap_mode="r+")
    masks = np.load(Path(folder) / "masks.npy", mmap_mode="r+")
    k = cfg.frames_per_sequence
    rows = defaultdict(list)
    for s in range(s0, s1):
        rng = np.random.default_rng([cfg.seed, split_id, s])
        scene = sample_scene(rng, cfg, subjects)
        scenery = render_scenery(scene, bank)
        for j, t in enumerate(scene.times):
            i = s * k + j
            if i >= n_total:
                break
            sample = render_frame(scene, j, scenery, bank, rng, cfg.noise)
            images[i] = sample.image
            masks[i] = np.packbits(sample.mask, axis=-1)
            center, scale = person_box(sample.joints2d)
            for key, value in (
                ("joints2d", sample.joints2d), ("joints3d", sample.joints3d),
                ("status", sample.status), ("K", scene.camera.K), ("R", scene.camera.R),
                ("t", scene.camera.t), ("subject", SUBJECTS.index(scene.subject.name)),
                ("action", ACTION_NAMES.index(scene.action)), ("sequence", s),
                ("frame", round(t * FPS_IMAGES)), ("center", center), ("scale", scale),
            ):
                rows[key].append(value)
    images.flush()
    masks.flush()
    ann = {key: np.asarray(rows[key], dtype).reshape(-1, *shape) for key, (shape, dtype) in _ANNOTATIONS.items()}
    return s0 * k, ann


def _reserve(path: Path) -> None:
    """Allocate a memory-mapped file's blocks now: on a full disk this is an ENOSPC here (said as ``DiskFull``), where
    a sparse file would kill the rendering workers with SIGBUS at their first write and leave the pool waiting."""
    if hasattr(os, "posix_fallocate"):
        with open(path, "r+b") as fh:
            os.posix_fallocate(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)


def generate_split(
    folder: Path, cfg: ImageSetConfig, split: str, n: int, workers: int | None = None, progress: bool = True
) -> None:
    """Render ``n`` samples of a split into ``folder`` using ``workers`` processes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    s = cfg.image_size
    np.lib.format.open_memmap(folder / "images.npy", "w+", np.uint8, (n, s, s, 3)).flush()
    np.lib.format.open_memmap(folder / "masks.npy", "w+", np.uint8, (n, s, (s + 7) // 8)).flush()
    for name in ("images.npy", "masks.npy"):
        _reserve(folder / name)
    k = cfg.frames_per_sequence
    n_seq = -(-n // k)
    chunk = max(1, min(16, n_seq // 8 or 1))
    jobs = [(str(folder), cfg, split, a, min(a + chunk, n_seq), n) for a in range(0, n_seq, chunk)]
    out = {key: np.zeros((n, *shape), dtype) for key, (shape, dtype) in _ANNOTATIONS.items()}
    workers = workers or min(2, os.cpu_count() or 1)
    bar = tqdm(total=n, desc=f"render {split}", unit="img", disable=not progress)
    if workers == 1:
        _init_worker(cfg.seed, cfg.image_size)
        results: Iterator = map(_render_sequences, jobs)
        pool = None
    else:
        pool = mp.get_context("spawn").Pool(workers, _init_worker, (cfg.seed, cfg.image_size))
        results = pool.imap_unordered(_render_sequences, jobs)
    try:
        for start, ann in results:
            m = len(ann["subject"])
            for key in out:
                out[key][start : start + m] = ann[key]
            bar.update(m)
    finally:
        bar.close()
        if pool is not None:
            pool.close()
            pool.join()
    for key, array in out.items():
        np.save(folder / f"{key}.npy", array)


def source_fingerprint() -> str:
    """Hash of the generator's source: data regenerate when the code that makes them changes."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for p in sorted([*here.glob("*.py"), here.parent / "joints.py"]):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _fingerprint(kind: str, cfg) -> str:
    payload = json.dumps({"kind": kind, "format": FORMAT_VERSION, "config": asdict(cfg),
                          "source": source_fingerprint()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _is_current(folder: Path, fingerprint: str, progress: bool = True, verify: bool = False) -> bool:
    """Whether ``folder`` holds the set ``fingerprint`` describes, every file as it was written (sizes and SHA-256
    in meta.json; ``verify``: every file hashed again, whatever its modification time); says why when a set on disk
    is no longer usable and is made again."""
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except ValueError:
        _say(f"{meta_path} is not valid JSON: generating the set again", progress)
        return False
    if meta.get("fingerprint") != fingerprint or "files" not in meta:
        return False
    bad = integrity.problems(folder, meta["files"], rehash=verify)
    if bad:
        _say(f"{folder}: {'; '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}: generating the set again", progress)
        return False
    return True


def _say(message: str, progress: bool) -> None:
    if progress:
        print(message, flush=True)


def content_fingerprint(folder: Path) -> str:
    """The digest of a verified set's files (``ensure_*`` checks them first): part of every run key that reads it."""
    return integrity.content_digest(json.loads((Path(folder) / "meta.json").read_text())["files"])


PARTIAL = ".partial-"  # <set>.partial-<pid>-<random>: a set being written, by one process


@contextmanager
def _atomic_folder(folder: Path) -> Iterator[Path]:
    """Build into a uniquely named temporary sibling and swap it in only when complete (``data_lock`` keeps a second
    process from building the same set meanwhile); a full disk is a ``DiskFull`` naming the set."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}{PARTIAL}{os.getpid()}-", dir=folder.parent))
    try:
        with writing(folder):
            yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def is_partial(folder: Path) -> bool:
    """Whether ``folder`` is a set being written (or left half-written): ``<set>.partial-…``, or ``<set>.partial`` as
    earlier versions named it."""
    name = Path(folder).name
    return PARTIAL in name or name.endswith(".partial")


def remove_partial(base: Path) -> list[Path]:
    """Remove the half-written sets that a killed generation left under ``base`` (call it holding ``data_lock``)."""
    stale = sorted(p for p in Path(base).iterdir() if p.is_dir() and is_partial(p))
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return stale


@contextmanager
def data_lock(base: Path, progress: bool = True) -> Iterator[None]:
    """One generating process per data folder at a time (``poselab.io.exclusive`` on ``base/.lock``).  A second
    process waits for the first, then finds the set it wrote current and uses it."""
    base = Path(base)

    def waiting(pid: str) -> None:
        _say(f"waiting for another poselab process (PID {pid}) generating data in {base}", progress)

    with exclusive(base / ".lock", wait=waiting):
        for p in remove_partial(base):
            _say(f"removed {p.name}, a set that an interrupted generation left half-written", progress)
        yield


def _current_unlocked(root: Path, kind: str, cfg, force: bool, verify: bool) -> bool:
    """Whether the ``kind`` set of ``cfg`` at ``root`` is current, checked without ``data_lock`` and silently: a set
    is only ever swapped in whole (``_atomic_folder``), so a reader sees the old one or the new one.  The lock is for
    generating; without this, the training workers that every notebook starts queued on it one by one to find the
    data current, each saying it waited for another process generating data."""
    return not (force or verify) and _is_current(root, _fingerprint(kind, cfg), progress=False)


def ensure_image_sets(
    root: Path, cfg: ImageSetConfig, workers: int | None = None, progress: bool = True, force: bool = False,
    verify: bool = False,
) -> Path:
    """Generate the train/val image sets under ``root`` unless an identical set is there (``verify``: every file of
    the set on disk hashed to tell)."""
    root = Path(root)
    if _current_unlocked(root, "pose2d", cfg, force, verify):
        return root
    with data_lock(root.parent, progress):
        return _image_sets(root, cfg, workers, progress, force, verify)


def _image_sets(root: Path, cfg: ImageSetConfig, workers: int | None, progress: bool, force: bool,
                verify: bool) -> Path:
    fp = _fingerprint("pose2d", cfg)
    if not force and _is_current(root, fp, progress, verify):
        return root
    start = time.perf_counter()
    with _atomic_folder(root) as tmp:
        for split, n in (("train", cfg.n_train), ("val", cfg.n_val)):
            generate_split(tmp / split, cfg, split, n, workers, progress)
        meta = {
            "fingerprint": fp,
            "kind": "pose2d",
            "format": FORMAT_VERSION,
            "config": asdict(cfg),
            "splits": {"train": cfg.n_train, "val": cfg.n_val},
            "subjects": list(SUBJECTS),
            "split_subjects": {k: list(v[1]) for k, v in SPLITS.items()},
            "actions": list(ACTION_NAMES),
            "joints": list(INTERNAL_NAMES),
            "status_codes": {str(k): v for k, v in render.STATUS_NAMES.items()},
            "fps": FPS_IMAGES,
            "files": integrity.record(tmp),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        (tmp / "timing.json").write_text(
            json.dumps({"seconds": time.perf_counter() - start, "workers": workers})
        )
    return root


# --------------------------------------------------------------------------- lifting set


def take_name(action: str, take: int) -> str:
    """Human3.6M-style sequence name: 'ArmsRaised 1', 'ArmsRaised 2', ..."""
    return "".join(w.capitalize() for w in action.split("_")) + f" {take + 1}"


def lifting_sequence(subject_name: str, action: str, take: int, cfg: LiftingSetConfig) -> np.ndarray:
    """World joints (T, 27, 3) in metres for one take; walkers follow a circle in the capture area."""
    rng = np.random.default_rng([cfg.seed, SUBJECTS.index(subject_name), ACTION_NAMES.index(action), take])
    subject = make_subject(subject_name)
    motion = sample_motion(action, rng)
    t = np.arange(int(cfg.seconds * cfg.fps)) / cfg.fps
    if action == "walking":
        radius, speed = rng.uniform(0.9, 1.5), rng.uniform(0.9, 1.3)
        phi = rng.uniform(0, 2 * np.pi) + speed * t / radius
        motion.root_base[0] = 0.0
        yaw_path = np.rad2deg(phi) + 90.0  # heading tangent to the circle
        position = np.stack([radius * np.sin(phi), np.zeros_like(t), radius * np.cos(phi)], -1)
    else:
        yaw_path = np.full_like(t, rng.uniform(0, 360))
        position = np.tile([rng.uniform(-0.8, 0.8), 0.0, rng.uniform(-0.8, 0.8)], (t.size, 1))
    angles, root = motion(t)
    root[:, 0] += yaw_path
    joints = place_on_ground(forward_kinematics(angles, root, subject.offsets))
    return joints + position[:, None, :]


def ensure_lifting_set(root: Path, cfg: LiftingSetConfig, progress: bool = True, force: bool = False,
                       verify: bool = False) -> Path:
    """Multi-view 2D/3D pose sequences with VideoPose3D's structure (H36M-17 joints), in the flat npz layout of
    ``poselab.data.pose_files`` (plain arrays, nothing pickled).

    ``data_3d_synth.npz``: positions_3d[subject][take] = (T, 17, 3) world metres;
    ``data_2d_synth_gt.npz``: positions_2d[subject][take] = [4 x (T, 17, 2) pixels] and
    metadata; ``cameras.json``: the four cameras' intrinsics and extrinsics.
    """
    root = Path(root)
    if _current_unlocked(root, "lifting", cfg, force, verify):
        return root
    with data_lock(root.parent, progress):
        return _lifting_set(root, cfg, progress, force, verify)


def _lifting_set(root: Path, cfg: LiftingSetConfig, progress: bool, force: bool, verify: bool) -> Path:
    fp = _fingerprint("lifting", cfg)
    if not force and _is_current(root, fp, progress, verify):
        return root
    cams = lifting_rig()
    pos3d: dict = {}
    pos2d: dict = {}
    jobs = [(s, a, k) for s in SUBJECTS for a in ACTION_NAMES for k in range(cfg.takes)]
    for s, a, k in tqdm(jobs, desc="lifting sequences", disable=not progress):
        world = H36M17.from_internal(lifting_sequence(s, a, k, cfg))
        pos3d.setdefault(s, {})[take_name(a, k)] = world.astype(np.float32)
        pos2d.setdefault(s, {})[take_name(a, k)] = [c.project(world).astype(np.float32) for c in cams]
    left = [H36M17.index(n) for n in H36M17.names if n.startswith("l_")]
    right = [H36M17.index(n) for n in H36M17.names if n.startswith("r_")]
    metadata = {"layout_name": "h36m", "num_joints": 17, "keypoints_symmetry": [left, right]}
    with _atomic_folder(root) as tmp:
        save_flat(tmp / "data_3d_synth.npz", positions_3d=pos3d)
        save_flat(tmp / "data_2d_synth_gt.npz", positions_2d=pos2d, metadata=metadata)
        cameras = [
            {"id": i, "width": c.width, "height": c.height, "K": c.K.tolist(), "R": c.R.tolist(),
             "t": c.t.tolist()}
            for i, c in enumerate(cams)
        ]
        (tmp / "cameras.json").write_text(json.dumps(cameras, indent=1))
        meta = {"fingerprint": fp, "kind": "lifting", "format": FORMAT_VERSION, "config": asdict(cfg),
                "subjects": list(SUBJECTS), "actions": list(ACTION_NAMES), "joints": list(H36M17.names),
                "takes": [take_name(a, k) for a in ACTION_NAMES for k in range(cfg.takes)],
                "files": integrity.record(tmp)}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    return root


def ensure_synthetic(data_dir: Path, cfg: SyntheticConfig, name: str, workers: int | None = None,
                     progress: bool = True, force: bool = False, verify: bool = False) -> dict[str, Path]:
    """Both synthetic sets of profile ``name`` under ``data_dir/synthetic/name``, made only if stale (``verify``:
    every file hashed to tell)."""
    base = Path(data_dir) / "synthetic" / name
    return {
        "pose2d": ensure_image_sets(base / "pose2d", cfg.images, workers, progress, force, verify),
        "lifting": ensure_lifting_set(base / "lifting", cfg.lifting, progress, force, verify),
    }


def load_lifting_set(root: Path) -> tuple[dict, dict, list[Camera]]:
    """(positions_3d, positions_2d, cameras) of a lifting set written by ensure_lifting_set."""
    root = Path(root)
    pos3d, _, _ = load_flat(root / "data_3d_synth.npz")
    _, pos2d, _ = load_flat(root / "data_2d_synth_gt.npz")
    cams = [Camera(np.array(c["K"]), np.array(c["R"]), np.array(c["t"]), c["width"], c["height"])
            for c in json.loads((root / "cameras.json").read_text())]
    return pos3d, pos2d, cams


def render_view(world: np.ndarray, subject_name: str, camera: Camera, seed: int = 0) -> np.ndarray:
    """Render one posed person (27 world joints) seen by ``camera`` on a plain scene; (H, W, 3) uint8."""
    rng = np.random.default_rng(seed)
    bank = render.TextureBank(seed, max(camera.width, camera.height) // 2, n_textures=4)
    subject = make_subject(subject_name)
    img = render.background(bank, rng, camera)
    feet = world[[INTERNAL_INDEX[n] for n in ("l_ankle", "r_ankle", "l_toe", "r_toe")]]
    render.draw_shadow(img, camera, feet)
    layer = render.rasterize(render.body_parts(camera.to_camera(world), subject, render.sample_outfit(rng)),
                             camera.K, camera.width, camera.height, render.sample_light(rng))
    render.composite(img, layer)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
