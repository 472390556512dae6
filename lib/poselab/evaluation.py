"""Scoring 2D predictions: PCKh@0.5 and torso PCK@0.2 per joint and mean, per-sample PCKh, the accuracy-vs-threshold
curves, and the T02.2-style table that keeps published numbers apart from ours."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats

from poselab.data.joints import get_convention
from poselab.data.pose_dataset import HeatmapDataset, PoseSource
from poselab.metrics import pck, pck_curve, per_sample_pck, unscored
from poselab.predict import Predictions, predict

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


def seed_std(values: np.ndarray) -> float:
    """The seed-to-seed spread of a result: the sample standard deviation (ddof = 1), NaN for fewer than 2 seeds."""
    values = np.asarray(values, float)
    return float(values.std(ddof=1)) if len(values) > 1 else float("nan")


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's t-test of mean(a) = mean(b) over seeds: (t, two-sided p); NaNs when either side has fewer than 2."""
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan")
    test = stats.ttest_ind(a, b, equal_var=False)
    return float(test.statistic), float(test.pvalue)


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
             alpha_torso: float = 0.2) -> Evaluation:  # fmt: skip
    """PCKh@0.5 and torso PCK@0.2 (per joint and mean) and per-sample PCKh of a model on a dataset."""
    p = predict(model, dataset, device, keep_heatmaps=keep_heatmaps)
    idx = p.indices
    gt, ann = source.joints()[idx], source.annotated()[idx]
    norms = {k: v[idx] for k, v in source.norm_sizes().items()}
    excl = mean_excludes(convention)
    head_j, head_m = pck(p.joints, gt, ann, norms["head"], alpha_head, excl)
    torso_j, torso_m = pck(p.joints, gt, ann, norms["torso"], alpha_torso, excl)
    return Evaluation(p, head_j, head_m, torso_j, torso_m, per_sample_pck(p.joints, gt, ann, norms["head"], alpha_head),
                      {k: unscored(ann, v) for k, v in norms.items()})  # fmt: skip


@dataclass(frozen=True)
class Quote:
    """A published accuracy, with everything that makes it comparable or not: the source, the model, the data
    set, the joints its mean covers and the metric with its normaliser."""

    value: float
    source: str  # "seed 002", "public PyTorch reference"
    model: str  # "8 stacks"
    dataset: str  # "FLIC test", "MPII validation"
    joints: str  # "14 joints", "all 16 joints"
    metric: str  # "PCKh@0.5, the reference's own head normaliser"

    @property
    def label(self) -> str:
        return f"{self.source}, {self.model}: {self.metric}; {self.dataset}, {self.joints}"


PUBLISHED_MEAN = "published mean (its own data, joints and metric: see the column)"


def pck_table(results: dict[str, Evaluation], convention: str, quotes: tuple[Quote, ...] = ()) -> pd.DataFrame:
    """Per-joint and mean accuracy, one column per model and metric (T02.2).

    Our means leave out the pelvis and thorax.  Published numbers get a column each, labelled with their data
    set, joints and metric, and a row of their own: they are never in the same cell row as our means.
    """
    js = get_convention(convention)
    n_excl = len(mean_excludes(convention))
    mean_row = f"mean ({js.n_joints - n_excl} joints, ours)"
    index = [*js.labels, mean_row, *([PUBLISHED_MEAN] if quotes else [])]
    pad = [np.nan] if quotes else []
    cols = {}
    for label, ev in results.items():
        cols[("PCKh@0.5", label)] = [*ev.per_joint_pckh, ev.pckh, *pad]
        cols[("PCK@0.2 (torso)", label)] = [*ev.per_joint_pck, ev.pck, *pad]
    for q in quotes:
        cols[("published (theirs)", q.label)] = [np.nan] * (js.n_joints + 1) + [q.value]
    table = pd.DataFrame(cols, index=index)
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def threshold_curves(results: dict[str, Evaluation], source: PoseSource, convention: str,
                     alphas: np.ndarray) -> dict[str, dict[str, np.ndarray]]:  # fmt: skip
    """Mean accuracy vs threshold for each model, head- and torso-normalised (F02.2)."""
    excl = mean_excludes(convention)
    norms = source.norm_sizes()
    out = {}
    for label, ev in results.items():
        idx = ev.predictions.indices
        gt, ann = source.joints()[idx], source.annotated()[idx]
        out[label] = {kind: pck_curve(ev.predictions.joints, gt, ann, norms[kind][idx], alphas, excl)
                      for kind in ("head", "torso")}  # fmt: skip
    return out
