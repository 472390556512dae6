"""The skip ablation (notebook 03): a trained hourglass evaluated with all its skip branches on, all off, and off one
scale at a time; the weights are never retrained."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from poselab.data.pose_dataset import HeatmapDataset, PoseSource
from poselab.evaluation.pck import Evaluation, evaluate


@dataclass
class SkipAblation:
    """Evaluations of one model on one set of samples: skips on, all off, and off at one scale at a time."""

    on: Evaluation  # with heatmaps
    off: Evaluation  # with heatmaps
    per_scale: dict[int, Evaluation]  # hourglass level (0: the finest) -> only that level's skip off
    resolutions: list[int]  # feature resolution (px) of every level's skip, finest first

    def resolution(self, scale: int) -> str:
        r = self.resolutions[scale]
        return f"{r}x{r}"

    @property
    def finest(self) -> Evaluation:
        """Only the highest-resolution skip off: what keeps the detail the first pooling discards."""
        return self.per_scale[0]


def skip_ablation(model: torch.nn.Module, dataset: HeatmapDataset, source: PoseSource, convention: str,
                  device: str = "cpu", scales: tuple[int, ...] | None = None) -> SkipAblation:
    """The model with all skips on, all off, and off at each of ``scales`` (hourglass levels, 0 the finest; None:
    every level) one at a time; the finest level is always among them.  The skips are restored afterwards."""
    levels = sorted({0, *(range(model.depth) if scales is None else scales)})
    if levels[-1] >= model.depth or levels[0] < 0:
        raise ValueError(f"scales={scales}: the hourglass has levels 0 to {model.depth - 1}")
    try:
        model.set_skips(True)
        on = evaluate(model, dataset, source, convention, device, keep_heatmaps=True)
        model.set_skips(False)
        off = evaluate(model, dataset, source, convention, device, keep_heatmaps=True)
        per_scale = {}
        for scale in levels:
            model.set_skips(True).set_skips(False, [scale])
            per_scale[scale] = evaluate(model, dataset, source, convention, device)
    finally:
        model.set_skips(True)
    return SkipAblation(on, off, per_scale, list(model.skip_resolutions(dataset.size)))
