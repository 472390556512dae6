"""2D/3D pose pairs for lifting: synthetic sequences or Human3.6M in the VideoPose3D layout.

Both sources give ``positions_3d[subject][take]`` (T, 17, 3) world metres and
``positions_2d[subject][take]`` = one (T, 17, 2) pixel array per camera, in the Human3.6M-17
joint order (``poselab.data.joints.H36M17``).  A sample is one frame seen by one camera:

* the input: the 16 non-root 2D joints, root-relative, scaled so that the 2D root-head
  distance is 1 (the thesis's pre-processing, after Chen et al.);
* the 3D ground truth in that camera's frame (x right, y down, z forward), root-relative, in
  millimetres (evaluation) and scaled to unit root-head length (the supervised baseline).

Protocol #1 split: train on S1 S5 S6 S7 S8 (every 5th frame), test on S9 S11 (every 64th).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from poselab.data.joints import H36M17, H36M32_TO_17
from poselab.data.synthetic.camera import Camera
from poselab.data.synthetic.config import LiftingSetConfig

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
ROOT = H36M17.index("pelvis")
HEAD = H36M17.index("head_top")  # VideoPose3D's joint 10, "Head"
NON_ROOT = np.array([j for j in range(H36M17.n_joints) if j != ROOT])
HEAD16 = int(np.where(NON_ROOT == HEAD)[0][0])  # the head among the 16 model joints
# The 16 model joints with the names of the thesis's Table 4.1.2.
THESIS_NAMES = ("R_Hip", "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Torso", "Neck", "Nose", "Head",
                "L_Shoulder", "L_Elbow", "L_Wrist", "R_Shoulder", "R_Elbow", "R_Wrist")
# Left/right relabelling of the 16 model joints under a horizontal mirror.
FLIP16 = np.array([int(np.where(NON_ROOT == H36M17.flip_permutation[j])[0][0]) for j in NON_ROOT])


@dataclass
class LiftingSource:
    """One data set of multi-camera pose sequences."""

    name: str  # "synthetic" or "h36m"
    positions_3d: dict  # subject -> take -> (T, 17, 3) world metres
    positions_2d: dict  # subject -> take -> [(T, 17, 2) pixels per camera]
    cameras: dict  # subject -> [Camera per view]
    fps: int = 50


@dataclass
class LiftingSet:
    """N samples (frame x camera) of one split, as arrays."""

    inputs: np.ndarray  # (N, 16, 2) normalised 2D: root-relative, unit root-head length
    targets: np.ndarray  # (N, 16, 3) camera frame, root-relative, unit root-head length
    gt_mm: np.ndarray  # (N, 17, 3) camera frame, root-relative, millimetres
    pixels: np.ndarray  # (N, 17, 2) input 2D joints, pixels
    subject: np.ndarray  # (N,) str
    take: np.ndarray  # (N,) str, e.g. "Walking 1"
    action: np.ndarray  # (N,) str, e.g. "Walking"
    camera: np.ndarray  # (N,) int
    frame: np.ndarray  # (N,) int
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.inputs)

    def subset(self, index: np.ndarray) -> LiftingSet:
        return LiftingSet(**{f.name: getattr(self, f.name)[index] for f in fields(self) if f.name != "meta"},
                          meta=dict(self.meta))


# --------------------------------------------------------------------------- normalisation


def normalize_2d(pixels: np.ndarray) -> np.ndarray:
    """(N, 17, 2) pixels -> (N, 16, 2): root-relative, divided by the 2D root-head distance."""
    rel = pixels - pixels[:, ROOT : ROOT + 1]
    return (rel / np.linalg.norm(rel[:, HEAD : HEAD + 1], axis=-1, keepdims=True))[:, NON_ROOT]


def normalize_3d(camera_frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 17, 3) camera-frame joints -> ((N, 16, 3) root-relative at unit root-head length, (N,) that length)."""
    rel = camera_frame - camera_frame[:, ROOT : ROOT + 1]
    length = np.linalg.norm(rel[:, HEAD], axis=-1)
    return (rel / length[:, None, None])[:, NON_ROOT], length


def with_root(pose16: np.ndarray) -> np.ndarray:
    """(..., 16, C) model joints -> (..., 17, C) with the root at the origin, in H36M-17 order."""
    out = np.zeros((*pose16.shape[:-2], H36M17.n_joints, pose16.shape[-1]), dtype=pose16.dtype)
    out[..., NON_ROOT, :] = pose16
    return out


def flip_poses(poses: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mirror root-relative poses (B, 16, C), 2D or camera-frame 3D, where mask (B,) is true:
    x -> -x (the other coordinates kept), left <-> right."""
    sign = torch.ones(poses.shape[-1], dtype=poses.dtype, device=poses.device)
    sign[0] = -1.0
    return torch.where(mask[:, None, None], poses[:, FLIP16] * sign, poses)


# --------------------------------------------------------------------------- sources


def load_videopose3d(folder: Path, name_3d: str = "data_3d_h36m.npz", name_2d: str = "data_2d_h36m_gt.npz",
                     trusted: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Read VideoPose3D's npz pair: (positions_3d, positions_2d) in H36M-17 order.

    Nothing is unpickled unless pinned: the flat copies written by ``python -m poselab.data convert h36m`` are read
    when present (plain arrays), VideoPose3D's pickled files only when their SHA-256 is in ``trusted`` (the
    manifest's pinned digests); otherwise ``UnsafeFileError`` says how to convert them.
    ``positions_3d`` holds Human3.6M's 32 mocap joints (reduced here to VideoPose3D's 17) or
    already 17; 2D sequences longer than their 3D sequence (a few videos have extra frames)
    are cut to the 3D length.  Takes without 2D are left out.
    """
    folder = Path(folder)
    raw3d, raw2d = _read_poses(folder / name_3d, "positions_3d", trusted), _read_poses(folder / name_2d,
                                                                                       "positions_2d", trusted)
    pos3d: dict = {}
    pos2d: dict = {}
    for subject, takes in raw3d.items():
        for take, p in takes.items():
            views = raw2d.get(subject, {}).get(take)
            if views is None:
                continue
            p = np.asarray(p, np.float32)
            if p.shape[1] == 32:
                p = p[:, H36M32_TO_17]
            if p.shape[1:] != (17, 3):
                raise ValueError(f"{subject}/{take}: 3D shape {p.shape}, expected (T, 32 or 17, 3)")
            n = min(len(p), *(len(v) for v in views))
            pos3d.setdefault(subject, {})[take] = p[:n]
            pos2d.setdefault(subject, {})[take] = [np.asarray(v, np.float32)[:n] for v in views]
    return pos3d, pos2d


def _read_poses(path: Path, key: str, trusted: tuple[str, ...]) -> dict:
    from poselab.data.pose_files import read_poses

    try:
        pos3d, pos2d, _ = read_poses(path, trusted)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing: see the 'h36m' entry of data_manifest.yaml") from None
    poses = pos3d if key == "positions_3d" else pos2d
    if not poses:
        raise ValueError(f"{path} has no {key} dictionary: not a VideoPose3D file")
    return poses


def fit_camera(world: np.ndarray, pixels: np.ndarray, width: int = 1000, height: int = 1000) -> Camera:
    """The pinhole camera that best projects world points (N, 3) onto pixels (N, 2) (normalised DLT).

    For multi-camera data sets that ship without calibration: the cameras are recovered from the
    2D-3D pairs (an ideal pinhole; lens distortion is not modelled).  Human3.6M uses its published
    cameras instead (``poselab.studies.lifting.cameras``).
    """
    def similarity(x):  # Hartley normalisation: centroid at 0, mean distance sqrt(dim)
        mean = x.mean(0)
        s = np.sqrt(x.shape[1]) / np.linalg.norm(x - mean, axis=1).mean()
        T = np.eye(x.shape[1] + 1)
        T[:-1, :-1] *= s
        T[:-1, -1] = -s * mean
        return T

    Tw, Tp = similarity(world), similarity(pixels)
    X = np.c_[world, np.ones(len(world))] @ Tw.T
    u = np.c_[pixels, np.ones(len(pixels))] @ Tp.T
    zero = np.zeros_like(X)
    A = np.concatenate([np.c_[X, zero, -u[:, :1] * X], np.c_[zero, X, -u[:, 1:2] * X]])
    # thin SVD: only the right singular vectors (12 x 12) are needed, not the (2N x 2N) left ones
    P = np.linalg.inv(Tp) @ np.linalg.svd(A, full_matrices=False)[2][-1].reshape(3, 4) @ Tw
    if np.linalg.det(P[:, :3]) < 0:
        P = -P
    # RQ decomposition of M = K R through a QR decomposition of the flipped transpose.
    flip = np.eye(3)[::-1]
    q, r = np.linalg.qr((flip @ P[:, :3]).T)
    K, R = flip @ r.T @ flip, flip @ q.T
    signs = np.diag(np.sign(np.diag(K)))
    K, R = K @ signs, signs @ R  # positive focal lengths; det(R) = +1 because det(M) > 0
    t = np.linalg.solve(K, P[:, 3])  # P = K [R | t] up to the scale of K
    return Camera(K / K[2, 2], R, t, width, height)


def fit_cameras(pos3d: dict, pos2d: dict, n_points: int = 20000, seed: int = 0) -> dict:
    """subject -> [Camera per view], each fitted to a random sample of that subject's 2D-3D pairs."""
    rng = np.random.default_rng(seed)
    cams = {}
    for subject, takes in pos3d.items():
        world = np.concatenate([p.reshape(-1, 3) for p in takes.values()])
        pick = rng.choice(len(world), size=min(n_points, len(world)), replace=False)
        n_views = len(next(iter(pos2d[subject].values())))
        cams[subject] = [
            fit_camera(world[pick], np.concatenate([pos2d[subject][t][v].reshape(-1, 2) for t in takes])[pick])
            for v in range(n_views)
        ]
    return cams


def synthetic_source(data_dir: Path, profile: str, config: LiftingSetConfig) -> LiftingSource:
    """The synthetic lifting set ``config`` of profile ``profile`` (generated if stale), where ``ensure_synthetic``
    keeps it."""
    from poselab.data.synthetic.generate import ensure_lifting_set, load_lifting_set

    root = ensure_lifting_set(Path(data_dir) / "synthetic" / profile / "lifting", config)
    pos3d, pos2d, cams = load_lifting_set(root)
    return LiftingSource("synthetic", pos3d, pos2d, {s: cams for s in pos3d}, config.fps)


def h36m_available(data_dir: Path) -> bool:
    from poselab.data.manifest import check_dataset, load_manifest

    return check_dataset(load_manifest()["h36m"], Path(data_dir), verify=False).state == "present"


def h36m_source(data_dir: Path) -> LiftingSource:
    """Human3.6M from data/h36m (a ManifestError that says how to get it when missing)."""
    from poselab.data.manifest import load_manifest, require
    from poselab.studies.lifting.cameras import published_cameras

    entry = load_manifest()["h36m"]
    folder = require(entry, Path(data_dir))
    trusted = tuple(d for f in entry.files for d in f.sha256)
    pos3d, pos2d = load_videopose3d(folder, trusted=trusted)
    cameras = published_cameras(tuple(pos3d))
    unknown = sorted(set(pos3d) - set(cameras))
    if unknown:
        raise ValueError(f"{folder}: subjects {unknown} have no published Human3.6M cameras "
                         "(poselab/lifting/h36m_cameras.json lists S1, S5, S6, S7, S8, S9, S11)")
    return LiftingSource("h36m", pos3d, pos2d, cameras, 50)


def load_source(data_dir: Path, profile: str, config: LiftingSetConfig, use_real: bool = False) -> LiftingSource:
    """Human3.6M when ``use_real`` (the study's setting) and it is on disk, else the profile's synthetic set."""
    if use_real and h36m_available(data_dir):
        return h36m_source(data_dir)
    return synthetic_source(data_dir, profile, config)


# --------------------------------------------------------------------------- splits


def build_split(source: LiftingSource, subjects: tuple[str, ...], stride: int) -> LiftingSet:
    """Every ``stride``-th frame of the subjects' takes, seen by every camera, as one LiftingSet."""
    parts: dict[str, list] = {k: [] for k in ("pixels", "world", "cam_R", "cam_t", "subject", "take", "camera",
                                              "frame")}
    for subject in subjects:
        for take, world in source.positions_3d.get(subject, {}).items():
            frames = np.arange(0, len(world), stride)
            for v, view in enumerate(source.positions_2d[subject][take]):
                cam = source.cameras[subject][v]
                n = len(frames)
                parts["pixels"].append(view[frames])
                parts["world"].append(world[frames])
                parts["cam_R"].append(np.broadcast_to(cam.R, (n, 3, 3)))
                parts["cam_t"].append(np.broadcast_to(cam.t, (n, 3)))
                parts["subject"] += [subject] * n
                parts["take"] += [take] * n
                parts["camera"].append(np.full(n, v))
                parts["frame"].append(frames)
    if not parts["pixels"]:
        raise ValueError(f"no sequences for subjects {subjects} in the {source.name} lifting set")
    pixels = np.concatenate(parts["pixels"]).astype(np.float64)
    world = np.concatenate(parts["world"]).astype(np.float64)
    R, t = np.concatenate(parts["cam_R"]), np.concatenate(parts["cam_t"])
    cam_frame = np.einsum("nij,nkj->nki", R, world) + t[:, None]
    targets, _ = normalize_3d(cam_frame)
    take = np.array(parts["take"])
    return LiftingSet(
        inputs=normalize_2d(pixels).astype(np.float32),
        targets=targets.astype(np.float32),
        gt_mm=(1000 * (cam_frame - cam_frame[:, ROOT : ROOT + 1])).astype(np.float32),
        pixels=pixels.astype(np.float32),
        subject=np.array(parts["subject"]),
        take=take,
        action=np.array([s.split(" ")[0] for s in take]),
        camera=np.concatenate(parts["camera"]),
        frame=np.concatenate(parts["frame"]),
        meta={"source": source.name, "subjects": tuple(subjects), "stride": stride},
    )


def within_radius(s: LiftingSet, radius: float) -> LiftingSet:
    """The samples whose normalised 2D joints all lie within ``radius`` root-head lengths of the root."""
    return s.subset(np.linalg.norm(s.inputs, axis=-1).max(1) <= radius)


def protocol1_splits(source: LiftingSource, train_stride: int = 5,
                     test_stride: int = 64) -> tuple[LiftingSet, LiftingSet]:
    """(train, test): S1 S5 S6 S7 S8 every ``train_stride``-th frame; S9 S11 every ``test_stride``-th."""
    return build_split(source, TRAIN_SUBJECTS, train_stride), build_split(source, TEST_SUBJECTS, test_stride)
