"""HRNet for human pose estimation (Sun et al., "Deep High-Resolution Representation Learning for Human Pose
Estimation", CVPR 2019), with the ablation switches of Henderson and Houser 2023.

The network keeps a high-resolution branch from start to end and adds a lower-resolution branch at each stage:

    stem          two 3x3 stride-2 convolutions: 1/4 of the input resolution
    stage 1       Bottleneck blocks (64 planes, 256 channels out) at 1/4
    transition 1  -> branches at 1/4, 1/8                          (widths C, 2C)
    stage 2       high-resolution modules over 2 branches
    transition 2  -> branches at 1/4, 1/8, 1/16                    (C, 2C, 4C)
    stage 3       high-resolution modules over 3 branches
    transition 3  -> branches at 1/4, 1/8, 1/16, 1/32              (C, 2C, 4C, 8C)
    stage 4       high-resolution modules over 4 branches; the last one keeps only the 1/4 output
    final_layer   1x1 convolution -> one heatmap per joint at 1/4 of the input resolution

A high-resolution module runs BasicBlocks on each branch, then fuses: every output branch receives the sum of
all branches, brought to its resolution by strided 3x3 convolutions (down) or a 1x1 convolution followed by
nearest-neighbour upsampling (up). Fusion is repeated after every module, so each resolution sees every other
one many times.

Module and parameter names and shapes follow the official implementation
(``leoxiaobin/deep-high-resolution-net.pytorch``, ``lib/models/pose_hrnet.py``): ``hrnet_w32()`` loads the
official ``pose_hrnet_w32_256x256.pth`` (MPII) with ``strict=True``, see ``load_official_checkpoint``. Where the
official code stores ``None`` (the identity paths of transitions and fusion) this file stores ``nn.Identity``,
which has no parameters, so the state-dict keys are the same.

Ablation switches, applied to every layer at construction (Henderson and Houser's two ablations are ``norm="none"`` and
``norm="none", act="identity"``):

``norm="batch"``   BatchNorm2d after every convolution except the head; the convolutions have no bias (the
                   official layout).
``norm="none"``    every BatchNorm2d becomes ``nn.Identity``, and the convolutions it followed get a bias, so
                   removing normalisation does not also remove the per-channel offset that BatchNorm's beta
                   provided. Keys: ``<conv>.bias`` appears, the BatchNorm entries disappear.
``act="relu"``     ReLU wherever the official network has one.
``act="identity"`` every ReLU becomes ``nn.Identity``: the whole network is then linear in its input.

Input height and width must be multiples of 32 (the lowest branch is at 1/32 and is upsampled back by exact
factors of 2, as in the official code).
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from typing import Literal

import torch
from torch import Tensor, nn

# CheckpointMismatchError is imported from here too (poselab.models.pretrained, the tests)
from poselab.checkpoints import CheckpointMismatchError, check_state_dict, official_state_dict  # noqa: F401

Norm = Literal["batch", "none"]
Act = Literal["relu", "identity"]
Init = Literal["official", "kaiming", "torch"]

BN_MOMENTUM = 0.1  # the official value (PyTorch's default)


def norm_layer(norm: Norm, channels: int) -> nn.Module:
    """BatchNorm2d over ``channels`` for ``norm="batch"``, else a parameter-free identity."""
    if norm == "batch":
        return nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch' or 'none', got {norm!r}")


def act_layer(act: Act) -> nn.Module:
    """ReLU for ``act="relu"``, else an identity."""
    if act == "relu":
        return nn.ReLU(inplace=True)
    if act == "identity":
        return nn.Identity()
    raise ValueError(f"act must be 'relu' or 'identity', got {act!r}")


def conv(c_in: int, c_out: int, kernel: int, stride: int, norm: Norm) -> nn.Conv2d:
    """A 'same'-padded convolution that is followed by a norm layer: bias only when that norm is absent."""
    return nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=norm == "none")


def conv_norm(c_in: int, c_out: int, kernel: int, stride: int, norm: Norm, act: Act | None = None) -> nn.Sequential:
    """``conv -> norm [-> act]`` as a Sequential (keys ``0.weight``, ``1.weight``, ...), the official layout of
    shortcuts, transitions and fusion layers."""
    layers = [conv(c_in, c_out, kernel, stride, norm), norm_layer(norm, c_out)]
    return nn.Sequential(*layers, act_layer(act)) if act is not None else nn.Sequential(*layers)


# ----------------------------------------------------------------------------------------------------------
# Residual blocks


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity shortcut: (N, C, H, W) -> (N, C, H, W). Used in stages 2-4."""

    expansion = 1

    def __init__(self, channels: int, norm: Norm = "batch", act: Act = "relu"):
        super().__init__()
        self.conv1 = conv(channels, channels, 3, 1, norm)
        self.bn1 = norm_layer(norm, channels)
        self.relu = act_layer(act)
        self.conv2 = conv(channels, channels, 3, 1, norm)
        self.bn2 = norm_layer(norm, channels)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 convolutions, 4x channel expansion: (N, C_in, H, W) -> (N, 4 planes, H, W).

    When ``C_in != 4 planes`` the shortcut is a projection (1x1 conv + norm) stored as ``downsample``.
    Used in stage 1.
    """

    expansion = 4

    def __init__(self, c_in: int, planes: int, norm: Norm = "batch", act: Act = "relu"):
        super().__init__()
        c_out = planes * self.expansion
        self.conv1 = conv(c_in, planes, 1, 1, norm)
        self.bn1 = norm_layer(norm, planes)
        self.conv2 = conv(planes, planes, 3, 1, norm)
        self.bn2 = norm_layer(norm, planes)
        self.conv3 = conv(planes, c_out, 1, 1, norm)
        self.bn3 = norm_layer(norm, c_out)
        self.relu = act_layer(act)
        self.downsample = conv_norm(c_in, c_out, 1, 1, norm) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.downsample(x))


# ----------------------------------------------------------------------------------------------------------
# The high-resolution module: parallel branches, then multi-scale fusion


def fuse_path(c: Sequence[int], j: int, i: int, norm: Norm, act: Act) -> nn.Module:
    """The path that brings branch ``j`` (``c[j]`` channels, resolution 1/2^j of branch 0) to branch ``i``.

    j == i: identity.  j > i (lower resolution): 1x1 conv to ``c[i]`` + norm + nearest upsampling by 2^(j-i).
    j < i (higher resolution): i - j strided 3x3 convs; all but the last keep ``c[j]`` channels and end with
    an activation, the last maps to ``c[i]`` with no activation (the sum is activated after fusion).
    """
    if j == i:
        return nn.Identity()
    if j > i:
        return nn.Sequential(conv(c[j], c[i], 1, 1, norm), norm_layer(norm, c[i]),
                             nn.Upsample(scale_factor=2 ** (j - i), mode="nearest"))
    steps = [conv_norm(c[j], c[j], 3, 2, norm, act) for _ in range(i - j - 1)]
    return nn.Sequential(*steps, conv_norm(c[j], c[i], 3, 2, norm))


class HighResolutionModule(nn.Module):
    """BasicBlocks on each branch, then every output branch sums all branches at its own resolution.

    ``channels``: the width of each branch, highest resolution first. Input: a list of (N, channels[b],
    H / 2^b, W / 2^b) tensors. Output: the same list after fusion, or only its first entry when
    ``multi_scale_output`` is False (the last module of the network).
    """

    def __init__(self, channels: Sequence[int], blocks: int, multi_scale_output: bool = True,
                 norm: Norm = "batch", act: Act = "relu"):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(*(BasicBlock(c, norm, act) for _ in range(blocks))) for c in channels
        )
        n_out = len(channels) if multi_scale_output else 1
        self.fuse_layers = nn.ModuleList(
            nn.ModuleList(fuse_path(channels, j, i, norm, act) for j in range(len(channels))) for i in range(n_out)
        )
        self.relu = act_layer(act)

    def forward(self, xs: list[Tensor]) -> list[Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs, strict=True)]
        return [self.relu(sum(path(x) for path, x in zip(paths, xs, strict=True))) for paths in self.fuse_layers]


def transition(c_prev: Sequence[int], c_next: Sequence[int], norm: Norm, act: Act) -> nn.ModuleList:
    """From one stage's branches to the next stage's: existing branches are kept (identity) or re-projected by a
    3x3 conv when their width changes; each new branch is made from the lowest-resolution branch by strided 3x3
    convs (one per halving; each wrapped in its own Sequential, as in the official keys)."""
    paths: list[nn.Module] = []
    for i, c in enumerate(c_next):
        if i < len(c_prev):
            paths.append(nn.Identity() if c == c_prev[i] else conv_norm(c_prev[i], c, 3, 1, norm, act))
        else:
            n = i + 1 - len(c_prev)
            widths = [c_prev[-1]] * n + [c]
            paths.append(nn.Sequential(*(conv_norm(widths[k], widths[k + 1], 3, 2, norm, act) for k in range(n))))
    return nn.ModuleList(paths)


# ----------------------------------------------------------------------------------------------------------
# The network


class HRNet(nn.Module):
    """HRNet pose network: (N, 3, H, W) images -> (N, n_joints, H/4, W/4) heatmaps; H, W multiples of 32.

    Args:
        n_joints: heatmap channels (16 for MPII).
        width: channels of the highest-resolution branch, C; the branches have C, 2C, 4C, 8C (W32: 32).
        blocks: residual blocks per stage, stages 1-4 (an int: the same for all). Stage 1 counts Bottlenecks,
            stages 2-4 count BasicBlocks per branch in each module. Official: (4, 4, 4, 4).
        modules: high-resolution modules in stages 2, 3, 4. Official: (1, 4, 3).
        stem_width: channels of the stem and planes of the stage-1 Bottlenecks (which output 4x as many).
            Official: 64.
        norm: ``"batch"`` or ``"none"`` (every BatchNorm removed; convolutions then get a bias).
        act: ``"relu"`` or ``"identity"`` (every ReLU removed).
        init: ``"official"``: every convolution ~ N(0, 0.001^2), as the official code does before loading
            ImageNet weights; without BatchNorm this scale shrinks the signal at every layer (``hrnet_narrow``:
            output ~1e-11, first-layer gradients ~1e-12, below Adam's eps), so from scratch little but the head
            learns. ``"kaiming"``: He-normal convolutions
            (fan-in, gain of ``act``) and the head ~ N(0, 0.001^2), which trains with and without BatchNorm.
            ``"torch"``: PyTorch's default initialisation. Biases are 0 and BatchNorm is (1, 0) for the first two.
    """

    def __init__(self, n_joints: int = 16, width: int = 32, blocks: int | Sequence[int] = (4, 4, 4, 4),
                 modules: Sequence[int] = (1, 4, 3), stem_width: int = 64, norm: Norm = "batch",
                 act: Act = "relu", init: Init = "official"):
        super().__init__()
        blocks = (blocks,) * 4 if isinstance(blocks, int) else tuple(blocks)
        if len(blocks) != 4 or len(modules) != 3 or min(*blocks, *modules) < 1:
            raise ValueError(f"blocks needs 4 and modules 3 positive counts, got {blocks} and {tuple(modules)}")
        if init not in ("official", "kaiming", "torch"):
            raise ValueError(f"init must be 'official', 'kaiming' or 'torch', got {init!r}")
        self.config = dict(n_joints=n_joints, width=width, blocks=blocks, modules=tuple(modules),
                           stem_width=stem_width, norm=norm, act=act, init=init)

        # Stem: two stride-2 convolutions (1/4 resolution), then stage 1 (Bottlenecks, still one branch).
        self.conv1 = conv(3, stem_width, 3, 2, norm)
        self.bn1 = norm_layer(norm, stem_width)
        self.conv2 = conv(stem_width, stem_width, 3, 2, norm)
        self.bn2 = norm_layer(norm, stem_width)
        self.relu = act_layer(act)
        c1 = stem_width * Bottleneck.expansion
        self.layer1 = nn.Sequential(*(Bottleneck(stem_width if k == 0 else c1, stem_width, norm, act)
                                      for k in range(blocks[0])))

        # Stages 2-4: one more branch per stage, each branch twice as wide at half the resolution.
        widths = [[width * 2**b for b in range(n)] for n in (2, 3, 4)]
        self.transition1 = transition([c1], widths[0], norm, act)
        self.stage2 = self._stage(widths[0], blocks[1], modules[0], norm, act)
        self.transition2 = transition(widths[0], widths[1], norm, act)
        self.stage3 = self._stage(widths[1], blocks[2], modules[1], norm, act)
        self.transition3 = transition(widths[1], widths[2], norm, act)
        self.stage4 = self._stage(widths[2], blocks[3], modules[2], norm, act, last=True)

        self.final_layer = nn.Conv2d(width, n_joints, kernel_size=1)
        if init != "torch":
            self.reset_parameters(init)

    @staticmethod
    def _stage(channels: list[int], blocks: int, n_modules: int, norm: Norm, act: Act,
               last: bool = False) -> nn.Sequential:
        """``n_modules`` high-resolution modules; in the network's last stage the last module keeps only the
        highest-resolution output."""
        return nn.Sequential(*(HighResolutionModule(channels, blocks, not (last and m == n_modules - 1), norm, act)
                               for m in range(n_modules)))

    def reset_parameters(self, init: Literal["official", "kaiming"] = "official") -> None:
        """Re-initialise every layer (see ``init`` in the class docstring)."""
        if init not in ("official", "kaiming"):
            raise ValueError(f"init must be 'official' or 'kaiming', got {init!r}")
        gain = "relu" if self.config["act"] == "relu" else "linear"
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if init == "kaiming" and m is not self.final_layer:
                    nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity=gain)
                else:
                    nn.init.normal_(m.weight, std=0.001)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-2] % 32 or x.shape[-1] % 32:
            raise ValueError(f"HRNet needs height and width divisible by 32, got {tuple(x.shape[-2:])}")
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        xs = [self.layer1(x)]
        for trans, stage in ((self.transition1, self.stage2), (self.transition2, self.stage3),
                             (self.transition3, self.stage4)):
            # Existing branches pass through (or are re-projected); a new one grows from the lowest resolution.
            xs = stage([path(xs[min(b, len(xs) - 1)]) for b, path in enumerate(trans)])
        return self.final_layer(xs[0])


# ----------------------------------------------------------------------------------------------------------
# Named configurations and official checkpoints


def hrnet_w32(n_joints: int = 16, norm: Norm = "batch", act: Act = "relu", **kwargs) -> HRNet:
    """The official pose_hrnet_w32 (MPII ``w32_256x256_adam_lr1e-3.yaml``): 28,536,080 parameters for 16 joints."""
    return HRNet(n_joints, width=32, blocks=(4, 4, 4, 4), modules=(1, 4, 3), norm=norm, act=act, **kwargs)


def hrnet_w48(n_joints: int = 16, norm: Norm = "batch", act: Act = "relu", **kwargs) -> HRNet:
    """The official pose_hrnet_w48 (MPII ``w48_256x256_adam_lr1e-3.yaml``): 63,595,696 parameters for 16 joints
    (63,595,745 for COCO's 17; published: 63.6M)."""
    return HRNet(n_joints, width=48, blocks=(4, 4, 4, 4), modules=(1, 4, 3), norm=norm, act=act, **kwargs)


def hrnet_narrow(n_joints: int = 16, width: int = 16, blocks: int | Sequence[int] = (2, 2, 2, 2),
                 modules: Sequence[int] = (1, 1, 1), stem_width: int = 32, norm: Norm = "batch",
                 act: Act = "relu", **kwargs) -> HRNet:
    """A CPU-sized HRNet with the same topology (4 branches, repeated fusion) but fewer and narrower layers.

    The defaults (width 16, 2 blocks per stage, one module per stage, a 32-channel stem) have 1.27M parameters,
    most of them in the 1/32 branch (128 channels); every argument can be changed to size a profile by
    measurement.
    """
    return HRNet(n_joints, width=width, blocks=blocks, modules=modules, stem_width=stem_width, norm=norm, act=act,
                 **kwargs)


def load_official_checkpoint(model: nn.Module, path: str | PathLike) -> nn.Module:
    """Load an official HRNet checkpoint file (e.g. ``pose_hrnet_w32_256x256.pth``) into ``model`` with
    ``strict=True``, after checking every key and shape (``CheckpointMismatchError`` lists the differences).
    Returns the model."""
    state = official_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    check_state_dict(model, state)
    model.load_state_dict(state, strict=True)
    return model
