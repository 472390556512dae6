"""One training run's schedule, optimiser, precision and loss (``poselab.train``).

A module of its own: the key of a trained run covers the code its trainer reaches, and a change to
some study's settings (``poselab.settings``) must not make every model retrain.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    loss: str = "heatmap"  # "heatmap": MSE on every stack's heatmaps; "integral": L1 on soft-argmax coordinates
