"""SimpleBaseline (Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018).

A ResNet without its classifier, three transposed convolutions that bring the 1/32 features back to
1/4 of the input resolution, and a 1x1 convolution to one heatmap per joint:

    conv1 (7x7, stride 2) - bn1 - relu - maxpool           1/4
    layer1 .. layer4: Bottleneck stages (3, 4, 6, 3 for ResNet-50)   1/4, 1/8, 1/16, 1/32
    deconv_layers: 3 x (ConvTranspose2d 4x4 stride 2, BatchNorm, ReLU), 256 channels     1/4
    final_layer: 1x1 convolution -> (B, J, H/4, W/4)

Module and parameter names follow the authors' ``pose_resnet.py`` (and torchvision's ResNet), so the
network can be compared with theirs key by key; with ``layers=(3, 4, 6, 3)``, width 64 and 17 joints it
has the published 34.0M parameters.  Written in plain torch: there is no torchvision here.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (stride) -> 1x1 with 4x expansion and a projection shortcut when the shape changes."""

    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1):
        super().__init__()
        c_out = planes * self.expansion
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
                           if stride != 1 or c_in != c_out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class SimpleBaseline(nn.Module):
    """ResNet backbone + deconvolution head: (B, 3, H, W) -> (B, n_joints, H/4, W/4) heatmaps.

    layers: Bottlenecks per stage ((3, 4, 6, 3) is ResNet-50, (3, 4, 23, 3) ResNet-101).
    width: planes of the first stage (64 in ResNet); stages have width, 2, 4, 8 x width planes.
    deconv: channels of each transposed convolution (three of 256 in the paper).
    """

    def __init__(self, n_joints: int = 17, layers: Sequence[int] = (3, 4, 6, 3), width: int = 64,
                 deconv: Sequence[int] = (256, 256, 256)):
        super().__init__()
        if len(layers) != 4 or min(layers) < 1:
            raise ValueError(f"layers needs 4 positive block counts, got {tuple(layers)}")
        self.n_joints = n_joints
        self.conv1 = nn.Conv2d(3, width, 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        c = width
        stages = []
        for k, n in enumerate(layers):
            planes = width * 2**k
            blocks = [Bottleneck(c, planes, 1 if k == 0 else 2)]
            c = planes * Bottleneck.expansion
            blocks += [Bottleneck(c, planes) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        head = []
        for channels in deconv:
            head += [nn.ConvTranspose2d(c, channels, 4, 2, padding=1, bias=False), nn.BatchNorm2d(channels),
                     nn.ReLU(inplace=True)]
            c = channels
        self.deconv_layers = nn.Sequential(*head)
        self.final_layer = nn.Conv2d(c, n_joints, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The start of a model trained without ImageNet weights.  Backbone: torchvision's ResNet initialisation
        (He-normal convolutions, ``kaiming_normal_(mode="fan_out", nonlinearity="relu")``; BatchNorm weight 1, bias
        0).  Head: the authors' (``pose_resnet.py``'s ``init_weights`` for the deconvolution layers and the final
        convolution: weights N(0, 0.001), bias 0).  The authors start the backbone from ImageNet weights only
        (Microsoft's code raises without them); the HRNet repository's branch without them draws every convolution
        from N(0, 0.001).  This file follows neither for the backbone: it starts as torchvision's ResNet does."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m is not self.final_layer:
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.ConvTranspose2d | nn.Conv2d):
                nn.init.normal_(m.weight, std=0.001)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.final_layer(self.deconv_layers(x))
