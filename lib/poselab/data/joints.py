"""Joint sets: the synthetic world's internal skeleton and the three public conventions.

The synthetic world simulates a 27-joint skeleton (``INTERNAL``). Every data set the
report uses is a *view* of it in one public convention:

* ``mpii16``  MPII Human Pose, 16 joints (hourglass and HRNet notebooks);
* ``coco17``  COCO keypoints, 17 joints with the face points (skip ablation, PoseIG);
* ``h36m17``  Human3.6M as used by VideoPose3D, 17 joints (3D lifting).

A :class:`JointSet` knows its joint names, where each joint sits in the internal
skeleton, which joints swap under a horizontal flip, the limbs to draw and the joint
groups used in per-joint tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The internal skeleton, parents before children.  ``head_center`` and the hand/toe
# end points exist for rendering; no public convention exports them.
INTERNAL_NAMES: tuple[str, ...] = (
    "pelvis",
    "r_hip", "r_knee", "r_ankle", "r_toe",
    "l_hip", "l_knee", "l_ankle", "l_toe",
    "spine", "thorax", "upper_neck", "head_center", "head_top",
    "nose", "l_eye", "r_eye", "l_ear", "r_ear",
    "l_shoulder", "l_elbow", "l_wrist", "l_hand",
    "r_shoulder", "r_elbow", "r_wrist", "r_hand",
)

INTERNAL_PARENTS: dict[str, str | None] = {
    "pelvis": None,
    "r_hip": "pelvis", "r_knee": "r_hip", "r_ankle": "r_knee", "r_toe": "r_ankle",
    "l_hip": "pelvis", "l_knee": "l_hip", "l_ankle": "l_knee", "l_toe": "l_ankle",
    "spine": "pelvis", "thorax": "spine", "upper_neck": "thorax",
    "head_center": "upper_neck", "head_top": "head_center",
    "nose": "head_center", "l_eye": "head_center", "r_eye": "head_center",
    "l_ear": "head_center", "r_ear": "head_center",
    "l_shoulder": "thorax", "l_elbow": "l_shoulder", "l_wrist": "l_elbow",
    "l_hand": "l_wrist",
    "r_shoulder": "thorax", "r_elbow": "r_shoulder", "r_wrist": "r_elbow",
    "r_hand": "r_wrist",
}

INTERNAL_INDEX: dict[str, int] = {n: i for i, n in enumerate(INTERNAL_NAMES)}
N_INTERNAL = len(INTERNAL_NAMES)
PARENT_INDEX = np.array(
    [-1 if INTERNAL_PARENTS[n] is None else INTERNAL_INDEX[INTERNAL_PARENTS[n]] for n in INTERNAL_NAMES]
)


def mirror_name(name: str) -> str:
    """``l_wrist`` -> ``r_wrist`` and back; centre joints map to themselves."""
    if name.startswith("l_"):
        return "r_" + name[2:]
    if name.startswith("r_"):
        return "l_" + name[2:]
    return name


@dataclass(frozen=True)
class JointSet:
    """A public joint convention as a view of the internal skeleton."""

    name: str
    names: tuple[str, ...]
    limbs: tuple[tuple[str, str], ...]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A display label per joint (the convention's own spelling).
    labels: tuple[str, ...] = ()

    @property
    def n_joints(self) -> int:
        return len(self.names)

    @property
    def internal_index(self) -> np.ndarray:
        """Index of each joint in the internal skeleton, shape (J,)."""
        return np.array([INTERNAL_INDEX[n] for n in self.names])

    def index(self, name: str) -> int:
        return self.names.index(name)

    @property
    def flip_permutation(self) -> np.ndarray:
        """perm such that ``joints[:, perm]`` relabels left as right after a mirror."""
        return np.array([self.names.index(mirror_name(n)) for n in self.names])

    @property
    def limb_index(self) -> np.ndarray:
        """Limbs as index pairs, shape (L, 2)."""
        return np.array([(self.index(a), self.index(b)) for a, b in self.limbs])

    def side(self, name: str) -> str:
        return "left" if name.startswith("l_") else "right" if name.startswith("r_") else "centre"

    def from_internal(self, x: np.ndarray, axis: int = 1) -> np.ndarray:
        """Select this convention's joints from an internal-skeleton array.

        ``axis`` is the joint axis of ``x`` (1 for ``(N, 27, 2)`` joints or ``(N, 27)`` flags).
        """
        return np.take(np.asarray(x), self.internal_index, axis=axis)


_LIMB_GROUPS = {
    "head": ("head_top", "upper_neck", "nose", "l_eye", "r_eye", "l_ear", "r_ear"),
    "shoulder": ("l_shoulder", "r_shoulder"),
    "elbow": ("l_elbow", "r_elbow"),
    "wrist": ("l_wrist", "r_wrist"),
    "hip": ("l_hip", "r_hip"),
    "knee": ("l_knee", "r_knee"),
    "ankle": ("l_ankle", "r_ankle"),
    "torso": ("pelvis", "thorax", "spine"),
}


def _groups_for(names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out = {}
    for g, members in _LIMB_GROUPS.items():
        present = tuple(m for m in members if m in names)
        if present:
            out[g] = present
    return out


MPII16 = JointSet(
    name="mpii16",
    names=(
        "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle",
        "pelvis", "thorax", "upper_neck", "head_top",
        "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist",
    ),
    limbs=(
        ("r_ankle", "r_knee"), ("r_knee", "r_hip"), ("r_hip", "pelvis"),
        ("l_ankle", "l_knee"), ("l_knee", "l_hip"), ("l_hip", "pelvis"),
        ("pelvis", "thorax"), ("thorax", "upper_neck"), ("upper_neck", "head_top"),
        ("r_wrist", "r_elbow"), ("r_elbow", "r_shoulder"), ("r_shoulder", "thorax"),
        ("l_wrist", "l_elbow"), ("l_elbow", "l_shoulder"), ("l_shoulder", "thorax"),
    ),
    labels=(
        "r ankle", "r knee", "r hip", "l hip", "l knee", "l ankle", "pelvis", "thorax",
        "upper neck", "head top", "r wrist", "r elbow", "r shoulder", "l shoulder",
        "l elbow", "l wrist",
    ),
)

COCO17 = JointSet(
    name="coco17",
    names=(
        "nose", "l_eye", "r_eye", "l_ear", "r_ear",
        "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
        "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
    ),
    limbs=(
        ("l_ankle", "l_knee"), ("l_knee", "l_hip"), ("r_ankle", "r_knee"), ("r_knee", "r_hip"),
        ("l_hip", "r_hip"), ("l_shoulder", "l_hip"), ("r_shoulder", "r_hip"),
        ("l_shoulder", "r_shoulder"), ("l_shoulder", "l_elbow"), ("r_shoulder", "r_elbow"),
        ("l_elbow", "l_wrist"), ("r_elbow", "r_wrist"), ("l_eye", "r_eye"), ("nose", "l_eye"),
        ("nose", "r_eye"), ("l_eye", "l_ear"), ("r_eye", "r_ear"), ("l_ear", "l_shoulder"),
        ("r_ear", "r_shoulder"),
    ),
    labels=(
        "nose", "l eye", "r eye", "l ear", "r ear", "l shoulder", "r shoulder", "l elbow",
        "r elbow", "l wrist", "r wrist", "l hip", "r hip", "l knee", "r knee", "l ankle",
        "r ankle",
    ),
)

# Human3.6M's 17-joint subset in VideoPose3D order.  Its joint 9 ("Neck/Nose") sits at
# the nose and joint 10 ("Head") at the top of the head.
H36M17 = JointSet(
    name="h36m17",
    names=(
        "pelvis", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle",
        "spine", "thorax", "nose", "head_top",
        "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
    ),
    limbs=(
        ("pelvis", "r_hip"), ("r_hip", "r_knee"), ("r_knee", "r_ankle"),
        ("pelvis", "l_hip"), ("l_hip", "l_knee"), ("l_knee", "l_ankle"),
        ("pelvis", "spine"), ("spine", "thorax"), ("thorax", "nose"), ("nose", "head_top"),
        ("thorax", "l_shoulder"), ("l_shoulder", "l_elbow"), ("l_elbow", "l_wrist"),
        ("thorax", "r_shoulder"), ("r_shoulder", "r_elbow"), ("r_elbow", "r_wrist"),
    ),
    labels=(
        "Hip", "RHip", "RKnee", "RFoot", "LHip", "LKnee", "LFoot", "Spine", "Thorax",
        "Neck/Nose", "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist",
    ),
)

CONVENTIONS: dict[str, JointSet] = {
    c.name: JointSet(c.name, c.names, c.limbs, _groups_for(c.names), c.labels)
    for c in (MPII16, COCO17, H36M17)
}
MPII16, COCO17, H36M17 = CONVENTIONS["mpii16"], CONVENTIONS["coco17"], CONVENTIONS["h36m17"]


# VideoPose3D keeps these 17 of Human3.6M's 32 mocap joints (it drops the static and duplicate ones).
H36M32_TO_17 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)


def get_convention(name: str | JointSet) -> JointSet:
    """Look a convention up by name (a JointSet passes through), with an error listing the known ones."""
    if isinstance(name, JointSet):
        return name
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown joint convention {name!r}; known: {', '.join(CONVENTIONS)}"
        ) from None
