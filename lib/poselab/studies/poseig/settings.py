"""Settings of the PoseIG study (notebook 05) for one profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from poselab.checks import require, whole
from poselab.training.config import TrainConfig


@dataclass(frozen=True)
class SimpleBaselineStudy:
    """A SimpleBaseline ResNet (``poselab.models.simplebaseline``) trained for notebook 05 (``full`` profile)."""

    input_size: int = 256
    layers: tuple[int, int, int, int] = (3, 4, 6, 3)  # ResNet-50
    width: int = 64
    deconv: tuple[int, ...] = (256, 256, 256)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=20, batch_size=32, lr=1e-3, optimizer="adam",
                                                                   lr_milestones=(15,)))
    label: str = "simplebaseline"

    def spec(self, n_joints: int) -> dict:
        return {"arch": "simplebaseline", "n_joints": n_joints, "layers": list(self.layers), "width": self.width,
                "deconv": list(self.deconv)}


@dataclass(frozen=True)
class PoseIGStudy:
    """Settings of the PoseIG notebook (05; He et al. 2023) for one profile.

    The models compared are notebook 02's hourglasses, notebook 06's three HRNet variants (one seed), an
    integral-regression model trained here from one of the hourglasses, and, where set, a SimpleBaseline.
    """

    images: int = 24  # validation people attributed per model
    steps: int = 20  # blur-path steps (the authors: 50)
    rule: str = "trapezoid"  # the Riemann rule of the path integral ("trapezoid", or "left" as the authors)
    beta: float = 10.0  # soft-argmax temperature of the common output space (the authors: 10)
    factor: float = 0.3  # target exp(-factor * distance / (image size / 64)) (the authors: 0.3)
    target: str = "soft-argmax"  # the distance's ground truth: the soft-argmax of the training target (the authors'),
    # or "joint" (the joint itself)
    hrnet_seed: int = 0  # which of notebook 06's seeds is attributed
    integral_from: str = "hourglass-1"  # the notebook-02 run whose weights start the integral model
    integral_softmax: str = "learned"  # "learned": temperature learned from beta; "plain": Sun et al.'s softmax
    integral_train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=1, batch_size=16, lr=2.5e-4, optimizer="adam", bf16=False, channels_last=True, loss="integral"))
    integral_samples: int | None = 4000  # a fixed random subset of the training set for the fine-tuning (None: all)
    simplebaseline: SimpleBaselineStudy | None = None
    main: str = "hourglass-2"  # the model of the perturbation, randomisation, baseline and speed tests
    models: tuple[str, ...] | None = None  # the models compared, by label (None: every one the profile trains)
    # COCO val2017 with the official COCO checkpoints (when both are on disk: the authors' own setting)
    coco_images: int = 8  # people attributed per model (the authors: all of val2017, on GPUs)
    coco_size: tuple[int, int] = (256, 192)  # crop (height, width): the checkpoints' input
    coco_mask: str = "person"  # the person's own segmentation, or "all" persons in the image (the authors')
    coco_ap_images: int | None = 200  # val2017 images whose people the keypoint AP is computed on (None: all 5,000)
    randomization_steps: int = 6
    randomization_images: int = 5
    painted: int = 3  # F05.1: people re-rendered painted black and white for the solid-baseline test (synthetic only)
    inversion_alpha: float = 0.5  # a joint counts as predicted at another within alpha x head size
    joints_per_backward: int | None = None  # None: whichever of 1 and all joints T05.6 measures faster
    channels_last: bool = True  # float32 convolutions in channels-last layout (1.4x faster on a 2-core CPU)

    KNOBS: ClassVar[dict[str, str]] = {"main": "model"}  # the notebook 05 knob of a differently named setting

    def __post_init__(self):
        for name in ("images", "steps", "coco_images", "randomization_steps", "randomization_images", "painted"):
            require(self, name, whole(getattr(self, name), 1), "a whole number >= 1")
        require(self, "rule", self.rule in ("trapezoid", "left"), "'trapezoid' or 'left'")
        require(self, "main", isinstance(self.main, str) and bool(self.main),
                "the label of a compared model, e.g. 'hourglass-2'")
