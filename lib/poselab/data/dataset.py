"""Reading the synthetic image sets: a NumPy view of a split and a torch ``Dataset``.

Images and masks are memory-mapped, annotations are small and loaded into memory, so
opening a split is instantaneous and a ``DataLoader`` with workers reads in parallel.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from poselab.data.joints import JointSet, get_convention
from poselab.data.synthetic.render import VISIBLE, annotated

ANNOTATION_FILES = ("joints2d", "joints3d", "status", "K", "R", "t", "subject", "action", "sequence",
                    "frame", "center", "scale")


class ImageSet:
    """One split of a synthetic image set (``root/split/*.npy`` plus ``root/meta.json``)."""

    def __init__(self, root: Path, split: str):
        self.root, self.split = Path(root), split
        folder = self.root / split
        if not (folder / "images.npy").exists():
            raise FileNotFoundError(f"no image set at {folder}: run `make data` (python -m poselab.data)")
        self.meta = json.loads((self.root / "meta.json").read_text())
        self.images = np.load(folder / "images.npy", mmap_mode="r")
        self._masks = np.load(folder / "masks.npy", mmap_mode="r")
        self.ann = {k: np.load(folder / f"{k}.npy") for k in ANNOTATION_FILES}

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_size(self) -> int:
        return self.images.shape[1]

    @cached_property
    def subjects(self) -> np.ndarray:
        return np.array(self.meta["subjects"])[self.ann["subject"]]

    @cached_property
    def actions(self) -> np.ndarray:
        return np.array(self.meta["actions"])[self.ann["action"]]

    def mask(self, i: int | slice | np.ndarray) -> np.ndarray:
        """Person masks (..., S, S) bool."""
        return np.unpackbits(self._masks[i], axis=-1, count=self.image_size).astype(bool)

    def joints(self, convention: str | JointSet = "mpii16") -> np.ndarray:
        """2D joints (N, J, 2) in pixels for a convention."""
        return get_convention(convention).from_internal(self.ann["joints2d"])

    def status(self, convention: str | JointSet = "mpii16") -> np.ndarray:
        """Joint status codes (N, J) for a convention (see poselab.data.synthetic.render)."""
        return get_convention(convention).from_internal(self.ann["status"])

    def annotated(self, convention: str | JointSet = "mpii16") -> np.ndarray:
        """(N, J) True where the joint carries ground truth."""
        return annotated(self.status(convention))

    def fully_annotated(self, convention: str | JointSet = "mpii16") -> np.ndarray:
        """(N,) True where every joint of the convention is annotated."""
        return self.annotated(convention).all(axis=1)


class PoseDataset(Dataset):
    """A torch view of a split: ``{"image": (3, S, S) float in [0, 1], "joints": (J, 2),
    "annotated": (J,) bool, "visible": (J,) bool, "index": int}``."""

    def __init__(self, root: Path, split: str, convention: str = "mpii16", indices: np.ndarray | None = None):
        self.set = ImageSet(root, split)
        self.convention = get_convention(convention)
        self.indices = np.arange(len(self.set)) if indices is None else np.asarray(indices)
        status = self.set.status(self.convention)
        self.joints = self.set.joints(self.convention).astype(np.float32)
        self.annotated = annotated(status)
        self.visible = status == VISIBLE

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> dict:
        i = int(self.indices[k])
        image = torch.from_numpy(np.array(self.set.images[i])).permute(2, 0, 1).float() / 255
        return {"image": image, "joints": torch.from_numpy(self.joints[i]),
                "annotated": torch.from_numpy(self.annotated[i]), "visible": torch.from_numpy(self.visible[i]),
                "index": i}
