"""Keypoint accuracy: PCK normalised by torso size (FLIC) and PCKh by head size (MPII).

A joint is correct when its predicted location lies within ``alpha * norm`` of the ground
truth, ``norm`` being the sample's head size (PCKh) or torso size (PCK).  Unannotated joints
are ignored everywhere: they count neither as correct nor as wrong.  So is every joint of a
sample whose normaliser is undefined (NaN: real MPII people without a head box, or without both
torso joints annotated); ``unscored`` counts those samples.

Head size: real MPII uses 0.6 x the diagonal of the annotated head box (``mpii_head_size``);
the synthetic data use the head-top to upper-neck distance (``segment_size``).  Torso size
(FLIC): the distance from the left shoulder to the right hip.
"""

from __future__ import annotations

import numpy as np


def segment_size(joints: np.ndarray, a: int, b: int) -> np.ndarray:
    """Distance between joints a and b per sample; joints (N, J, 2) -> (N,)."""
    return np.linalg.norm(joints[:, a] - joints[:, b], axis=-1)


def mpii_head_size(head_boxes: np.ndarray) -> np.ndarray:
    """MPII's official PCKh normaliser, 0.6 x the head box diagonal; head_boxes (N, 2, 2) as
    [[x1, y1], [x2, y2]] pixels -> (N,)."""
    return 0.6 * np.linalg.norm(head_boxes[:, 1] - head_boxes[:, 0], axis=-1)


def scored(annotated: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """(N, J) bool: the joints that count, annotated and with a defined normaliser."""
    return np.asarray(annotated, bool) & np.isfinite(np.asarray(norm, float))[:, None]


def unscored(annotated: np.ndarray, norm: np.ndarray) -> int:
    """How many samples with annotated joints are left out because their normaliser is undefined."""
    return int((np.asarray(annotated, bool).any(1) & ~np.isfinite(np.asarray(norm, float))).sum())


def correct_mask(pred: np.ndarray, gt: np.ndarray, annotated: np.ndarray, norm: np.ndarray,
                 alpha: float) -> np.ndarray:
    """(N, J) bool: scored and within alpha * norm.  pred, gt (N, J, 2) pixels; norm (N,) pixels."""
    dist = np.linalg.norm(np.asarray(pred, float) - np.asarray(gt, float), axis=-1)
    with np.errstate(invalid="ignore"):
        return scored(annotated, norm) & (dist <= alpha * np.asarray(norm, float)[:, None])


def pck(pred: np.ndarray, gt: np.ndarray, annotated: np.ndarray, norm: np.ndarray, alpha: float = 0.5,
        exclude: tuple[int, ...] = ()) -> tuple[np.ndarray, float]:
    """Per-joint accuracy (J,) and the mean over every annotated joint (each counted once).

    Joints in ``exclude`` (e.g. MPII's pelvis and thorax in the official mean) stay in the
    per-joint array but not in the mean.  A joint never annotated gets NaN.
    """
    ok = correct_mask(pred, gt, annotated, norm, alpha)
    ann = scored(annotated, norm)
    counts = ann.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_joint = np.where(counts > 0, ok.sum(0) / counts, np.nan)
    keep = np.ones(ann.shape[1], bool)
    keep[list(exclude)] = False
    total = ann[:, keep].sum()
    mean = float(ok[:, keep].sum() / total) if total else float("nan")
    return per_joint, mean


def per_sample_pck(pred: np.ndarray, gt: np.ndarray, annotated: np.ndarray, norm: np.ndarray,
                   alpha: float = 0.5) -> np.ndarray:
    """Fraction of each sample's scored joints that are correct, (N,); NaN if none is scored."""
    ok = correct_mask(pred, gt, annotated, norm, alpha)
    n = scored(annotated, norm).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, ok.sum(1) / n, np.nan)


def pck_curve(pred: np.ndarray, gt: np.ndarray, annotated: np.ndarray, norm: np.ndarray, alphas: np.ndarray,
              exclude: tuple[int, ...] = ()) -> np.ndarray:
    """Mean accuracy at each threshold in alphas, (A,)."""
    return np.array([pck(pred, gt, annotated, norm, a, exclude)[1] for a in alphas])
