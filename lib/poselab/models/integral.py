"""Integral pose regression (Sun et al., "Integral Human Pose Regression", ECCV 2018).

A heatmap backbone's maps are turned into a probability distribution per joint by a softmax,
and the joint is its expected location (the "integral", a soft-argmax).  Trained on the
coordinates with an L1 loss (``poselab.training.loop``, ``TrainConfig(loss="integral")``), the heatmaps
become *implicit*: nothing asks them to look like Gaussians, only their expectation is supervised.

The softmax temperature ``beta`` is a learned parameter per joint, initialised to the value the
PoseIG common output space uses (10), so a backbone taken from a trained heatmap network starts
out predicting exactly that network's soft-argmax coordinates.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from poselab.heatmaps import heatmap_to_input, soft_argmax


class IntegralRegression(nn.Module):
    """(B, 3, H, W) images -> (B, S, J, 2) joint coordinates in input pixels, one set per stack of the
    backbone (intermediate supervision carries over); a backbone with one output gives S = 1.

    backbone: the spec of a heatmap network (``poselab.models.build_model``), e.g. a 1-stack hourglass.
    beta: initial softmax temperature, learned per joint (stored as its logarithm).
    """

    outputs = "coordinates"  # what ``forward`` returns; heatmap networks return heatmaps

    def __init__(self, backbone: dict, beta: float = 10.0):
        super().__init__()
        from poselab.models import build_model

        self.backbone = build_model(backbone)
        self.n_joints = backbone["n_joints"]
        self.log_beta = nn.Parameter(torch.full((self.n_joints,), math.log(beta)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.backbone(images)
        if maps.ndim == 4:
            maps = maps[:, None]
        b, s, j, h, w = maps.shape
        beta = self.log_beta.exp().repeat(s)[:, None, None]  # per joint, the same in every stack
        coords = soft_argmax(maps.reshape(b, s * j, h, w).float() * beta, beta=1.0).reshape(b, s, j, 2)
        return heatmap_to_input(coords, images.shape[-1] // w)
