"""What a profile asks of the synthetic data: the image sets for 2D pose and the motion sequences for lifting.
Plain settings, read by ``poselab.profiles`` and by the generator; nothing here imports the generator."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImageSetConfig:
    """How the 2D image sets are generated (one per profile)."""

    image_size: int = 128
    n_train: int = 8000
    n_val: int = 1000
    frames_per_sequence: int = 4
    p_occluder: float = 0.3  # sequences with objects in front of the person
    p_truncation: float = 0.15  # sequences framed so tight that limbs leave the image
    clutter: tuple[int, int] = (2, 6)  # objects behind the person, min and max
    noise: float = 0.02  # largest pixel noise standard deviation (images in [0, 1])
    seed: int = 0


@dataclass(frozen=True)
class LiftingSetConfig:
    """How the multi-camera motion sequences for 3D lifting are generated."""

    seconds: float = 20.0  # length of each sequence
    takes: int = 2  # sequences per subject and action
    fps: int = 50
    seed: int = 0


@dataclass(frozen=True)
class SyntheticConfig:
    images: ImageSetConfig = field(default_factory=ImageSetConfig)
    lifting: LiftingSetConfig = field(default_factory=LiftingSetConfig)
