"""Settings of the HRNet ablation study (notebook 06) for one profile."""

from __future__ import annotations

from dataclasses import dataclass, field

from poselab.checks import require, whole
from poselab.data.joints import get_convention
from poselab.training.config import TrainConfig

# experiment -> (norm, act), in the order of Henderson and Houser's figures
EXPERIMENTS = {
    "as designed": ("batch", "relu"),
    "no batchnorm": ("none", "relu"),
    "no batchnorm + identity": ("none", "identity"),
}


@dataclass(frozen=True)
class HRNetStudy:
    """Settings of the HRNet ablation notebook for one profile."""

    input_size: int = 256
    width: int = 32
    stem_width: int = 64
    blocks: tuple[int, int, int, int] = (4, 4, 4, 4)
    modules: tuple[int, int, int] = (1, 4, 3)
    init: str = "kaiming"  # the official N(0, 0.001) start does not train without BatchNorm (see models.hrnet)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=9, batch_size=32, lr=1e-3, optimizer="adam"))
    seeds: tuple[int, ...] = (0, 1, 2)
    experiments: tuple[str, ...] = tuple(EXPERIMENTS)  # which of EXPERIMENTS are trained and compared
    train_samples: int | None = None  # a fixed random subset of the training set (None: all of it)
    val_samples: int | None = None
    convention: str = "mpii16"
    use_real: bool = False  # train and validate on real MPII when it is on disk (the full profile)

    def __post_init__(self):
        unknown = [e for e in self.experiments if e not in EXPERIMENTS]
        if unknown or not self.experiments:
            raise ValueError(f"experiments={self.experiments!r}: choose one or more of {', '.join(EXPERIMENTS)}")
        require(self, "seeds", bool(self.seeds) and all(whole(s, 0) for s in self.seeds)
                and len(set(self.seeds)) == len(self.seeds), "one or more different seeds, each a whole number >= 0")

    def spec(self, experiment: str) -> dict:
        norm, act = EXPERIMENTS[experiment]
        return {"arch": "hrnet", "n_joints": get_convention(self.convention).n_joints, "width": self.width,
                "blocks": list(self.blocks), "modules": list(self.modules), "stem_width": self.stem_width,
                "norm": norm, "act": act, "init": self.init}

    @staticmethod
    def label(experiment: str, seed: int) -> str:
        return "hrnet-" + experiment.replace(" + ", "-").replace(" ", "-") + f"-seed{seed}"
