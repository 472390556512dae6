"""Crops and augmentation as one affine map from the source image to the network input.

A crop is defined by a centre and a box side length in source pixels, mapped to a square
input of ``size`` pixels, optionally rotated, rescaled and mirrored.  Pixel-centre convention
throughout (see ``poselab.heatmaps``).  The same 3x3 matrix maps images (``warp``) and joints
(``transform_points``); its inverse maps predictions back to the source image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


def crop_matrix(center: np.ndarray, box: float, size: int | tuple[int, int], rotation: float = 0.0,
                flip: bool = False, centre: tuple[float, float] | None = None) -> np.ndarray:
    """3x3 affine taking source pixels to input pixels.

    center (2,) source pixels; box: the width of the crop in source pixels; size: input side, or (height, width);
    rotation: degrees, counter-clockwise as seen in the image; flip: mirror left-right; centre: the input pixel the
    box centre lands on (default the input's centre pixel ((W - 1) / 2, (H - 1) / 2); HRNet's crop: (W / 2, H / 2)).
    """
    out_h, out_w = (size, size) if isinstance(size, int) else size
    cx, cy = ((out_w - 1) / 2, (out_h - 1) / 2) if centre is None else centre
    s = out_w / box
    a = np.deg2rad(rotation)
    c, si = np.cos(a), np.sin(a)
    # Image y points down, so a counter-clockwise turn on screen is a clockwise one in (x, y).
    rot = np.array([[c, si], [-si, c]])
    lin = s * rot
    m = np.eye(3)
    m[:2, :2] = lin
    m[:2, 2] = np.array([cx, cy]) - lin @ np.asarray(center, float)
    if flip:  # mirrored about the box centre's column
        m = np.array([[-1.0, 0.0, 2 * cx], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ m
    return m


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 3x3 affine to points (..., 2)."""
    pts = np.asarray(points, float)
    return pts @ matrix[:2, :2].T + matrix[:2, 2]


def sampling_theta(matrices: np.ndarray, height: int, width: int) -> np.ndarray:
    """For source -> output affines (..., 3, 3): the (..., 2, 3) maps from output pixels (u, v, 1) to the source
    position in grid_sample's [-1, 1] coordinates (align_corners=True)."""
    to_norm = np.array([[2 / max(width - 1, 1), 0, -1], [0, 2 / max(height - 1, 1), -1], [0, 0, 1]])
    return (to_norm @ np.linalg.inv(matrices))[..., :2, :]


def warp_batch(images: torch.Tensor, theta: torch.Tensor, size: int | tuple[int, int],
               window: torch.Tensor | None = None) -> torch.Tensor:
    """Resample images (B, C, H, W) float into (B, C, size, size) (or (B, C, height, width)) with one grid per image,
    ``theta`` (B, 2, 3) from ``sampling_theta``: output pixel (u, v) samples the source where theta @ (u, v, 1)
    points.  Bilinear, zero outside the source, differentiable; one ``grid_sample`` for the whole batch.  ``window``
    (B, 4): (x0, y0, x1, y1) source pixels each sample position is clamped to (an image window resized as
    ``cv2.resize`` does, its edge repeated), or None."""
    out_h, out_w = (size, size) if isinstance(size, int) else size
    u = torch.arange(out_w, dtype=images.dtype, device=images.device)
    v = torch.arange(out_h, dtype=images.dtype, device=images.device)
    grid_v, grid_u = torch.meshgrid(v, u, indexing="ij")
    homo = torch.stack([grid_u, grid_v, torch.ones_like(grid_u)], -1)  # (out_h, out_w, 3)
    grid = homo @ theta.to(images).transpose(-1, -2)[:, None]  # (B, out_h, out_w, 2)
    if window is not None:
        h, w = images.shape[-2:]
        scale = torch.tensor([2 / max(w - 1, 1), 2 / max(h - 1, 1)] * 2, dtype=images.dtype, device=images.device)
        bounds = (window.to(images) * scale - 1)[:, None, None]  # (B, 1, 1, 4) in grid_sample's [-1, 1]
        grid = torch.stack([torch.minimum(torch.maximum(grid[..., 0], bounds[..., 0]), bounds[..., 2]),
                            torch.minimum(torch.maximum(grid[..., 1], bounds[..., 1]), bounds[..., 3])], -1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def warp(image: torch.Tensor, matrix: np.ndarray, size: int | tuple[int, int],
         window: np.ndarray | None = None) -> torch.Tensor:
    """Resample an image (C, H, W) float through the affine ``matrix`` (source -> output) into (C, size, size) (or
    (C, height, width)); ``window`` as ``warp_batch``'s.

    Bilinear; outside the source is zero; differentiable, in the image's dtype and on its device.
    """
    _, h, w = image.shape
    theta = torch.as_tensor(sampling_theta(np.asarray(matrix, float), h, w), dtype=image.dtype, device=image.device)
    win = None if window is None else torch.as_tensor(np.asarray(window, float)[None], device=image.device)
    return warp_batch(image[None], theta[None], size, win)[0]


@dataclass(frozen=True)
class Augment:
    """Random rotation (uniform in +-rotation degrees), box rescaling and horizontal flip (Bhansali)."""

    rotation: float = 30.0
    scale: tuple[float, float] = (0.75, 1.25)
    flip: float = 0.5

    def sample(self, rng: np.random.Generator) -> tuple[float, float, bool]:
        """(rotation degrees, scale factor for the crop box, flip)."""
        return (float(rng.uniform(-self.rotation, self.rotation)), float(rng.uniform(*self.scale)),
                bool(rng.random() < self.flip))
