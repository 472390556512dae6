"""The four Human3.6M cameras as published: intrinsics with lens distortion, and per-subject extrinsics.

VideoPose3D's npz files carry no cameras, but the 3D poses are needed in each camera's frame (the
supervised baseline, MPJPE) and the 2D inputs were projected through the real, distorted lenses.
``h36m_cameras.json`` beside this module holds the published calibration (its ``source`` field names
where it comes from); ``published_cameras`` turns it into ``Camera`` objects in metres.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from poselab.data.synthetic.camera import Camera

CALIBRATION = Path(__file__).with_name("h36m_cameras.json")


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    """The rotation matrix (3, 3) of a unit quaternion (w, x, y, z)."""
    w, x, y, z = np.asarray(q, float) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


@lru_cache(maxsize=1)
def calibration() -> dict:
    """The published calibration as stored (see ``h36m_cameras.json``)."""
    return json.loads(CALIBRATION.read_text())


def published_cameras(subjects: tuple[str, ...] | None = None) -> dict[str, list[Camera]]:
    """subject -> the four cameras (world metres -> pixels, with distortion), for the subjects that have
    published extrinsics (S1, S5, S6, S7, S8, S9, S11)."""
    cal = calibration()
    out = {}
    for subject, views in cal["extrinsics"].items():
        if subjects is not None and subject not in subjects:
            continue
        cams = []
        for intr, ext in zip(cal["intrinsics"], views, strict=True):
            to_world = quaternion_matrix(ext["orientation"])
            R = to_world.T
            t = -R @ (np.asarray(ext["translation"], float) / 1000)
            (fx, fy), (cx, cy) = intr["focal_length"], intr["center"]
            K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
            dist = np.array([*intr["radial_distortion"], *intr["tangential_distortion"]], float)
            cams.append(Camera(K, R, t, intr["res_w"], intr["res_h"], dist))
        out[subject] = cams
    return out
