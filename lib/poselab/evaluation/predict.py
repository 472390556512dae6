"""Running a heatmap network over a data set and mapping its predictions back to source pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader

from poselab.data.feeding import feeding_of
from poselab.data.pose_dataset import HeatmapDataset, source_images
from poselab.data.transforms import transform_points
from poselab.heatmaps import decode_argmax


@dataclass
class Predictions:
    joints: np.ndarray  # (N, J, 2) source pixels
    confidence: np.ndarray  # (N, J) heatmap peak values (NaN for a model that outputs coordinates)
    indices: np.ndarray  # (N,) source indices
    heatmaps: np.ndarray | None = None  # (N, J, h, w) last stack, if kept


def heatmaps_of(output: torch.Tensor, stack: int = -1) -> torch.Tensor:
    """The heatmaps of one stack: (B, S, J, h, w) -> (B, J, h, w); (B, J, h, w) passes through."""
    return output[:, stack] if output.ndim == 5 else output


def stack_output(model: torch.nn.Module, output: torch.Tensor, stack: int = -1) -> torch.Tensor:
    """One stack's output of any pose model: heatmaps (B, J, h, w), or coordinates (B, J, 2) for a model whose
    ``outputs`` is ``"coordinates"`` (its forward gives (B, S, J, 2))."""
    if getattr(model, "outputs", "heatmaps") == "coordinates":
        return output[:, stack] if output.ndim == 4 else output
    return heatmaps_of(output, stack)


def batches_in_order(dataset: HeatmapDataset, batch_size: int, device: str = "cpu"):
    """The dataset's items in order, ``batch_size`` at a time: cut and warped together on ``device`` where the
    source's images sit in one array (``HeatmapDataset.batch``), else through a DataLoader."""
    images = source_images(dataset.source)
    if images is None:
        yield from DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
        return
    images = images.to(device)
    for start in range(0, len(dataset), batch_size):
        yield dataset.batch(np.arange(start, min(start + batch_size, len(dataset))), images)


@torch.no_grad()
def predict(model: torch.nn.Module, dataset: HeatmapDataset, device: str = "cpu", batch_size: int = 64,
            keep_heatmaps: bool = False, stack: int = -1) -> Predictions:
    """Predict every sample of a (non-augmented) dataset in eval mode; joints in source pixels.

    Heatmap networks are decoded by the argmax (``decode_argmax``), their cells placed in the input as the network
    was trained (``poselab.data.feeding``); an integral-regression model (``outputs == "coordinates"``) gives its
    coordinates directly.  The model is left in the mode it was in; BatchNorm statistics are never updated here.
    """
    feeding = feeding_of(model)
    if dataset.feeding != feeding:
        raise ValueError(f"the dataset is cropped for a network fed as {dataset.feeding}, the model is fed as "
                         f"{feeding}: build the dataset with the model's feeding (model.feeding)")
    coordinates = getattr(model, "outputs", "heatmaps") == "coordinates"
    was_training = model.training
    model.eval()
    joints, conf, idx, maps = [], [], [], []
    try:
        for batch in batches_in_order(dataset, batch_size, device):
            out = stack_output(model, model(batch["image"].to(device)), stack).float().cpu()
            if coordinates:
                inp, peak = out.numpy(), torch.full(out.shape[:2], float("nan"))
            else:
                coords, peak = decode_argmax(out)
                inp = feeding.heatmap_to_input(coords, dataset.stride).numpy()
            inv = np.linalg.inv(batch["matrix"].numpy())
            src = np.stack([transform_points(p, m) for p, m in zip(inp, inv, strict=True)])
            if batch["flipped"].any():
                raise ValueError("predict() needs a dataset without flip augmentation")
            joints.append(src)
            conf.append(peak.numpy())
            idx.append(batch["index"].numpy())
            if keep_heatmaps and not coordinates:
                maps.append(out.numpy())
    finally:
        model.train(was_training)
    return Predictions(np.concatenate(joints), np.concatenate(conf), np.concatenate(idx),
                       np.concatenate(maps) if maps else None)
