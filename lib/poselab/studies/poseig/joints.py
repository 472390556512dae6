"""Joint groups along the kinematic chain, joint pairs, and keypoint inversion (He et al. 2023, B.1).

Groups (the source's Fig. D): shoulders and hips are *trunk* joints, elbows and knees *branch* joints,
wrists, ankles and the face points *leaf* joints.  MPII-16 has four joints the source does not place;
we put the pelvis and thorax (the torso's centre line) with the trunk, the upper neck (between the
thorax and the head) with the branches and the head top (the end of the chain, like the face points)
with the leaves.

Pairs for keypoint inversion (Ronchi and Perona): *symmetric* (left vs right of the same joint),
*child-as-parent* (a joint predicted where its parent is: elbow at the shoulder, wrist at the elbow,
knee at the hip, ankle at the knee), *parent-as-child* (the reverse) and *other*.  The source's list
has "left hip versus left elbow" among the child-as-parent pairs, which no kinematic chain contains;
we read it as the wrist-elbow pair its parent-child arrows show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from poselab.data.joints import JointSet, get_convention, mirror_name

GROUPS: dict[str, tuple[str, ...]] = {
    "trunk": ("l_shoulder", "r_shoulder", "l_hip", "r_hip", "pelvis", "thorax"),
    "branch": ("l_elbow", "r_elbow", "l_knee", "r_knee", "upper_neck"),
    "leaf": ("l_wrist", "r_wrist", "l_ankle", "r_ankle", "head_top", "nose", "l_eye", "r_eye", "l_ear", "r_ear"),
}
GROUP_ORDER = tuple(GROUPS)
# child -> parent along the chain, one side (the other is mirrored)
PARENT = {"l_elbow": "l_shoulder", "l_wrist": "l_elbow", "l_knee": "l_hip", "l_ankle": "l_knee"}
RELATIONS = ("symmetric", "child-as-parent", "parent-as-child", "other")


def joint_groups(convention: str | JointSet) -> np.ndarray:
    """The group of each joint of a convention, (J,) strings (every joint has one)."""
    js = get_convention(convention)
    of = {n: g for g, names in GROUPS.items() for n in names}
    missing = [n for n in js.names if n not in of]
    if missing:
        raise ValueError(f"joints {missing} of {js.name} have no kinematic group")
    return np.array([of[n] for n in js.names])


def relation(a: str, b: str) -> str:
    """How joint ``a`` predicted at joint ``b``'s place is classified."""
    parents = {**PARENT, **{mirror_name(c): mirror_name(p) for c, p in PARENT.items()}}
    if a != b and mirror_name(a) == b:
        return "symmetric"
    if parents.get(a) == b:
        return "child-as-parent"
    if parents.get(b) == a:
        return "parent-as-child"
    return "other"


def relation_matrix(convention: str | JointSet) -> np.ndarray:
    """(J, J) relation of joint j predicted at joint k ('' on the diagonal)."""
    names = get_convention(convention).names
    return np.array([[relation(a, b) if a != b else "" for b in names] for a in names])


def inversions(pred: np.ndarray, gt: np.ndarray, annotated: np.ndarray, norm: np.ndarray, alpha: float,
               convention: str | JointSet) -> pd.DataFrame:
    """Every case of joint j predicted at another joint k: farther than alpha * norm from its own ground truth
    and within alpha * norm of joint k's (both annotated), the authors' test with a PCKh-style radius.

    pred, gt (N, J, 2) pixels; annotated (N, J); norm (N,) pixels.  Rows: sample, joint, at (the joint k),
    relation; one per (sample, j, k).
    """
    js = get_convention(convention)
    radius = alpha * np.asarray(norm, float)[:, None, None]
    ann = np.asarray(annotated, bool)
    own = np.linalg.norm(pred - gt, axis=-1)  # (N, J)
    cross = np.linalg.norm(pred[:, :, None] - gt[:, None, :], axis=-1)  # (N, J, K)
    hit = ann[:, :, None] & ann[:, None, :] & (own[:, :, None] > radius) & (cross < radius)
    hit &= ~np.eye(js.n_joints, dtype=bool)[None]
    n, j, k = np.nonzero(hit)
    rel = relation_matrix(js)
    return pd.DataFrame({"sample": n, "joint": j, "at": k, "relation": rel[j, k]})


def pair_counts(annotated: np.ndarray, convention: str | JointSet) -> dict[str, int]:
    """How many (sample, j, k) cases could be an inversion of each relation (both joints annotated)."""
    rel = relation_matrix(convention)
    ann = np.asarray(annotated, bool)
    both = (ann[:, :, None] & ann[:, None, :]).sum(0)
    return {r: int(both[rel == r].sum()) for r in RELATIONS}
