"""Reprojection of predicted 3D poses and random novel views (section 2.1.3, eqs. 2.3-2.4).

Coordinates follow the camera (OpenCV): x right, y down, z forward.  A predicted pose
``Y`` (B, J, 3) in [-1, 1] is scaled by 1.3, placed ``c`` units in front of the camera and
projected with focal length ``c``, so that a 3D root-head length of 1 projects to a 2D
root-head length of about 1: the units of the normalised 2D input.
"""

from __future__ import annotations

import math

import torch


def perspective(points: torch.Tensor, focal: float) -> torch.Tensor:
    """Pinhole projection of camera-frame points (..., 3) -> (..., 2): focal * (x / z, y / z).

    The principal point is the origin, so a point on the optical axis lands at (0, 0).
    """
    return focal * points[..., :2] / points[..., 2:3]


def reproject(pose: torch.Tensor, depth: float = 10.0, scale: float = 1.3,
              rotation: torch.Tensor | None = None) -> torch.Tensor:
    """y = PP(R (scale * Y) + (0, 0, c)): pose (B, J, 3) -> 2D (B, J, 2); rotation (B, 3, 3) or None."""
    p = scale * pose
    if rotation is not None:
        p = p @ rotation.transpose(-1, -2)
    offset = torch.zeros(3, dtype=p.dtype, device=p.device)
    offset[2] = depth
    return perspective(p + offset, depth)


def rotation_matrices(azimuth: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
    """(B,) azimuth (about the camera's vertical y axis) and elevation (about x), radians -> (B, 3, 3).

    R = R_x(elevation) @ R_y(azimuth): turn the person about the vertical, then tilt the view.
    """
    ca, sa, ce, se = torch.cos(azimuth), torch.sin(azimuth), torch.cos(elevation), torch.sin(elevation)
    one, zero = torch.ones_like(ca), torch.zeros_like(ca)
    ry = torch.stack([ca, zero, sa, zero, one, zero, -sa, zero, ca], -1).reshape(-1, 3, 3)
    rx = torch.stack([one, zero, zero, zero, ce, -se, zero, se, ce], -1).reshape(-1, 3, 3)
    return rx @ ry


def sample_view_angles(n: int, max_elevation_deg: float = 20.0, generator: torch.Generator | None = None,
                       device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Uniform azimuth in [-pi, pi] and elevation in [-e, e] (e = 20 deg = pi/9), each (n,) radians."""
    u = torch.rand(2, n, generator=generator).to(device)
    e = math.radians(max_elevation_deg)
    return (2 * u[0] - 1) * math.pi, (2 * u[1] - 1) * e


def normalize_2d(pose2d: torch.Tensor, head: int, eps: float = 1e-6) -> torch.Tensor:
    """Root-relative 2D joints (B, J, 2) (root at the origin, not included) scaled to unit root-head length."""
    return pose2d / (pose2d[:, head : head + 1].norm(dim=-1, keepdim=True) + eps)
