"""The synthetic world's body: bone offsets, per-subject proportions, joint limits, kinematics.

Coordinates are metres in a body frame with +x the subject's left, +y up and +z the
direction the subject faces (right-handed).  A pose is a vector of joint angles, one
per degree of freedom (DOF) in :data:`DOFS`, plus the root's yaw/pitch/roll.  Forward
kinematics only rotates rest-pose bone offsets, so bone lengths never change with pose.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np

from poselab.data.joints import INTERNAL_INDEX, INTERNAL_NAMES, N_INTERNAL, PARENT_INDEX

# Rest pose: each joint's offset from its parent, in the parent's frame (metres).
_REST: dict[str, tuple[float, float, float]] = {
    "pelvis": (0.0, 0.0, 0.0),
    "r_hip": (-0.095, -0.06, 0.0), "r_knee": (0.0, -0.42, 0.0),
    "r_ankle": (0.0, -0.41, -0.01), "r_toe": (0.0, -0.06, 0.14),
    "l_hip": (0.095, -0.06, 0.0), "l_knee": (0.0, -0.42, 0.0),
    "l_ankle": (0.0, -0.41, -0.01), "l_toe": (0.0, -0.06, 0.14),
    "spine": (0.0, 0.21, -0.01), "thorax": (0.0, 0.25, 0.0), "upper_neck": (0.0, 0.09, 0.0),
    "head_center": (0.0, 0.09, 0.015), "head_top": (0.0, 0.115, -0.005),
    "nose": (0.0, -0.005, 0.105), "l_eye": (0.032, 0.025, 0.085), "r_eye": (-0.032, 0.025, 0.085),
    "l_ear": (0.08, 0.0, -0.005), "r_ear": (-0.08, 0.0, -0.005),
    "l_shoulder": (0.175, -0.02, -0.01), "l_elbow": (0.0, -0.29, 0.0),
    "l_wrist": (0.0, -0.255, 0.0), "l_hand": (0.0, -0.085, 0.0),
    "r_shoulder": (-0.175, -0.02, -0.01), "r_elbow": (0.0, -0.29, 0.0),
    "r_wrist": (0.0, -0.255, 0.0), "r_hand": (0.0, -0.085, 0.0),
}
REST_OFFSETS = np.array([_REST[n] for n in INTERNAL_NAMES], dtype=np.float64)


@dataclass(frozen=True)
class DOF:
    """One rotational degree of freedom: joint, axis, sign convention and limits (degrees)."""

    name: str
    joint: str
    axis: str  # "x", "y" or "z" in the joint's parent frame
    sign: float  # maps the anatomical angle (e.g. flexion > 0) onto a right-handed rotation
    lo: float
    hi: float


def _limb_dofs(side: str) -> list[DOF]:
    s = 1.0 if side == "l" else -1.0  # abduction moves a left limb to +x, a right limb to -x
    return [
        DOF(f"{side}_shoulder_flex", f"{side}_shoulder", "x", -1.0, -60, 180),
        DOF(f"{side}_shoulder_abd", f"{side}_shoulder", "z", s, -25, 180),
        DOF(f"{side}_shoulder_twist", f"{side}_shoulder", "y", s, -90, 90),
        DOF(f"{side}_elbow_flex", f"{side}_elbow", "x", -1.0, 0, 150),
        DOF(f"{side}_wrist_flex", f"{side}_wrist", "x", -1.0, -70, 70),
        DOF(f"{side}_hip_flex", f"{side}_hip", "x", -1.0, -30, 130),
        DOF(f"{side}_hip_abd", f"{side}_hip", "z", s, -25, 50),
        DOF(f"{side}_hip_twist", f"{side}_hip", "y", s, -40, 45),
        DOF(f"{side}_knee_flex", f"{side}_knee", "x", 1.0, 0, 150),
        DOF(f"{side}_ankle_flex", f"{side}_ankle", "x", 1.0, -25, 45),
    ]


DOFS: tuple[DOF, ...] = (
    DOF("spine_flex", "spine", "x", 1.0, -25, 60),
    DOF("spine_lat", "spine", "z", -1.0, -25, 25),
    DOF("spine_twist", "spine", "y", 1.0, -35, 35),
    DOF("thorax_flex", "thorax", "x", 1.0, -15, 25),
    DOF("thorax_lat", "thorax", "z", -1.0, -15, 15),
    DOF("thorax_twist", "thorax", "y", 1.0, -20, 20),
    DOF("neck_flex", "upper_neck", "x", 1.0, -45, 50),
    DOF("neck_lat", "upper_neck", "z", -1.0, -35, 35),
    DOF("neck_twist", "upper_neck", "y", 1.0, -75, 75),
    *_limb_dofs("l"),
    *_limb_dofs("r"),
)
DOF_INDEX = {d.name: i for i, d in enumerate(DOFS)}
N_DOFS = len(DOFS)
DOF_LIMITS_DEG = np.array([(d.lo, d.hi) for d in DOFS], dtype=np.float64)
# Root orientation (yaw, pitch, roll): yaw is free, pitch leans the trunk forward.
ROOT_LIMITS_DEG = np.array([(-np.inf, np.inf), (-40.0, 90.0), (-30.0, 30.0)])


def rotation(axis: str, angle: np.ndarray) -> np.ndarray:
    """Right-handed rotation matrices about a coordinate axis; angle (...,) rad -> (..., 3, 3)."""
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(c), np.zeros_like(c)
    if axis == "x":
        rows = ((o, z, z), (z, c, -s), (z, s, c))
    elif axis == "y":
        rows = ((c, z, s), (z, o, z), (-s, z, c))
    elif axis == "z":
        rows = ((c, -s, z), (s, c, z), (z, z, o))
    else:
        raise ValueError(f"axis must be x, y or z, not {axis!r}")
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def root_rotation(root_deg: np.ndarray) -> np.ndarray:
    """Yaw about +y, then pitch forward about +x, then roll about +z; (..., 3) deg -> (..., 3, 3)."""
    r = np.deg2rad(root_deg)
    return rotation("y", r[..., 0]) @ rotation("x", r[..., 1]) @ rotation("z", r[..., 2])


def clip_to_limits(angles_deg: np.ndarray, root_deg: np.ndarray | None = None):
    """Clip joint angles (..., N_DOFS) and optionally root angles (..., 3) to their limits."""
    angles = np.clip(angles_deg, DOF_LIMITS_DEG[:, 0], DOF_LIMITS_DEG[:, 1])
    if root_deg is None:
        return angles
    return angles, np.clip(root_deg, ROOT_LIMITS_DEG[:, 0], ROOT_LIMITS_DEG[:, 1])


# The DOFs acting at each joint, in the order their rotations compose.
_JOINT_DOFS: dict[int, list[int]] = {}
for _k, _d in enumerate(DOFS):
    _JOINT_DOFS.setdefault(INTERNAL_INDEX[_d.joint], []).append(_k)
_DOF_SIGNS = np.array([d.sign for d in DOFS])
_DOF_AXES = np.array([d.axis for d in DOFS])


def forward_kinematics(
    angles_deg: np.ndarray, root_deg: np.ndarray, offsets: np.ndarray = REST_OFFSETS
) -> np.ndarray:
    """Joint positions from joint angles.

    angles_deg: (T, N_DOFS) degrees; root_deg: (T, 3) yaw/pitch/roll in degrees;
    offsets: (27, 3) rest offsets in metres.  Returns (T, 27, 3) metres, pelvis at the origin.
    """
    angles = np.deg2rad(np.atleast_2d(angles_deg)) * _DOF_SIGNS
    n = angles.shape[0]
    dof_rot = np.empty((n, N_DOFS, 3, 3))
    for axis in "xyz":
        on_axis = _DOF_AXES == axis
        dof_rot[:, on_axis] = rotation(axis, angles[:, on_axis])
    local = np.broadcast_to(np.eye(3), (n, N_INTERNAL, 3, 3)).copy()
    for j, dofs in _JOINT_DOFS.items():
        rot = dof_rot[:, dofs[0]]
        for k in dofs[1:]:
            rot = rot @ dof_rot[:, k]
        local[:, j] = rot
    glob = np.empty_like(local)
    pos = np.zeros((n, N_INTERNAL, 3))
    glob[:, 0] = root_rotation(np.atleast_2d(root_deg)) @ local[:, 0]
    for j in range(1, N_INTERNAL):
        p = PARENT_INDEX[j]
        pos[:, j] = pos[:, p] + glob[:, p] @ offsets[j]
        glob[:, j] = glob[:, p] @ local[:, j]
    return pos


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Distance of every joint to its parent; (..., 27, 3) -> (..., 26) (root excluded)."""
    child = np.arange(1, N_INTERNAL)
    return np.linalg.norm(joints[..., child, :] - joints[..., PARENT_INDEX[child], :], axis=-1)


# ---------------------------------------------------------------------------------------
# Subjects: Human3.6M-like names, each with fixed proportions and colouring.

SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8", "S9", "S11")
TRAIN_SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS: tuple[str, ...] = ("S9", "S11")

SKIN_TONES = np.array(
    [(0.96, 0.80, 0.69), (0.91, 0.72, 0.58), (0.80, 0.60, 0.45), (0.66, 0.46, 0.32),
     (0.50, 0.34, 0.23), (0.36, 0.24, 0.17), (0.87, 0.68, 0.55)]
)
HAIR_COLOURS = np.array(
    [(0.10, 0.07, 0.05), (0.25, 0.16, 0.09), (0.45, 0.30, 0.16), (0.72, 0.56, 0.32),
     (0.55, 0.22, 0.10), (0.60, 0.60, 0.60), (0.05, 0.05, 0.05)]
)

_SEGMENTS = {  # which proportion scales each joint's offset
    "leg": ("r_knee", "r_ankle", "l_knee", "l_ankle"),
    "foot": ("r_toe", "l_toe"),
    "hip_width": ("r_hip", "l_hip"),
    "torso": ("spine", "thorax"),
    "neck": ("upper_neck",),
    "head": ("head_center", "head_top", "nose", "l_eye", "r_eye", "l_ear", "r_ear"),
    "shoulder_width": ("l_shoulder", "r_shoulder"),
    "arm": ("l_elbow", "l_wrist", "r_elbow", "r_wrist"),
    "hand": ("l_hand", "r_hand"),
}


@dataclass(frozen=True)
class Subject:
    """A person of the synthetic world: proportions, girth and colouring."""

    name: str
    height: float  # overall scale, 1.0 is about 1.75 m
    scales: dict  # segment name -> relative length
    girth: float  # body-part radius multiplier
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    long_hair: bool

    @property
    def offsets(self) -> np.ndarray:
        """Rest offsets (27, 3) in metres with this subject's proportions."""
        scale = np.ones(N_INTERNAL)
        for seg, joints in _SEGMENTS.items():
            for j in joints:
                scale[INTERNAL_INDEX[j]] = self.scales[seg]
        return REST_OFFSETS * (scale * self.height)[:, None]


def make_subject(name: str) -> Subject:
    """The subject called ``name``; the same name always gives the same person."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    scales = {seg: float(rng.uniform(0.94, 1.06)) for seg in _SEGMENTS}
    scales["shoulder_width"] = float(rng.uniform(0.88, 1.12))
    scales["hip_width"] = float(rng.uniform(0.9, 1.18))
    return Subject(
        name=name,
        height=float(rng.uniform(0.9, 1.08)),
        scales=scales,
        girth=float(rng.uniform(0.85, 1.25)),
        skin=tuple(SKIN_TONES[rng.integers(len(SKIN_TONES))]),
        hair=tuple(HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]),
        long_hair=bool(rng.random() < 0.4),
    )


def vary_appearance(subject: Subject, rng: np.random.Generator) -> Subject:
    """The same skeleton (bone proportions) with another build, skin tone and hair.

    The image sets draw a new appearance for every sequence, as MPII shows thousands of different
    people; keeping each subject's look fixed would let a network memorise five people.
    """
    return replace(
        subject,
        girth=float(rng.uniform(0.85, 1.25)),
        skin=tuple(SKIN_TONES[rng.integers(len(SKIN_TONES))] * rng.uniform(0.92, 1.06)),
        hair=tuple(HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]),
        long_hair=bool(rng.random() < 0.4),
    )


def place_on_ground(joints: np.ndarray, foot_radius: float = 0.04) -> np.ndarray:
    """Translate poses (..., 27, 3) vertically so the lowest foot point touches y = 0."""
    feet = [INTERNAL_INDEX[n] for n in ("r_ankle", "r_toe", "l_ankle", "l_toe")]
    low = joints[..., feet, 1].min(axis=-1) - foot_radius
    out = joints.copy()
    out[..., 1] -= low[..., None]
    return out
