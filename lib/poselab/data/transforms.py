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


def crop_matrix(center: np.ndarray, box: float, size: int, rotation: float = 0.0, flip: bool = False) -> np.ndarray:
    """3x3 affine taking source pixels to input pixels.

    center (2,) source pixels; box: side of the square crop in source pixels; size: input side;
    rotation: degrees, counter-clockwise as seen in the image; flip: mirror left-right.
    """
    s = size / box
    a = np.deg2rad(rotation)
    c, si = np.cos(a), np.sin(a)
    # Image y points down, so a counter-clockwise turn on screen is a clockwise one in (x, y).
    rot = np.array([[c, si], [-si, c]])
    lin = s * rot
    half = (size - 1) / 2
    m = np.eye(3)
    m[:2, :2] = lin
    m[:2, 2] = half - lin @ np.asarray(center, float)
    if flip:
        m = np.array([[-1.0, 0.0, size - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ m
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


def warp_batch(images: torch.Tensor, theta: torch.Tensor, size: int) -> torch.Tensor:
    """Resample images (B, C, H, W) float into (B, C, size, size) with one grid per image, ``theta`` (B, 2, 3) from
    ``sampling_theta``: output pixel (u, v) samples the source where theta @ (u, v, 1) points.  Bilinear, zero
    outside the source, differentiable; one ``grid_sample`` for the whole batch."""
    u = torch.arange(size, dtype=images.dtype, device=images.device)
    grid_u, grid_v = torch.meshgrid(u, u, indexing="xy")
    homo = torch.stack([grid_u, grid_v, torch.ones_like(grid_u)], -1)  # (size, size, 3)
    grid = homo @ theta.to(images).transpose(-1, -2)[:, None]  # (B, size, size, 2)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def warp(image: torch.Tensor, matrix: np.ndarray, size: int) -> torch.Tensor:
    """Resample an image (C, H, W) float through the affine ``matrix`` (source -> output) into (C, size, size).

    Bilinear; outside the source is zero; differentiable, in the image's dtype and on its device.
    """
    _, h, w = image.shape
    theta = torch.as_tensor(sampling_theta(np.asarray(matrix, float), h, w), dtype=image.dtype, device=image.device)
    return warp_batch(image[None], theta[None], size)[0]


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
