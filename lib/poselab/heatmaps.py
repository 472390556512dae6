"""Heatmap targets and decoding.

Coordinates follow the pixel-centre convention: pixel (i, j) of an image covers
[j - 0.5, j + 0.5] x [i - 0.5, i + 0.5], so a point at x = j lies at the centre of column j.
A heatmap with ``stride`` s covers the input with pixel k centred at input x = s * k + (s - 1) / 2.
"""

from __future__ import annotations

import torch


def heatmap_to_input(coords: torch.Tensor, stride: int) -> torch.Tensor:
    """Heatmap pixel coordinates (..., 2) -> input image pixel coordinates."""
    return coords * stride + (stride - 1) / 2


def input_to_heatmap(coords: torch.Tensor, stride: int) -> torch.Tensor:
    """Input image pixel coordinates (..., 2) -> heatmap pixel coordinates."""
    return (coords - (stride - 1) / 2) / stride


def gaussian_targets(joints: torch.Tensor, weight: torch.Tensor, size: tuple[int, int], sigma: float) -> torch.Tensor:
    """Unnormalised Gaussians exp(-d^2 / 2 sigma^2) (peak 1) at each joint.

    joints (B, J, 2) heatmap pixels (x, y); weight (B, J) 0/1 (unannotated joints get an
    all-zero map); size (H, W).  Returns (B, J, H, W) float32.
    """
    h, w = size
    ys = torch.arange(h, dtype=torch.float32, device=joints.device).view(1, 1, h, 1)
    xs = torch.arange(w, dtype=torch.float32, device=joints.device).view(1, 1, 1, w)
    dx = xs - joints[..., 0, None, None]
    dy = ys - joints[..., 1, None, None]
    maps = torch.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
    return maps * weight[..., None, None].to(maps.dtype)


def decode_argmax(heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Argmax with the usual quarter-pixel shift towards the higher neighbour.

    heatmaps (B, J, H, W) -> coordinates (B, J, 2) in heatmap pixels (x, y) and peak values (B, J).
    """
    b, j, h, w = heatmaps.shape
    flat = heatmaps.reshape(b, j, -1)
    maxval, idx = flat.max(-1)
    x, y = (idx % w).long(), (idx // w).long()
    coords = torch.stack([x, y], -1).to(heatmaps.dtype)
    hm = heatmaps.reshape(b * j, h, w)
    xi, yi = x.reshape(-1), y.reshape(-1)
    rows = torch.arange(b * j, device=heatmaps.device)
    inner_x = (xi > 0) & (xi < w - 1)
    inner_y = (yi > 0) & (yi < h - 1)
    dx = hm[rows, yi, (xi + 1).clamp(max=w - 1)] - hm[rows, yi, (xi - 1).clamp(min=0)]
    dy = hm[rows, (yi + 1).clamp(max=h - 1), xi] - hm[rows, (yi - 1).clamp(min=0), xi]
    shift = torch.stack([torch.sign(dx) * inner_x, torch.sign(dy) * inner_y], -1) * 0.25
    return coords + shift.reshape(b, j, 2).to(coords.dtype), maxval


def soft_argmax(heatmaps: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Differentiable expected location under softmax(beta * heatmap).

    heatmaps (B, J, H, W) -> (B, J, 2) heatmap pixels (x, y).  Large beta approaches the argmax.
    """
    b, j, h, w = heatmaps.shape
    prob = torch.softmax(beta * heatmaps.reshape(b, j, -1), -1).reshape(b, j, h, w)
    xs = torch.arange(w, dtype=prob.dtype, device=prob.device)
    ys = torch.arange(h, dtype=prob.dtype, device=prob.device)
    return torch.stack([(prob.sum(2) * xs).sum(-1), (prob.sum(3) * ys).sum(-1)], -1)
