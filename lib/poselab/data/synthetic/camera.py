"""Pinhole cameras (OpenCV convention: x right, y down, z forward into the scene).

World coordinates are metres with +y up.  A camera holds intrinsics ``K`` and the
world-to-camera transform ``X_cam = R @ X_world + t``, and optionally lens distortion in
Human3.6M's model (``distort``): the synthetic cameras have none, the published Human3.6M
cameras (``poselab.studies.lifting.cameras``) do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    K: np.ndarray  # (3, 3) intrinsics, pixels
    R: np.ndarray  # (3, 3) world -> camera rotation
    t: np.ndarray  # (3,) world -> camera translation, metres
    width: int
    height: int
    distortion: np.ndarray | None = None  # (k1, k2, k3, p1, p2) in Human3.6M's model; None: an ideal pinhole

    @property
    def center(self) -> np.ndarray:
        """Camera position in world coordinates."""
        return -self.R.T @ self.t

    def to_camera(self, x_world: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 3) camera coordinates."""
        return x_world @ self.R.T + self.t

    def project(self, x_world: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 2) pixel coordinates (distorted where the camera has distortion)."""
        return project_points(self.to_camera(x_world), self.K, self.distortion)

    def scaled(self, factor: float) -> Camera:
        """The same camera with an image ``factor`` times larger (intrinsics scaled)."""
        S = np.diag([factor, factor, 1.0])
        return Camera(S @ self.K, self.R, self.t, round(self.width * factor), round(self.height * factor),
                      self.distortion)


def intrinsics(f: float, cx: float, cy: float) -> np.ndarray:
    return np.array([[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]])


def distort(xy: np.ndarray, distortion: np.ndarray) -> np.ndarray:
    """Human3.6M's lens model on normalised image points (..., 2) = (x / z, y / z): radial k1..k3 and
    tangential p1, p2 as its calibration publishes them,
    ``xy (1 + k1 r2 + k2 r2^2 + k3 r2^3 + p1 x + p2 y) + (p1, p2) r2`` with ``r2 = x^2 + y^2``."""
    k1, k2, k3, p1, p2 = np.asarray(distortion, float)
    r2 = (xy**2).sum(-1, keepdims=True)
    p = np.array([p1, p2])
    scale = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3 + (xy * p).sum(-1, keepdims=True)
    return xy * scale + p * r2


def project_points(x_cam: np.ndarray, K: np.ndarray, distortion: np.ndarray | None = None) -> np.ndarray:
    """Perspective projection of camera-frame points (..., 3) with intrinsics K (and lens distortion) -> (..., 2)."""
    xy = x_cam[..., :2] / x_cam[..., 2:3]
    if distortion is not None:
        xy = distort(xy, distortion)
    return xy * np.array([K[0, 0], K[1, 1]]) + np.array([K[0, 2], K[1, 2]])


def look_at(eye: np.ndarray, target: np.ndarray, roll_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera (R, t) for a camera at ``eye`` looking at ``target`` with world +y up."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    if np.linalg.norm(right) < 1e-8:  # looking straight up or down
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    R = np.stack([right, down, forward])
    if roll_deg:
        a = np.deg2rad(roll_deg)
        Rz = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
        R = Rz @ R
    return R, -R @ eye


def orbit_camera(
    target: np.ndarray,
    azimuth_deg: float,
    elevation_deg: float,
    distance: float,
    f: float,
    width: int,
    height: int,
    roll_deg: float = 0.0,
) -> Camera:
    """A camera on a sphere around ``target``: azimuth 0 looks at the +z face, elevation up."""
    az, el = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    offset = distance * np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
    R, t = look_at(np.asarray(target) + offset, target, roll_deg)
    return Camera(intrinsics(f, (width - 1) / 2, (height - 1) / 2), R, t, width, height)


def lifting_rig(width: int = 1000, height: int = 1000, f: float = 1145.0) -> list[Camera]:
    """Four fixed cameras around the capture area, like Human3.6M's (1000x1000 px, f ~ 1145 px)."""
    return [
        orbit_camera(np.array([0.0, 0.9, 0.0]), az, el, 5.5, f, width, height)
        for az, el in ((45.0, 12.0), (135.0, 9.0), (-135.0, 13.0), (-45.0, 10.0))
    ]


def horizon_coefficients(cam: Camera) -> np.ndarray:
    """(a, b, c) such that a*u + b*v + c < 0 for pixels that see the floor (y = 0 below eye level).

    A pixel's viewing ray has world direction R^T K^-1 [u, v, 1]; it points below the
    horizon when that direction's y component is negative.
    """
    row = (cam.R.T @ np.linalg.inv(cam.K))[1]  # the world-y component as a function of (u, v, 1)
    return row
