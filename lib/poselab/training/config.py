"""One training run's schedule, optimiser, precision and loss (``poselab.training.loop``), and the step limit of a
run (``LIMIT_STEPS``).  A run's key holds the values of its ``TrainConfig``."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

LIMIT_ENV = "POSELAB_LIMIT_STEPS"  # set by the runner's --limit-steps N (``make report LIMIT_STEPS=N``)


@dataclass(frozen=True)
class TrainConfig:
    """One training run's schedule and optimiser (``poselab.training.loop``)."""

    epochs: int = 10
    batch_size: int = 16
    lr: float = 2.5e-4
    optimizer: str = "rmsprop"  # "rmsprop" (Bhansali) or "adam" (HRNet)
    lr_milestones: tuple[int, ...] = ()  # epochs after which the learning rate is divided by 10
    weight_decay: float = 0.0
    num_workers: int = 0
    seed: int = 0
    channels_last: bool = False  # convolutions in channels-last layout (1.2-1.3x faster in float32 on a CPU)
    bf16: bool = False  # autocast to bfloat16, only where it runs natively (a GPU, or a CPU with AMX / AVX512-BF16)
    loss: str = "heatmap"  # "heatmap": MSE on every stack's heatmaps; "integral": L1 on soft-argmax coordinates
    # Whole batches cropped and turned into targets at once on the training device (``HeatmapDataset.batch``),
    # the same samples as the per-sample DataLoader; None: where the source's images fit in one array.
    batched: bool | None = None
    max_steps: int | None = None  # stop the run after this many optimiser steps (a smoke test of a big profile)


def step_limit() -> int | None:
    """The training-step limit of this run (``LIMIT_STEPS``), or None: every run trains its full schedule."""
    value = os.environ.get(LIMIT_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{LIMIT_ENV}={value!r}: the step limit must be a positive whole number")
    return int(value)


def with_step_limit(cfg):
    """``cfg`` (any config with ``max_steps``) limited to ``step_limit()`` steps when a limit is set; the limit is
    part of the config, so a limited run is cached under its own key, never mistaken for a full one."""
    limit = step_limit()
    return cfg if limit is None else replace(cfg, max_steps=limit)
