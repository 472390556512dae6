"""Stacked hourglass network (Newell et al., 2016), as in Bhansali.

Read top to bottom: a convolution block, the pre-activation bottleneck residual module,
one recursive hourglass, and the stacked network with intermediate supervision.

Module names follow the widely used public PyTorch reference implementation
(``pre``, ``hgs``, ``features``, ``outs``, ``merge_features``, ``merge_preds``; residual
modules with ``bn1..3``, ``conv1..3`` and ``skip_layer``), so its checkpoints load with
:func:`load_reference_state_dict`.  One difference: the reference creates a ``skip_layer``
in every residual module and uses it only when the channel count changes; here it exists
only where it is used, and the loader drops the reference's unused ones.

The skip branch of every hourglass level (the "upper" branch that keeps the pre-pooling
resolution) can be switched off at inference, all together or one scale at a time, with
:meth:`StackedHourglass.set_skips`; the weights are untouched.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from poselab.checkpoints import check_state_dict, official_state_dict


class Conv(nn.Module):
    """Convolution (same padding) with optional BatchNorm and ReLU after it."""

    def __init__(self, inp: int, out: int, kernel: int = 3, stride: int = 1, bn: bool = False, relu: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(inp, out, kernel, stride, padding=(kernel - 1) // 2, bias=True)
        self.bn = nn.BatchNorm2d(out) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.relu(x) if self.relu is not None else x


class Residual(nn.Module):
    """Pre-activation bottleneck: BN-ReLU-1x1 (out/2), BN-ReLU-3x3 (out/2), BN-ReLU-1x1 (out), plus identity
    (or a 1x1 projection when the channel count changes)."""

    def __init__(self, inp: int, out: int):
        super().__init__()
        mid = out // 2
        self.relu = nn.ReLU()
        self.bn1 = nn.BatchNorm2d(inp)
        self.conv1 = Conv(inp, mid, 1, relu=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv2 = Conv(mid, mid, 3, relu=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv3 = Conv(mid, out, 1, relu=False)
        self.skip_layer = Conv(inp, out, 1, relu=False) if inp != out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.skip_layer is None else self.skip_layer(x)
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + residual


class Hourglass(nn.Module):
    """One hourglass level, recursive: ``up1`` keeps this resolution (the skip branch), the lower
    branch max-pools, runs ``low1``, a deeper hourglass (or a residual module at the bottom) as
    ``low2`` and ``low3``, and is upsampled (nearest neighbour) and added to the skip branch.

    ``skip=False`` drops the skip branch: the level returns only the upsampled lower branch.
    """

    def __init__(self, depth: int, width: int, increase: int = 0, skip: bool = True):
        super().__init__()
        inner = width + increase
        self.depth = depth
        self.skip = skip
        self.up1 = Residual(width, width)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.low1 = Residual(width, inner)
        self.low2 = Hourglass(depth - 1, inner, increase) if depth > 1 else Residual(inner, inner)
        self.low3 = Residual(inner, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.low3(self.low2(self.low1(self.pool1(x))))
        up2 = F.interpolate(low, size=x.shape[-2:], mode="nearest")
        return self.up1(x) + up2 if self.skip else up2

    def levels(self) -> list[Hourglass]:
        """This level and the ones nested in it, outermost (highest resolution) first."""
        return [self] + (self.low2.levels() if isinstance(self.low2, Hourglass) else [])


class Merge(nn.Module):
    """1x1 convolution that maps features or heatmaps back into the next stack's input."""

    def __init__(self, inp: int, out: int):
        super().__init__()
        self.conv = Conv(inp, out, 1, relu=False, bn=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class StackedHourglass(nn.Module):
    """Stacked hourglass for ``n_joints`` heatmaps at 1/4 of the input resolution.

    n_stacks: hourglasses in sequence, each supervised (intermediate supervision).
    width: channels inside the hourglasses (the reference's ``inp_dim``, 256 in the paper).
    depth: pooling steps per hourglass (4 for 256x256 inputs: 64x64 features down to 4x4).
    stem: channels of the stem's 7x7 convolution and first residual module (64, 128 in the paper).

    ``forward`` returns (B, n_stacks, n_joints, H/4, W/4): every stack's heatmaps.
    """

    def __init__(self, n_stacks: int = 2, width: int = 256, n_joints: int = 16, depth: int = 4,
                 stem: tuple[int, int] = (64, 128), increase: int = 0):
        super().__init__()
        self.n_stacks, self.width, self.n_joints, self.depth = n_stacks, width, n_joints, depth
        c1, c2 = stem
        self.pre = nn.Sequential(
            Conv(3, c1, 7, 2, bn=True, relu=True),
            Residual(c1, c2),
            nn.MaxPool2d(2, 2),
            Residual(c2, c2),
            Residual(c2, width),
        )
        self.hgs = nn.ModuleList([nn.Sequential(Hourglass(depth, width, increase)) for _ in range(n_stacks)])
        self.features = nn.ModuleList(
            [nn.Sequential(Residual(width, width), Conv(width, width, 1, bn=True, relu=True)) for _ in range(n_stacks)]
        )
        self.outs = nn.ModuleList([Conv(width, n_joints, 1, relu=False, bn=False) for _ in range(n_stacks)])
        self.merge_features = nn.ModuleList([Merge(width, width) for _ in range(n_stacks - 1)])
        self.merge_preds = nn.ModuleList([Merge(n_joints, width) for _ in range(n_stacks - 1)])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.pre(images)
        heatmaps = []
        for i in range(self.n_stacks):
            feature = self.features[i](self.hgs[i](x))
            preds = self.outs[i](feature)
            heatmaps.append(preds)
            if i < self.n_stacks - 1:
                x = x + self.merge_preds[i](preds) + self.merge_features[i](feature)
        return torch.stack(heatmaps, 1)

    # ---------------------------------------------------------------- skip ablation

    def levels(self, stack: int = 0) -> list[Hourglass]:
        """The hourglass levels of one stack, highest resolution first."""
        return self.hgs[stack][0].levels()

    def skip_resolutions(self, input_size: int) -> list[int]:
        """Feature-map side length at which each level's skip branch works, highest first."""
        return [input_size // 4 // 2**k for k in range(self.depth)]

    def set_skips(self, enabled: bool, scales: Iterable[int] | None = None) -> StackedHourglass:
        """Switch the skip branches of every stack on or off; ``scales`` picks levels (0 = highest
        resolution), all of them by default.  Returns the model for chaining."""
        chosen = set(range(self.depth) if scales is None else scales)
        for stack in range(self.n_stacks):
            for k, level in enumerate(self.levels(stack)):
                if k in chosen:
                    level.skip = enabled
        return self

    def skips(self) -> list[bool]:
        """Whether each level's skip branch is on (stack 0; all stacks are switched together)."""
        return [level.skip for level in self.levels(0)]

    def bottleneck(self, stack: int = 0) -> Residual:
        """The third residual module at the lowest resolution (``low3`` of the innermost level):
        the latent representation studied in notebook 04."""
        return self.levels(stack)[-1].low3


def load_reference_state_dict(model: StackedHourglass, state: dict) -> None:
    """Load a checkpoint of the public PyTorch reference implementation (``PoseNet``).

    Accepts a raw state dict or ``{"state_dict": ...}`` (also with a ``model.``/``module.``
    prefix, or both in any order); drops the reference's unused ``skip_layer`` weights and loads the rest strictly.
    A file that does not fit is a ``CheckpointMismatchError`` naming each key and shape that differs.
    """
    clean = official_state_dict(state)  # a mapping of names to tensors, else CheckpointMismatchError
    own = model.state_dict()
    unused_skips = {k for k in clean if ".skip_layer." in k and k not in own}
    kept = {k: v for k, v in clean.items() if k not in unused_skips and not k.startswith("heatmapLoss")}
    check_state_dict(model, kept)  # every missing or unexpected key and every tensor of another shape, named
    model.load_state_dict(kept, strict=True)
