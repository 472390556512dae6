"""Settings of the hourglass study (notebook 02) for one profile; notebooks 03-05 dissect its main model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from poselab.checks import require, whole
from poselab.data.joints import get_convention
from poselab.training.config import TrainConfig


@dataclass(frozen=True)
class HourglassStudy:
    """Settings of the hourglass notebooks for one profile."""

    input_size: int = 128
    width: int = 64  # channels inside the hourglasses
    stem: tuple[int, int] = (32, 64)
    depth: int = 3  # poolings per hourglass: input/4 features down to input/4/2^depth
    stacks: tuple[int, ...] = (1, 2)  # variants compared on the same data and budget
    seeds: tuple[int, ...] = (0,)  # training seeds per variant; the first seed's runs are dissected in 03-05
    main_stacks: int = 2  # the model dissected in notebooks 03-05
    train: TrainConfig = field(default_factory=TrainConfig)
    convention: str = "mpii16"
    use_real: bool = False  # train and validate on real MPII when it is on disk (the full profile)
    qualitative: int = 6  # validation samples shown in F02.3

    KNOBS: ClassVar[dict[str, str]] = {"qualitative": "shown"}  # the notebook 02 knob of a differently named setting

    def __post_init__(self):
        require(self, "stacks", bool(self.stacks) and all(whole(s, 1) for s in self.stacks)
                and len(set(self.stacks)) == len(self.stacks), "one or more different stack counts, each >= 1")
        require(self, "seeds", bool(self.seeds) and all(whole(s, 0) for s in self.seeds)
                and len(set(self.seeds)) == len(self.seeds), "one or more different seeds, each a whole number >= 0")
        require(self, "qualitative", whole(self.qualitative, 1), "a whole number >= 1")
        if self.main_stacks not in self.stacks:
            raise ValueError(f"main_stacks={self.main_stacks} (the model notebooks 03-05 dissect) is not one of "
                             f"stacks={self.stacks}")

    def spec(self, stacks: int) -> dict:
        return {"arch": "hourglass", "n_stacks": stacks, "width": self.width, "depth": self.depth,
                "stem": list(self.stem), "n_joints": get_convention(self.convention).n_joints}

    def label(self, stacks: int, seed: int | None = None) -> str:
        """The run's name: ``hourglass-2`` for the first seed (the model notebooks 03-05 load), else
        ``hourglass-2-seed1``."""
        if seed is None or seed == self.seeds[0]:
            return f"hourglass-{stacks}"
        return f"hourglass-{stacks}-seed{seed}"
