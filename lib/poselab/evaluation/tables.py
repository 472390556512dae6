"""Tables of 2D accuracy: per joint and mean for several models with published numbers kept apart (T02.2), and the
accuracy-vs-threshold curves (F02.2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from poselab.data.joints import get_convention
from poselab.data.pose_dataset import PoseSource
from poselab.evaluation.pck import Evaluation, mean_excludes
from poselab.metrics import pck_curve


@dataclass(frozen=True)
class Quote:
    """A published accuracy, with everything that makes it comparable or not: the source, the model, the data
    set, the joints its mean covers and the metric with its normaliser."""

    value: float
    source: str  # "Bhansali", "public PyTorch reference"
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
                     alphas: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Mean accuracy vs threshold for each model, head- and torso-normalised (F02.2)."""
    excl = mean_excludes(convention)
    norms = source.norm_sizes()
    out = {}
    for label, ev in results.items():
        idx = ev.predictions.indices
        gt, ann = source.joints()[idx], source.annotated()[idx]
        out[label] = {kind: pck_curve(ev.predictions.joints, gt, ann, norms[kind][idx], alphas, excl)
                      for kind in ("head", "torso")}
    return out
