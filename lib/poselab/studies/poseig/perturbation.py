"""The image perturbation test (He et al. 2023, A.3, Eqs. 1-2): is the map faithful?

An image is perturbed where the map is high, ``I' = I (1 - G) + M G`` (Eq. 1), once with joint j's
attribution map G and once with a randomised map G^r that has the same pixel values in a random order.
If the map marks what the model uses, the joint's error moves more in the first case:

    R_E = |E_attr - E_origin| / |E_rand - E_origin|   (Eq. 2), > 1 for a faithful map.

The perturbation fills with one of four masks M: the image's mean colour (M_m), the image's own pixels
in random order (M_ro), uniform noise (M_ru) and Gaussian noise with the image's mean and spread (M_rn).
Over a set of images R_E is taken as a ratio of mean absolute changes (per-image ratios explode
wherever a randomised map happens to change nothing).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

MASKS = {
    "M_m": "mean colour of the image",
    "M_ro": "the image's pixels in random order",
    "M_ru": "uniform noise in [0, 1]",
    "M_rn": "Gaussian noise with the image's mean and standard deviation",
}


def perturbation_masks(image: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The four fill images M for one image (3, H, W) in [0, 1], each (3, H, W)."""
    c, h, w = image.shape
    mean = image.mean(dim=(1, 2), keepdim=True)
    std = image.std(dim=(1, 2), keepdim=True)
    order = torch.randperm(h * w, generator=generator)
    noise = torch.randn((c, h, w), generator=generator)
    return {
        "M_m": mean.expand(c, h, w).clone(),
        "M_ro": image.flatten(1)[:, order].reshape(c, h, w),
        "M_ru": torch.rand((c, h, w), generator=generator),
        "M_rn": (mean + std * noise).clamp(0, 1),
    }


def perturb(image: torch.Tensor, maps: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """Eq. 1 for each map: image (3, H, W), maps (..., H, W) in [0, 1], fill (3, H, W) -> (..., 3, H, W)."""
    g = maps[..., None, :, :]
    return image * (1 - g) + fill * g


@torch.no_grad()
def perturbation_errors(coordinates: Callable[[torch.Tensor], torch.Tensor], image: torch.Tensor, gt: torch.Tensor,
                        maps: torch.Tensor, random_maps: torch.Tensor, fills: dict[str, torch.Tensor],
                        batch_size: int = 64) -> dict[str, np.ndarray]:
    """Joint errors of one image: unperturbed, and with each joint's attribution map and randomised map.

    coordinates: images (B, 3, H, W) -> (B, J, 2) pixels; gt (J, 2); maps, random_maps (J, H, W).
    Returns {"origin": (J,), "attr": (M, J), "rand": (M, J)} Euclidean errors in pixels, where the error of
    joint j is measured on the image perturbed with joint j's map.
    """
    n_joints = len(maps)
    batch = [image[None]]
    for fill in fills.values():
        batch += [perturb(image, maps, fill), perturb(image, random_maps, fill)]
    x = torch.cat(batch)
    pred = torch.cat([coordinates(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    err = (pred - gt).norm(dim=-1).cpu().numpy()  # (1 + 2 M J, J)
    rows = err[1:].reshape(len(fills), 2, n_joints, n_joints)
    own = np.arange(n_joints)
    return {"origin": err[0], "attr": rows[:, 0, own, own], "rand": rows[:, 1, own, own]}


def relative_error_change(origin: np.ndarray, attr: np.ndarray, rand: np.ndarray,
                          valid: np.ndarray) -> np.ndarray:
    """R_E per mask and joint from errors over N images: origin (N, J), attr and rand (N, M, J), valid (N, J)
    (annotated joints) -> (M, J), mean |E_attr - E_origin| / mean |E_rand - E_origin| over the valid images."""
    w = valid[:, None, :].astype(float)
    num = (np.abs(attr - origin[:, None]) * w).sum(0)
    den = (np.abs(rand - origin[:, None]) * w).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)
