"""Integration paths from a baseline to the input, as discretised points ``(steps + 1, C, H, W)``.

A path starts at its baseline (point 0) and ends at the input (point ``steps``):

* ``straight_path``: the line from a baseline image (white, black, a blurred copy) to the input,
  the original integrated gradients of Sundararajan et al.;
* ``blur_path``: PoseIG's path, Gaussian blurs of the input with sigma falling linearly from
  ``sigma_max`` to 0, so the baseline is the most blurred image and no colour is preferred.
  The authors blur 256x192 crops with a 31x31 kernel, sigma 19 to 0, in 50 steps, with reflected
  borders; ``blur_settings`` scales kernel and sigma to another image size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_kernel(size: int, sigma: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A normalised (size, size) Gaussian; sigma <= 0 gives the identity (a one at the centre)."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel size must be a positive odd number, got {size}")
    if sigma <= 0:
        k = torch.zeros(size, size, dtype=dtype)
        k[size // 2, size // 2] = 1
        return k
    r = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2))
    return (g / g.sum()).to(dtype)


def gaussian_blur(images: torch.Tensor, sigma: float, size: int) -> torch.Tensor:
    """Blur every channel of (B, C, H, W) images with a (size, size) Gaussian, borders reflected."""
    if sigma <= 0:
        return images.clone()
    c = images.shape[1]
    pad = size // 2
    if pad >= min(images.shape[-2:]):
        raise ValueError(f"a {size}x{size} kernel needs images larger than {pad} pixels, "
                         f"got {tuple(images.shape[-2:])}")
    weight = gaussian_kernel(size, sigma, images.dtype).to(images.device).expand(c, 1, size, size)
    return F.conv2d(F.pad(images, (pad, pad, pad, pad), mode="reflect"), weight, groups=c)


def blur_settings(image_size: int, reference_size: int = 256, sigma: float = 19.0,
                  kernel: int = 31) -> tuple[float, int]:
    """(sigma_max, kernel size) of the authors' blur path (sigma 19, 31x31 on 256-pixel crops) scaled to
    ``image_size``; the kernel stays odd."""
    scale = image_size / reference_size
    return sigma * scale, max(3, 2 * round(kernel * scale / 2 - 0.5) + 1)


def blur_path(image: torch.Tensor, steps: int, sigma_max: float, kernel: int) -> torch.Tensor:
    """Blurred copies of image (C, H, W), sigma = sigma_max ... 0 in ``steps`` equal steps: (steps + 1, C, H, W);
    point 0 is the most blurred image (the baseline), point ``steps`` the image itself."""
    if steps < 1:
        raise ValueError(f"a path needs at least one step, got {steps}")
    sigmas = torch.linspace(sigma_max, 0.0, steps + 1).tolist()
    points = torch.cat([gaussian_blur(image[None], s, kernel) for s in sigmas[:-1]] + [image[None]])
    return points


def straight_path(image: torch.Tensor, baseline: torch.Tensor, steps: int) -> torch.Tensor:
    """baseline + alpha (image - baseline) for alpha = 0, 1/steps, ..., 1: (steps + 1, C, H, W)."""
    if steps < 1:
        raise ValueError(f"a path needs at least one step, got {steps}")
    alphas = torch.linspace(0.0, 1.0, steps + 1, dtype=image.dtype, device=image.device).view(-1, 1, 1, 1)
    path = baseline[None] + alphas * (image - baseline)[None]
    path[-1] = image  # exactly the input, whatever the rounding
    return path


def solid_baseline(image: torch.Tensor, value: float) -> torch.Tensor:
    """A baseline image of one colour (0: black, 1: white) shaped like ``image``."""
    return torch.full_like(image, value)
