"""MPII Human Pose in the JSON layout used by HRNet and SimpleBaseline.

``annot/{train,valid}.json``: a list of people, each ``{"image": "015601864.jpg", "center":
[x, y], "scale": s, "joints": [[x, y] x 16], "joints_vis": [0/1 x 16]}`` with 1-based pixel
coordinates and the person's size as ``scale * 200`` pixels; images in ``images/``.
``annot/gt_valid.mat`` carries the validation head boxes (``headboxes_src``, 2 x 2 x N) for the
official PCKh normaliser.  The crop follows the convention of those code bases: the centre is
moved 15 * scale pixels down and the box enlarged by 25 %.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from poselab.data.joints import MPII16
from poselab.metrics import mpii_head_size, segment_size

PIXEL_STD = 200.0


@lru_cache(maxsize=256)
def _load_image(path: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


class MPIISource:
    """A split of MPII ('train' or 'valid') as a pose source in the MPII-16 convention."""

    convention = MPII16

    def __init__(self, root: Path, split: str = "valid"):
        self.root, self.split = Path(root), split
        annot = self.root / "annot" / f"{split}.json"
        if not annot.exists():
            raise FileNotFoundError(f"{annot} is missing: see the 'mpii' entry of data_manifest.yaml "
                                    "(python -m poselab.data status)")  # fmt: skip
        self.people = json.loads(annot.read_text())
        if not self.people:
            raise ValueError(f"{annot} lists no people")
        self._joints = np.array([p["joints"] for p in self.people], float) - 1.0  # to 0-based pixels
        self._vis = np.array([p["joints_vis"] for p in self.people]) > 0
        scale = np.array([p["scale"] for p in self.people], float)
        center = np.array([p["center"] for p in self.people], float) - 1.0
        center[:, 1] += 15 * scale  # the annotated centre sits high on the body
        self._centers, self._sides = center, scale * 1.25 * PIXEL_STD

    def __len__(self) -> int:
        return len(self.people)

    def image(self, i: int) -> np.ndarray:
        return _load_image(str(self.root / "images" / self.people[i]["image"]))

    def joints(self) -> np.ndarray:
        return self._joints.copy()

    def annotated(self) -> np.ndarray:
        return self._vis.copy()

    def boxes(self) -> tuple[np.ndarray, np.ndarray]:
        return self._centers.copy(), self._sides.copy()

    def norm_sizes(self) -> dict[str, np.ndarray]:
        """Official PCKh head sizes (validation only, from gt_valid.mat) and FLIC-style torso sizes."""
        sizes = {"torso": segment_size(self._joints, MPII16.index("l_shoulder"), MPII16.index("r_hip"))}
        mat = self.root / "annot" / "gt_valid.mat"
        if self.split == "valid" and mat.exists():
            from scipy.io import loadmat

            boxes = np.transpose(loadmat(str(mat))["headboxes_src"], (2, 0, 1))  # (N, 2, 2)
            if len(boxes) != len(self):
                raise ValueError(f"{mat} has {len(boxes)} head boxes for {len(self)} people in valid.json")
            sizes["head"] = mpii_head_size(boxes)
        return sizes
