"""PoseIG's common output space and its per-joint targets.

Models that output heatmaps (hourglass, HRNet, SimpleBaseline) and models that output coordinates
(integral regression) are compared on the same quantity: joint coordinates.  A heatmap model's
coordinates are the soft-argmax of its (last stack's) heatmaps with temperature ``beta`` (the authors
use 10); a coordinate model's are its own.  Every model is wrapped so that it takes the *source*
image (the one with the person mask and the ground truth) and crops it as its data pipeline does,
so all models are attributed on the same pixels, whatever their input size.

The target of joint j is ``exp(-factor * ||pred_j - gt_j|| / unit)`` (factor 0.3 as the authors), a
likelihood in (0, 1].  The authors measure the distance in heatmap pixels of 256x192 crops (1/64 of the crop
height); ``unit`` = image size / 64 keeps that scale here.  Their ``gt_j`` is the soft-argmax of the ground-truth
heatmap (the training target), not the joint itself, so a heatmap model that outputs its training target exactly
scores 1 (``JointCoordinates.ideal``); with the joint itself, the soft-argmax's pull towards the centre of the
heatmap caps even a perfect heatmap below 1.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from poselab.data.feeding import feeding_of
from poselab.data.transforms import transform_points, warp
from poselab.evaluation.predict import stack_output
from poselab.heatmaps import gaussian_targets, soft_argmax

TARGETS = ("soft-argmax", "joint")  # the target's ground truth: the authors' (default), or the joint itself


def target_sigma(heatmap_side: int) -> float:
    """The Gaussian of the training targets, in heatmap pixels: ``HeatmapDataset``'s default (2 pixels of a
    64-pixel heatmap, at least 1)."""
    return max(1.0, 2.0 * heatmap_side / 64)


def hw(size: int | tuple[int, int]) -> tuple[int, int]:
    """(height, width) of a side or of a (height, width) pair."""
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def separable_resampling(matrix: np.ndarray, height: int, width: int,
                         size: int | tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """For a source -> output affine without rotation or shear (a crop, a rescale, a mirror): the matrices
    rows (out_h, height) and cols (out_w, width) with ``rows @ image @ cols.T == warp(image, matrix, size)``
    (the same bilinear weights, zero outside the source; ``size`` a side or (out_h, out_w)); None when the map is
    not axis-aligned."""
    inv = np.linalg.inv(np.asarray(matrix, float))
    if abs(inv[0, 1]) > 1e-12 or abs(inv[1, 0]) > 1e-12:
        return None
    out_h, out_w = hw(size)

    def axis(scale: float, shift: float, n: int, n_out: int) -> np.ndarray:
        position = np.arange(n_out) * scale + shift  # the source coordinate each output pixel samples
        low = np.floor(position).astype(int)
        frac = position - low
        out = np.zeros((n_out, n))
        for corner, weight in ((low, 1 - frac), (low + 1, frac)):
            inside = (corner >= 0) & (corner < n)
            np.add.at(out, (np.flatnonzero(inside), corner[inside]), weight[inside])
        return out

    return axis(inv[1, 1], inv[1, 2], height, out_h), axis(inv[0, 0], inv[0, 2], width, out_w)


class JointCoordinates(nn.Module):
    """Source images (B, 3, H, W) in [0, 1] -> joint coordinates (B, J, 2) in source pixels.

    model: a 2D pose network in eval mode; matrix: the 3x3 affine from source to network input that its
    data pipeline applies (``HeatmapDataset.matrix``); input_size: the network's input side, or (height, width) for a
    non-square input (the COCO crops of 256x192, given to the network as they are: an identity matrix); beta: the
    soft-argmax temperature for heatmap models; channels_last: feed the network channels-last tensors (the
    model must be converted too; faster convolutions in float32 on CPUs, the same function); separable: crop
    by two small matrix products where the crop has no rotation (``separable_resampling``: the same bilinear
    warp, with a backward pass several times cheaper than ``grid_sample``'s and, in float32, a largest error of
    7e-8 on images in [0, 1] against ``grid_sample``'s 7e-6), else warp.
    """

    def __init__(self, model: nn.Module, matrix: np.ndarray, input_size: int, beta: float = 10.0,
                 channels_last: bool = False, separable: bool = True):
        super().__init__()
        self.model, self.input_size, self.beta, self.channels_last = model, input_size, beta, channels_last
        self.input_hw = hw(input_size)
        self.matrix = np.asarray(matrix, float)
        self.separable = separable
        self._resampling: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor] | None] = {}
        self._heatmap_shape: tuple[int, int] | None = None
        inv = np.linalg.inv(self.matrix)
        self.register_buffer("back", torch.tensor(inv[:2, :2].T, dtype=torch.float32), persistent=False)
        self.register_buffer("shift", torch.tensor(inv[:2, 2], dtype=torch.float32), persistent=False)

    @property
    def coordinate_model(self) -> bool:
        return getattr(self.model, "outputs", "heatmaps") == "coordinates"

    def resampling(self, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The crop's (rows, cols) matrices for source images of this size (float64, cached), or None."""
        if (height, width) not in self._resampling:
            m = separable_resampling(self.matrix, height, width, self.input_size) if self.separable else None
            self._resampling[height, width] = None if m is None else tuple(torch.from_numpy(a) for a in m)
        return self._resampling[height, width]

    def crop(self, images: torch.Tensor) -> torch.Tensor:
        """The network inputs (B, 3, h, w): the same bilinear warp as ``HeatmapDataset``, differentiable (the images
        themselves when they already are the input: an identity matrix and the input's size)."""
        b, c, h, w = images.shape
        if (h, w) == self.input_hw and np.allclose(self.matrix, np.eye(3)):
            inputs = images
        elif (resampling := self.resampling(h, w)) is not None:
            rows, cols = (a.to(images) for a in resampling)
            inputs = rows @ images @ cols.T
        else:
            if self.input_hw[0] != self.input_hw[1]:
                raise ValueError("a rotated crop to a non-square input is not supported")
            flat = warp(images.reshape(b * c, h, w), self.matrix, self.input_size)
            inputs = flat.reshape(b, c, self.input_size, self.input_size)
        return inputs.contiguous(memory_format=torch.channels_last) if self.channels_last else inputs

    def input_coordinates(self, images: torch.Tensor) -> torch.Tensor:
        """Joint coordinates (B, J, 2) in network-input pixels."""
        inputs = self.crop(images)
        out = stack_output(self.model, self.model(inputs))
        if self.coordinate_model:
            return out
        return feeding_of(self.model).heatmap_to_input(soft_argmax(out, self.beta), self.input_hw[1] // out.shape[-1])

    def to_source(self, coords: torch.Tensor) -> torch.Tensor:
        """Network-input pixels (..., 2) -> source pixels."""
        return coords @ self.back.to(coords.dtype) + self.shift.to(coords.dtype)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.to_source(self.input_coordinates(images))

    def heatmap_shape(self) -> tuple[int, int]:
        """(H, W) of the network's heatmaps (one forward pass of a blank input, then cached)."""
        if self._heatmap_shape is None:
            x = torch.zeros(1, 3, *self.input_hw, device=self.back.device)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.no_grad():
                self._heatmap_shape = tuple(stack_output(self.model, self.model(x)).shape[-2:])
        return self._heatmap_shape

    def ideal(self, gt: torch.Tensor) -> torch.Tensor:
        """The authors' ground truth of the target: for joints ``gt`` (J, 2) in source pixels, the soft-argmax
        (temperature ``beta``) of the training-target heatmaps at them (``gaussian_targets`` with ``target_sigma``),
        in source pixels (J, 2): what this network outputs when its heatmaps equal its training targets.  A
        coordinate model (integral regression) has no heatmap target: its ground truth is the joint, as in the
        authors' ``regression_back_func``."""
        gt = torch.as_tensor(gt, dtype=torch.float32)
        if self.coordinate_model:
            return gt
        h, w = self.heatmap_shape()
        stride = self.input_hw[1] // w
        points = torch.as_tensor(transform_points(gt.cpu().numpy(), self.matrix), dtype=torch.float32)
        feeding = feeding_of(self.model)
        maps = gaussian_targets(feeding.input_to_heatmap(points, stride)[None], torch.ones(1, len(points)), (h, w),
                                target_sigma(w))
        return self.to_source(feeding.heatmap_to_input(soft_argmax(maps, self.beta), stride))[0].to(gt.device)


class JointTargets(nn.Module):
    """Source images (B, 3, S, S) -> per-joint targets (B, J) = exp(-factor * ||pred - gt|| / unit).

    gt: (J, 2) source pixels of the one person being explained; unit: source pixels per distance unit.
    """

    def __init__(self, coordinates: JointCoordinates, gt: torch.Tensor, unit: float, factor: float = 0.3):
        super().__init__()
        self.coordinates, self.unit, self.factor = coordinates, unit, factor
        self.register_buffer("gt", torch.as_tensor(gt, dtype=torch.float32), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        d = (self.coordinates(images) - self.gt.to(images.dtype)).norm(dim=-1)
        return torch.exp(-self.factor * d / self.unit)


class HeatmapTargets(nn.Module):
    """The heatmap output space of He et al.'s Fig. B: target_j = exp(-factor * ||H_j - G_j||), the L2 distance
    between the predicted heatmap and the Gaussian ground truth at heatmap resolution (B, J)."""

    def __init__(self, coordinates: JointCoordinates, gt: torch.Tensor, sigma: float, factor: float = 0.3):
        super().__init__()
        self.coordinates, self.factor, self.sigma = coordinates, factor, sigma
        self.register_buffer("gt", torch.as_tensor(gt, dtype=torch.float32), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        c = self.coordinates
        maps = stack_output(c.model, c.model(c.crop(images)))
        stride = c.input_hw[1] // maps.shape[-1]
        gt_input = torch.as_tensor(transform_points(self.gt.cpu().numpy(), c.matrix), dtype=torch.float32)
        gt_maps = gaussian_targets(feeding_of(c.model).input_to_heatmap(gt_input, stride)[None],
                                   torch.ones(1, len(gt_input)),
                                   tuple(maps.shape[-2:]), self.sigma).to(maps)
        return torch.exp(-self.factor * (maps - gt_maps).flatten(2).norm(dim=-1))
