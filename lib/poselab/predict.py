"""Running a heatmap network over a data set and mapping its predictions back to source pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader

from poselab.data.pose_dataset import HeatmapDataset
from poselab.data.transforms import transform_points
from poselab.heatmaps import decode_argmax, heatmap_to_input


@dataclass
class Predictions:
    joints: np.ndarray  # (N, J, 2) source pixels
    confidence: np.ndarray  # (N, J) heatmap peak values
    indices: np.ndarray  # (N,) source indices
    heatmaps: np.ndarray | None = None  # (N, J, h, w) last stack, if kept


def heatmaps_of(output: torch.Tensor, stack: int = -1) -> torch.Tensor:
    """The heatmaps of one stack: (B, S, J, h, w) -> (B, J, h, w); (B, J, h, w) passes through."""
    return output[:, stack] if output.ndim == 5 else output


@torch.no_grad()
def predict(model: torch.nn.Module, dataset: HeatmapDataset, device: str = "cpu", batch_size: int = 64,
            keep_heatmaps: bool = False, stack: int = -1) -> Predictions:  # fmt: skip
    """Predict every sample of a (non-augmented) dataset in eval mode; joints in source pixels.

    The model is left in the mode it was in; BatchNorm statistics are never updated here.
    """
    was_training = model.training
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    joints, conf, idx, maps = [], [], [], []
    try:
        for batch in loader:
            out = heatmaps_of(model(batch["image"].to(device)), stack).float().cpu()
            coords, peak = decode_argmax(out)
            inp = heatmap_to_input(coords, dataset.stride).numpy()
            inv = np.linalg.inv(batch["matrix"].numpy())
            src = np.stack([transform_points(p, m) for p, m in zip(inp, inv, strict=True)])
            if batch["flipped"].any():
                raise ValueError("predict() needs a dataset without flip augmentation")
            joints.append(src)
            conf.append(peak.numpy())
            idx.append(batch["index"].numpy())
            if keep_heatmaps:
                maps.append(out.numpy())
    finally:
        model.train(was_training)
    return Predictions(np.concatenate(joints), np.concatenate(conf), np.concatenate(idx),
                       np.concatenate(maps) if keep_heatmaps else None)  # fmt: skip
