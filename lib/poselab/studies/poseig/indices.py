"""Attribution maps and PoseIG's three indices (He et al. 2023; the authors' definitions).

map   |sum over RGB of the attributions|, divided by its maximum: (..., H, W) in [0, 1].
DI    diffusion index, 100 (1 - Gini of the map): 0 when one pixel carries everything, 100 when all
      pixels carry the same (how spread out the evidence is).
FI    foreground index, (share of the map inside the person mask dilated by a 5x5 max-pool) x
      (pixels / mask pixels): 1 for a map that ignores the person, above 1 when it favours her.
LI    localisation index, (share of the map under the joint's ground-truth Gaussian) x (pixels / the
      Gaussian's mass): 1 for a uniform map, large when the evidence sits at the joint.
      Taken with another joint's Gaussian it is the cross-joint LI used for keypoint inversion.

A map that is zero everywhere (a model whose output does not depend on the input) has no indices: NaN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def attribution_map(attributions: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) attributions -> (..., H, W) map |sum over RGB| / max (all zeros stay zeros)."""
    m = attributions.sum(-3).abs()
    peak = m.flatten(-2).amax(-1)[..., None, None]
    return torch.where(peak > 0, m / peak.clamp_min(torch.finfo(m.dtype).tiny), torch.zeros_like(m))


def gini(values: torch.Tensor) -> torch.Tensor:
    """Gini coefficient of non-negative values over the last axis (..., P) -> (...): 0 for equal values,
    (P - 1) / P when one value holds everything; NaN for all zeros."""
    x, _ = torch.sort(values.double(), dim=-1)
    n = x.shape[-1]
    i = torch.arange(1, n + 1, dtype=x.dtype, device=x.device)
    total = x.sum(-1)
    g = ((2 * i - n - 1) * x).sum(-1) / (n * total)
    return torch.where(total > 0, g, torch.full_like(g, float("nan"))).to(values.dtype)


def diffusion_index(maps: torch.Tensor) -> torch.Tensor:
    """DI = 100 (1 - Gini) of each map (..., H, W) -> (...)."""
    return 100 * (1 - gini(maps.flatten(-2)))


def dilate(mask: torch.Tensor, size: int = 5) -> torch.Tensor:
    """Binary dilation of masks (..., H, W) by a size x size max-pool (the authors' 5x5)."""
    shape = mask.shape
    m = mask.reshape(-1, 1, *shape[-2:]).float()
    return F.max_pool2d(m, size, stride=1, padding=size // 2).reshape(shape) > 0


def _index(maps: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(share of each map's mass under ``weights``) x (pixels / mass of ``weights``); NaN where undefined."""
    mass = maps.flatten(-2).sum(-1)
    w = weights.to(maps.dtype)
    share = (maps * w).flatten(-2).sum(-1) / mass
    scale = maps.shape[-1] * maps.shape[-2] / w.flatten(-2).sum(-1)
    out = share * scale
    return torch.where((mass > 0) & torch.isfinite(scale), out, torch.full_like(out, float("nan")))


def foreground_index(maps: torch.Tensor, masks: torch.Tensor, dilation: int = 5) -> torch.Tensor:
    """FI of maps (..., H, W) with person masks broadcastable to them (bool) -> (...)."""
    return _index(maps, dilate(masks, dilation) if dilation > 1 else masks)


def joint_heatmaps(joints: torch.Tensor, size: tuple[int, int], sigma: float) -> torch.Tensor:
    """Unnormalised Gaussians exp(-d^2 / 2 sigma^2) at joints (..., 2) source pixels -> (..., H, W)."""
    h, w = size
    ys = torch.arange(h, dtype=torch.float32, device=joints.device).view(h, 1)
    xs = torch.arange(w, dtype=torch.float32, device=joints.device).view(1, w)
    dx = xs - joints[..., 0, None, None].float()
    dy = ys - joints[..., 1, None, None].float()
    return torch.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))


def authors_joint_heatmaps(joints: torch.Tensor, size: tuple[int, int], stride: int = 4) -> torch.Tensor:
    """The LI heatmaps of the authors' code, (..., H, W) for joints (..., 2) in source pixels: the training target at
    1/``stride`` of the image (a Gaussian of 2 pixels per 64 heatmap rows, centred on the joint's *rounded* heatmap
    pixel and cut off beyond 3 sigma, as HRNet's ``generate_target``) resized bilinearly to the image."""
    h, w = size[0] // stride, size[1] // stride
    sigma = 2.0 * h / 64
    centre = torch.floor(joints.float() / stride + 0.5)
    ys = torch.arange(h, dtype=torch.float32, device=joints.device).view(h, 1)
    xs = torch.arange(w, dtype=torch.float32, device=joints.device).view(1, w)
    dx = xs - centre[..., 0, None, None]
    dy = ys - centre[..., 1, None, None]
    g = torch.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
    reach = int(3 * sigma)
    g = g * ((dx.abs() <= reach) & (dy.abs() <= reach))
    flat = g.reshape(-1, 1, h, w)
    up = F.interpolate(flat, size=tuple(size), mode="bilinear", align_corners=False)
    return up.reshape(*g.shape[:-2], *size)


def localization_index(maps: torch.Tensor, heatmaps: torch.Tensor) -> torch.Tensor:
    """LI of maps (..., H, W) with ground-truth joint heatmaps of the same shape -> (...)."""
    return _index(maps, heatmaps)


def cross_localization(maps: torch.Tensor, heatmaps: torch.Tensor) -> torch.Tensor:
    """LI of every joint's map with every joint's heatmap: maps (..., J, H, W), heatmaps (..., K, H, W) ->
    (..., J, K); the diagonal is the ordinary LI."""
    return _index(maps[..., :, None, :, :], heatmaps[..., None, :, :, :])


def resampled_map(maps: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A randomised map for the perturbation test: the pixels of each map (..., H, W) in a random order,
    so it has exactly the original's values (He et al. 2023, A.3: "each pixel is sampled from the original")."""
    flat = maps.flatten(-2)
    order = torch.argsort(torch.rand(flat.shape, generator=generator), dim=-1).to(flat.device)
    return torch.gather(flat, -1, order).reshape(maps.shape)
