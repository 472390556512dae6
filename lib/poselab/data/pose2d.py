"""The 2D pose data a study trains and validates on: which source (the profile's synthetic image set, or real MPII
when a study's config asks for it with ``use_real`` and it is on disk), the seeded subsets, and the augmented
training set and validation set at a network's input size."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poselab.data.dataset import ImageSet
from poselab.data.pose_dataset import HeatmapDataset, PoseSource, SyntheticSource
from poselab.data.synthetic.config import SyntheticConfig
from poselab.data.transforms import Augment


@dataclass(frozen=True)
class DataChoice:
    """Where a 2D study's data comes from: the data folder, the profile's synthetic set, whether real MPII replaces it
    when present, and the seed that fixes subsets and augmentation."""

    data_dir: Path
    profile: str  # the profile's name: the synthetic set's folder
    synthetic: SyntheticConfig
    use_real: bool = False  # MPII (MPII-16 studies only) when it is on disk
    seed: int = 0


@dataclass
class PoseData:
    name: str  # "synthetic" or "MPII"
    fingerprint: str  # identifies the data (with the code) in training-run keys
    train: PoseSource
    val: PoseSource
    train_set: HeatmapDataset  # augmented
    val_set: HeatmapDataset


def synthetic_sources(pose2d_root: Path, convention: str) -> tuple[SyntheticSource, SyntheticSource]:
    return (SyntheticSource(ImageSet(pose2d_root, "train"), convention),
            SyntheticSource(ImageSet(pose2d_root, "val"), convention))


def sources_for(choice: DataChoice, convention: str) -> tuple[PoseSource, PoseSource, str, str]:
    """(train, validation, data set name, fingerprint): MPII when ``choice.use_real`` and it is on disk (MPII-16
    only), else the profile's synthetic image set (generated if missing, verified before use)."""
    from poselab.data.fixtures import is_fixture
    from poselab.data.manifest import check_dataset, load_manifest
    from poselab.data.mpii import MPIISource
    from poselab.data.synthetic.generate import content_fingerprint, ensure_synthetic

    if choice.use_real and convention == "mpii16":
        mpii = load_manifest()["mpii"]
        if check_dataset(mpii, choice.data_dir, verify=False).state == "present":
            root = mpii.folder(choice.data_dir)
            stamp = [(f.path, (root / f.path).stat().st_size) for f in mpii.files if f.kind == "file"]
            name = "MPII (fixture: synthetic people in its layout)" if is_fixture(root) else "MPII"
            return MPIISource(root, "train"), MPIISource(root, "valid"), name, json.dumps(stamp)
    root = ensure_synthetic(choice.data_dir, choice.synthetic, choice.profile)["pose2d"]
    return (*synthetic_sources(root, convention), "synthetic", content_fingerprint(root))


def seeded_subset(total: int, n: int | None, rng: np.random.Generator) -> np.ndarray | None:
    """``n`` sorted indices out of ``total`` drawn with ``rng`` (None: all of them)."""
    return None if n is None or n >= total else np.sort(rng.choice(total, n, replace=False))


def subset(total: int, n: int | None, seed: int) -> np.ndarray:
    """The same ``n`` of ``total`` samples for a given seed (all of them, in order, when ``n`` is None or larger):
    what notebooks 03 and 04 dissect."""
    picked = seeded_subset(total, n, np.random.default_rng(seed))
    return np.arange(total) if picked is None else picked


def pose_data(choice: DataChoice, convention: str, input_size: int, train_samples: int | None = None,
              val_samples: int | None = None) -> PoseData:
    """The training (augmented) and validation sets at ``input_size``, optionally random subsets of fixed size (the
    same subset for every run of a study)."""
    train, val, name, fingerprint = sources_for(choice, convention)
    rng = np.random.default_rng(choice.seed)
    return PoseData(name, fingerprint, train, val,
                    HeatmapDataset(train, input_size, augment=Augment(), seed=choice.seed,
                                   indices=seeded_subset(len(train), train_samples, rng)),
                    HeatmapDataset(val, input_size, indices=seeded_subset(len(val), val_samples, rng)))
