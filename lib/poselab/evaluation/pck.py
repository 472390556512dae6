"""Scoring 2D predictions: PCKh@0.5 and torso PCK@0.2 per joint and mean, per-sample PCKh (``evaluate``), and the
validation score logged after every training epoch (``pckh_evaluator``).  Part of every 2D run's key
(``poselab.training.code``): the tables built from these scores live in ``poselab.evaluation.tables``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from poselab.data.joints import get_convention
from poselab.data.pose_dataset import HeatmapDataset, PoseSource
from poselab.evaluation.predict import Predictions, predict
from poselab.metrics import pck, per_sample_pck, unscored

# MPII's official mean leaves out the pelvis and thorax; we do the same on every data set.
MEAN_EXCLUDES = ("pelvis", "thorax")


def mean_excludes(convention: str) -> tuple[int, ...]:
    js = get_convention(convention)
    return tuple(js.index(n) for n in MEAN_EXCLUDES if n in js.names)


def pckh_evaluator(val_set: HeatmapDataset, val: PoseSource, convention: str):
    """A callable model -> {"val_pckh": mean PCKh@0.5 on the validation set} for the training log."""

    def validate(model: torch.nn.Module) -> dict[str, float]:
        device = str(next(model.parameters()).device)
        return {"val_pckh": evaluate(model, val_set, val, convention, device).pckh}

    return validate


@dataclass
class Evaluation:
    predictions: Predictions
    per_joint_pckh: np.ndarray  # (J,)
    pckh: float  # mean, pelvis and thorax excluded
    per_joint_pck: np.ndarray  # torso-normalised
    pck: float
    per_sample: np.ndarray  # (N,) PCKh@0.5 per sample
    unscored: dict[str, int]  # "head", "torso" -> samples left out (normaliser undefined on real MPII)


def evaluate(model: torch.nn.Module, dataset: HeatmapDataset, source: PoseSource, convention: str,
             device: str = "cpu", keep_heatmaps: bool = False, alpha_head: float = 0.5,
             alpha_torso: float = 0.2) -> Evaluation:
    """PCKh@0.5 and torso PCK@0.2 (per joint and mean) and per-sample PCKh of a model on a dataset."""
    p = predict(model, dataset, device, keep_heatmaps=keep_heatmaps)
    idx = p.indices
    gt, ann = source.joints()[idx], source.annotated()[idx]
    norms = {k: v[idx] for k, v in source.norm_sizes().items()}
    excl = mean_excludes(convention)
    head_j, head_m = pck(p.joints, gt, ann, norms["head"], alpha_head, excl)
    torso_j, torso_m = pck(p.joints, gt, ann, norms["torso"], alpha_torso, excl)
    return Evaluation(p, head_j, head_m, torso_j, torso_m, per_sample_pck(p.joints, gt, ann, norms["head"], alpha_head),
                      {k: unscored(ann, v) for k, v in norms.items()})
