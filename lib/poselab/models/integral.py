"""Integral pose regression (Sun et al., "Integral Human Pose Regression", ECCV 2018).

A heatmap backbone's maps are turned into a probability distribution per joint by a softmax,
and the joint is its expected location (the "integral", a soft-argmax).  Trained on the
coordinates with an L1 loss (``poselab.training.loop``, ``TrainConfig(loss="integral")``), the heatmaps
become *implicit*: nothing asks them to look like Gaussians, only their expectation is supervised.

Sun et al. take a plain softmax of the heatmaps (``beta=1``, not learned).  Here the temperature is by
default a learned parameter per joint, initialised to the value the PoseIG common output space uses (10),
so a backbone taken from a trained heatmap network starts out predicting exactly that network's soft-argmax
coordinates; ``IntegralRegression(spec, beta=1.0, learn_beta=False)`` is Sun et al.'s softmax (notebook 05
measures what the choice does).  Coordinates follow poselab's pixel-centre convention, as every heatmap model
here: heatmap pixel k is input pixel stride * k + (stride - 1) / 2 (Sun et al. write stride * k with their
targets in the same convention; with ours it would put every prediction (stride - 1) / 2 pixels off).
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
    beta: softmax temperature (initial value when learned), per joint, stored as its logarithm.
    learn_beta: learn it (default), or keep it fixed (``beta=1.0, learn_beta=False``: Sun et al.'s plain softmax).
    """

    outputs = "coordinates"  # what ``forward`` returns; heatmap networks return heatmaps

    def __init__(self, backbone: dict, beta: float = 10.0, learn_beta: bool = True):
        super().__init__()
        from poselab.models import build_model

        self.backbone = build_model(backbone)
        self.n_joints = backbone["n_joints"]
        log_beta = torch.full((self.n_joints,), math.log(beta))
        if learn_beta:
            self.log_beta = nn.Parameter(log_beta)
        else:
            self.register_buffer("log_beta", log_beta)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.backbone(images)
        if maps.ndim == 4:
            maps = maps[:, None]
        b, s, j, h, w = maps.shape
        beta = self.log_beta.exp().repeat(s)[:, None, None]  # per joint, the same in every stack
        coords = soft_argmax(maps.reshape(b, s * j, h, w).float() * beta, beta=1.0).reshape(b, s, j, 2)
        return heatmap_to_input(coords, images.shape[-1] // w)
