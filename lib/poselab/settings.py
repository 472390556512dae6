"""The settings of every study, as frozen dataclasses: what a profile fixes per notebook.

They live apart from the code that runs the studies so that a profile (and so every notebook)
depends on these few lines, not on the studies' code: the runner then re-executes only the
notebooks whose own code changed (see ``poselab.code_digest``).  The study modules re-export them.
``TrainConfig`` lives in ``poselab.train_config`` so that the training code (and the keys of trained
runs) does not depend on the other studies' settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from poselab.data.joints import get_convention
from poselab.train_config import TrainConfig


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
    ablation_samples: int = 2000  # training samples used by the skip ablation
    use_real: bool = False  # train and validate on real MPII when it is on disk (the full profile)
    qualitative: int = 6  # validation samples shown in F02.3

    def spec(self, stacks: int) -> dict:
        return {"arch": "hourglass", "n_stacks": stacks, "width": self.width, "depth": self.depth,
                "stem": list(self.stem), "n_joints": get_convention(self.convention).n_joints}  # fmt: skip

    def label(self, stacks: int, seed: int | None = None) -> str:
        """The run's name: ``hourglass-2`` for the first seed (the model notebooks 03-05 load), else
        ``hourglass-2-seed1``."""
        if seed is None or seed == self.seeds[0]:
            return f"hourglass-{stacks}"
        return f"hourglass-{stacks}-seed{seed}"


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
    use_real: bool = False  # train and validate on real MPII when it is on disk (the full profile)

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


@dataclass(frozen=True)
class SimpleBaselineStudy:
    """A SimpleBaseline ResNet (``poselab.models.simplebaseline``) trained for notebook 05 (``full`` profile)."""

    input_size: int = 256
    layers: tuple[int, int, int, int] = (3, 4, 6, 3)  # ResNet-50
    width: int = 64
    deconv: tuple[int, ...] = (256, 256, 256)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=20, batch_size=32, lr=1e-3, optimizer="adam",
                                                                   lr_milestones=(15,)))  # fmt: skip
    label: str = "simplebaseline"

    def spec(self, n_joints: int) -> dict:
        return {"arch": "simplebaseline", "n_joints": n_joints, "layers": list(self.layers), "width": self.width,
                "deconv": list(self.deconv)}  # fmt: skip


@dataclass(frozen=True)
class PoseIGStudy:
    """Settings of the PoseIG notebook (05, seed 001) for one profile.

    The models compared are notebook 02's hourglasses, notebook 06's three HRNet variants (one seed), an
    integral-regression model trained here from one of the hourglasses, and, where set, a SimpleBaseline.
    """

    images: int = 24  # validation people attributed per model
    steps: int = 20  # blur-path steps (the authors: 50)
    rule: str = "trapezoid"  # the Riemann rule of the path integral ("trapezoid", or "left" as the authors)
    beta: float = 10.0  # soft-argmax temperature of the common output space (the authors: 10)
    factor: float = 0.3  # target exp(-factor * distance / (image size / 64)) (the authors: 0.3)
    hrnet_seed: int = 0  # which of notebook 06's seeds is attributed
    integral_from: str = "hourglass-1"  # the notebook-02 run whose weights start the integral model
    integral_train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=1, batch_size=16, lr=2.5e-4, optimizer="adam", bf16=False, channels_last=True, loss="integral"))
    integral_samples: int | None = 4000  # a fixed random subset of the training set for the fine-tuning (None: all)
    simplebaseline: SimpleBaselineStudy | None = None
    main: str = "hourglass-2"  # the model of the perturbation, randomisation, baseline and speed tests
    randomization_steps: int = 6
    randomization_images: int = 5
    inversion_alpha: float = 0.5  # a joint counts as predicted at another within alpha x head size
    joints_per_backward: int | None = None  # None: whichever of 1 and all joints T05.6 measures faster
    channels_last: bool = True  # float32 convolutions in channels-last layout (1.4x faster on a 2-core CPU)
