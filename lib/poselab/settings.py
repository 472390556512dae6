"""The settings of every study, as frozen dataclasses: what a profile fixes per notebook.

They live apart from the code that runs the studies so that a profile (and so every notebook)
depends on these few lines, not on the studies' code: the runner then re-executes only the
notebooks whose own code changed (see ``poselab.sources``).  The study modules re-export them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from poselab.data.joints import get_convention


@dataclass(frozen=True)
class TrainConfig:
    """One training run's schedule and optimiser (``poselab.train``)."""

    epochs: int = 10
    batch_size: int = 16
    lr: float = 2.5e-4
    optimizer: str = "rmsprop"  # "rmsprop" (seed 002) or "adam" (HRNet)
    lr_milestones: tuple[int, ...] = ()  # epochs after which the learning rate is divided by 10
    weight_decay: float = 0.0
    num_workers: int = 0
    seed: int = 0
    channels_last: bool | None = None  # None: on CUDA only
    bf16: bool | None = None  # autocast to bfloat16; None: on CUDA only; on a CPU only where it is native


@dataclass(frozen=True)
class HourglassStudy:
    """Settings of the hourglass notebooks for one profile."""

    input_size: int = 128
    width: int = 64  # channels inside the hourglasses
    stem: tuple[int, int] = (32, 64)
    depth: int = 3  # poolings per hourglass: input/4 features down to input/4/2^depth
    stacks: tuple[int, ...] = (1, 2)  # variants compared on the same data and budget
    main_stacks: int = 2  # the model dissected in notebooks 03-05
    train: TrainConfig = field(default_factory=TrainConfig)
    convention: str = "mpii16"
    ablation_samples: int = 2000  # training samples used by the skip ablation
    qualitative: int = 6  # validation samples shown in F02.3

    def spec(self, stacks: int) -> dict:
        return {"arch": "hourglass", "n_stacks": stacks, "width": self.width, "depth": self.depth,
                "stem": list(self.stem), "n_joints": get_convention(self.convention).n_joints}  # fmt: skip

    def label(self, stacks: int) -> str:
        return f"hourglass-{stacks}"


# experiment -> (norm, act), in the order of seed 003's figures
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
    train_samples: int | None = None  # a fixed random subset of the training set (None: all of it)
    val_samples: int | None = None
    convention: str = "mpii16"

    def spec(self, experiment: str) -> dict:
        norm, act = EXPERIMENTS[experiment]
        return {"arch": "hrnet", "n_joints": get_convention(self.convention).n_joints, "width": self.width,
                "blocks": list(self.blocks), "modules": list(self.modules), "stem_width": self.stem_width,
                "norm": norm, "act": act, "init": self.init}  # fmt: skip

    @staticmethod
    def label(experiment: str, seed: int) -> str:
        return "hrnet-" + experiment.replace(" + ", "-").replace(" ", "-") + f"-seed{seed}"


@dataclass(frozen=True)
class LatentStudy:
    """Settings of the latent-space notebook for one profile."""

    samples: int = 10000  # random training samples (seed 000 used 10,000)
    ks: tuple[int, int] = (2, 10)  # K from, to (inclusive)
    restarts: int = 10
    thumbnails: int = 36  # heatmap thumbnails drawn in the PCA plane
    closest: int = 3  # samples shown per centroid
