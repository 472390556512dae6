"""A trained network rewritten for input gradients: the same function, a cheaper backward pass.

PoseIG needs only d target / d input of a frozen network in eval mode.  There, a BatchNorm layer is a fixed
per-channel affine map, x * w / sqrt(var + eps) + (b - mean * w / sqrt(var + eps)); written as one
multiply-add its forward is the same numbers and its backward one multiply, where the BatchNorm backward
kernel also computes statistics it does not need (on 2 CPU cores it was about a tenth of every backward
pass of the default hourglass and HRNet; ``make bench`` row "poseig ... as trained").
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class ChannelAffine(nn.Module):
    """x * scale + shift per channel of (B, C, H, W): an eval-mode BatchNorm2d with its statistics folded in."""

    def __init__(self, bn: nn.BatchNorm2d):
        super().__init__()
        if bn.running_mean is None or bn.running_var is None:
            raise ValueError("a BatchNorm without running statistics depends on the batch; it cannot be folded")
        with torch.no_grad():
            weight = bn.weight if bn.weight is not None else torch.ones_like(bn.running_var)
            bias = bn.bias if bn.bias is not None else torch.zeros_like(bn.running_mean)
            scale = weight / torch.sqrt(bn.running_var + bn.eps)
            shift = bias - bn.running_mean * scale
        self.register_buffer("scale", scale.reshape(1, -1, 1, 1).clone())
        self.register_buffer("shift", shift.reshape(1, -1, 1, 1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.shift.to(x.dtype), x, self.scale.to(x.dtype))


def inference_form(model: nn.Module) -> nn.Module:
    """A frozen copy of ``model`` in eval mode with every BatchNorm2d replaced by its ``ChannelAffine``; the
    original is not changed.  Convolutions stay modules of their own types (the randomisation test finds them)."""
    clone = copy.deepcopy(model).eval()
    for module in list(clone.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, name, ChannelAffine(child))
    for p in clone.parameters():
        p.requires_grad_(False)
    return clone
