"""Pose estimation networks: stacked hourglass, HRNet, SimpleBaseline, integral regression; building them
from a saved spec."""

from __future__ import annotations

from torch import nn


def build_model(spec: dict) -> nn.Module:
    """A network from a spec such as ``{"arch": "hourglass", "n_stacks": 2, "width": 64, ...}``
    (the spec is stored with trained weights so later notebooks can rebuild the model)."""
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "arch"}
    if spec["arch"] == "hourglass":
        from poselab.models.hourglass import StackedHourglass

        return StackedHourglass(**kwargs)
    if spec["arch"] == "hrnet":
        from poselab.models.hrnet import HRNet

        return HRNet(**kwargs)
    if spec["arch"] == "simplebaseline":
        from poselab.models.simplebaseline import SimpleBaseline

        return SimpleBaseline(**kwargs)
    if spec["arch"] == "integral":
        from poselab.models.integral import IntegralRegression

        return IntegralRegression(**kwargs)
    raise ValueError(f"unknown architecture {spec['arch']!r}")
