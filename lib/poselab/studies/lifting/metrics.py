"""Evaluation of lifting: MPJPE, Procrustes-aligned P-MPJPE (Protocol #2), ZV and best-of-k (BH) predictions.

Predictions are in *pose units*: the decoder's Tanh output times the 1.3 scale, root-relative,
with the root-head distance about 1.  P-MPJPE aligns them to the ground truth with the best
similarity transform (scale, rotation, translation), so their unit does not matter.  MPJPE
(Protocol #1) needs a metric scale the method does not predict; here it borrows the ground
truth's root-head length and does no other alignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from poselab.studies.lifting.data import HEAD, LiftingSet, with_root
from poselab.studies.lifting.models import Decoder, Encoder, reparameterize


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """pred (N, J, 3) moved onto gt (N, J, 3) by the least-squares similarity transform.

    Per pose: centre both, rotation from the SVD of the cross-covariance (reflections
    excluded), scale = trace(S D) / |pred|^2, then the ground truth's centroid (Umeyama 1991).
    """
    mp, mg = pred.mean(1, keepdims=True), gt.mean(1, keepdims=True)
    p, g = pred - mp, gt - mg
    u, s, vt = np.linalg.svd(np.einsum("nji,njk->nik", p, g))  # H = P^T G = U S V^T
    d = np.sign(np.linalg.det(np.einsum("nij,njk->nik", u, vt)))
    s[:, -1] *= d
    vt[:, -1] *= d[:, None]
    rot = np.einsum("nij,njk->nik", u, vt)  # p_aligned = p @ (U D V^T)
    scale = s.sum(1) / (p**2).sum((1, 2))
    return scale[:, None, None] * np.einsum("nji,nik->njk", p, rot) + mg


def mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-joint position error (N, J): Euclidean distance, in the units of gt."""
    return np.linalg.norm(pred - gt, axis=-1)


def p_mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-joint error (N, J) after Procrustes alignment of each predicted pose to its ground truth."""
    return mpjpe(procrustes_align(pred, gt), gt)


# --------------------------------------------------------------------------- predictions


@torch.no_grad()
def encode(encoder: Encoder, inputs: np.ndarray, device: str = "cpu",
           batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Normalised 2D (N, 16, 2) -> latent mean and log-variance (N, d), in eval mode."""
    encoder.eval()
    out = [encoder(torch.as_tensor(inputs[i : i + batch], device=device).flatten(1)) for i in
           range(0, len(inputs), batch)]
    return tuple(torch.cat([o[k] for o in out]).cpu().numpy() for k in (0, 1))


@torch.no_grad()
def decode(decoder: Decoder, z: np.ndarray, scale: float = 1.3, device: str = "cpu", batch: int = 4096) -> np.ndarray:
    """Latent (N, d) -> 3D pose (N, 17, 3) in pose units (root added at the origin), in eval mode."""
    decoder.eval()
    out = [decoder(torch.as_tensor(z[i : i + batch], device=device)) for i in range(0, len(z), batch)]
    return with_root(scale * torch.cat(out).cpu().numpy().reshape(len(z), -1, 3))


def sample_hypotheses(mu: np.ndarray, logvar: np.ndarray, k: int, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """k latent samples per pose (k, N, d): mu + scale * sigma * eps, eps ~ N(0, I) (section 2.4.3)."""
    g = torch.Generator().manual_seed(seed)
    m, lv = torch.as_tensor(mu), torch.as_tensor(logvar)
    return torch.stack([reparameterize(m, lv, scale, g) for _ in range(k)]).numpy()


@dataclass
class LiftingEvaluation:
    """One model on one test set.  Errors are per joint (N, 17), millimetres."""

    name: str
    p_mpjpe: np.ndarray  # ZV, Procrustes-aligned (Protocol #2)
    mpjpe: np.ndarray  # ZV, scaled by the ground-truth root-head length, no alignment (Protocol #1)
    bh_p_mpjpe: np.ndarray | None  # best of k hypotheses, per pose by mean P-MPJPE
    prediction: np.ndarray  # (N, 17, 3) ZV prediction, pose units
    aligned: np.ndarray  # (N, 17, 3) ZV prediction after Procrustes alignment, millimetres
    mu: np.ndarray | None = None  # (N, d) latent means
    sigma: np.ndarray | None = None  # (N, d) latent standard deviations

    def summary(self) -> dict[str, float]:
        row = {"P-MPJPE ZV (mm)": self.p_mpjpe.mean(), "MPJPE ZV (mm)": self.mpjpe.mean()}
        if self.bh_p_mpjpe is not None:
            row["P-MPJPE BH (mm)"] = self.bh_p_mpjpe.mean()
        return row


def metric_scale(pred: np.ndarray, gt_mm: np.ndarray) -> np.ndarray:
    """Pose-unit predictions (N, 17, 3) in millimetres, using the ground truth's root-head length."""
    return pred * np.linalg.norm(gt_mm[:, HEAD], axis=-1)[:, None, None]


def _scored(name: str, pred: np.ndarray, test: LiftingSet, bh: np.ndarray | None = None,
            mu: np.ndarray | None = None, sigma: np.ndarray | None = None) -> LiftingEvaluation:
    """A LiftingEvaluation of ZV predictions (N, 17, 3) in pose units: aligned P-MPJPE and metric-scaled MPJPE."""
    aligned = procrustes_align(pred, test.gt_mm)
    return LiftingEvaluation(name, mpjpe(aligned, test.gt_mm), mpjpe(metric_scale(pred, test.gt_mm), test.gt_mm), bh,
                      pred, aligned, mu, sigma)


def evaluate_lifting(encoder: Encoder, decoder: Decoder, test: LiftingSet, name: str, hypotheses: int = 10,
             scale: float = 1.3, seed: int = 0, device: str = "cpu") -> LiftingEvaluation:
    """ZV (z = mu) and, when hypotheses > 0, BH (best of ``hypotheses`` samples) errors on ``test``."""
    mu, logvar = encode(encoder, test.inputs, device)
    bh = None
    if hypotheses > 0:
        z = sample_hypotheses(mu, logvar, hypotheses, seed)
        errs = np.stack([p_mpjpe(decode(decoder, zk, scale, device), test.gt_mm) for zk in z])  # (k, N, 17)
        best = errs.mean(2).argmin(0)
        bh = errs[best, np.arange(len(best))]
    return _scored(name, decode(decoder, mu, scale, device), test, bh, mu, np.exp(0.5 * logvar))


def flat_evaluation(test: LiftingSet) -> LiftingEvaluation:
    """A reference that does no lifting: the normalised 2D input with zero depth, scored like a model."""
    return _scored("flat", with_root(np.concatenate([test.inputs, np.zeros_like(test.inputs[..., :1])], -1)), test)


def action_separability(features: np.ndarray, actions: np.ndarray, groups: np.ndarray | None = None, k: int = 5,
                        seed: int = 0) -> dict[str, float]:
    """How well the action can be told from latent features (N, d).

    Returns the silhouette of the action labels, the 5-fold accuracy of a k-nearest-neighbour
    classifier and the accuracy of always guessing the commonest action.  With ``groups`` (N,)
    (e.g. the sequence of each pose) the folds keep each group whole, so a pose cannot be
    classified by its neighbours in time from the same sequence, and ``same_group`` is the
    fraction of each sample's k nearest neighbours that share its group.
    """
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

    # 5 folds, or one per group where there are fewer groups (a small test set); one group: no held-out fold
    n_folds = 5 if groups is None else min(5, len(np.unique(groups)))
    if groups is None:
        folds = StratifiedKFold(5, shuffle=True, random_state=seed).split(features, actions)
    else:
        folds = GroupKFold(n_folds).split(features, actions, groups) if n_folds >= 2 else []
    folds = list(folds)
    acc = (cross_val_score(KNeighborsClassifier(min(k, len(features) // 2 or 1)), features, actions, cv=folds).mean()
           if folds else float("nan"))
    _, counts = np.unique(actions, return_counts=True)
    out = {"silhouette": float(silhouette_score(features, actions)), "knn_accuracy": float(acc),
           "chance": float(counts.max() / counts.sum())}
    if groups is not None:
        neighbours = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(features)[1][:, 1:]
        out["same_group"] = float((groups[neighbours] == groups[:, None]).mean())
    return out
