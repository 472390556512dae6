"""Loading the official checkpoints that ``data_manifest.yaml`` declares (``poselab.data.pretrained``), and writing
files in their layouts for tests and ``make check-full`` (random weights under the official keys and prefixes).

Every file is read with ``torch.load(weights_only=True)`` (no code in it can run), its wrapper prefixes are stripped,
and its keys and shapes are checked against the network built from the entry's spec before a strict load; a file that
does not fit names every difference (``CheckpointMismatchError``).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from poselab.checkpoints import CheckpointError, load_checkpoint, save_atomic
from poselab.data.feeding import attach
from poselab.data.fixtures import mark
from poselab.data.pretrained import Checkpoint
from poselab.models import build_model
from poselab.models.hourglass import load_reference_state_dict
from poselab.models.hrnet import CheckpointMismatchError, check_state_dict, official_state_dict


def load_pretrained(ck: Checkpoint, data_dir: Path, device: str | torch.device = "cpu") -> nn.Module:
    """The network of ``ck`` with the weights of its file, in eval mode on ``device``, fed as its codebase trained it
    (``poselab.data.feeding.attach``: it takes RGB in [0, 1] and turns it into its own colour order and
    normalisation as the first step of its forward pass; ``model.feeding`` says how to crop for it and decode it)."""
    path = ck.path(data_dir)
    try:
        obj = load_checkpoint(path)
    except CheckpointError as e:
        raise CheckpointError(f"{e} (the official checkpoint {ck.name!r}; get it from {ck.source})") from None
    model = build_model(ck.model)
    try:
        if ck.layout == "hourglass_reference":
            load_reference_state_dict(model, obj)
        else:
            state = official_state_dict(obj)
            check_state_dict(model, state)
            model.load_state_dict(state, strict=True)
    except (CheckpointMismatchError, ValueError) as e:
        raise CheckpointMismatchError(f"{path} ({ck.name}): {e}") from None
    return attach(model, ck.feeding).eval().to(device)


def official_layout(model: nn.Module, layout: str) -> dict:
    """``model``'s weights as a file of ``layout`` stores them: a plain state dict, or the reference hourglass's
    training checkpoint (``model.module.`` prefixes, an unused 1x1 skip layer in a same-width residual, an optimizer
    entry)."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    if layout == "state_dict":
        return state
    if layout != "hourglass_reference":
        raise ValueError(f"unknown layout {layout!r}")
    wrapped = {f"model.module.{k}": v for k, v in state.items()}
    width = model.width
    wrapped["model.module.hgs.0.0.up1.skip_layer.conv.weight"] = torch.zeros(width, width, 1, 1)
    wrapped["model.module.hgs.0.0.up1.skip_layer.conv.bias"] = torch.zeros(width)
    return {"state_dict": wrapped, "optimizer": {"state": {}, "param_groups": []}, "epoch": 150}


def write_fixture(ck: Checkpoint, data_dir: Path, seed: int = 0) -> Path:
    """A file in ``ck``'s official layout with random weights of its network at the path the manifest declares: what
    the tests and ``make check-full`` run the pretrained-model branches on.  The convolutions are drawn He-normal (an
    official start such as HRNet's N(0, 0.001) would make the untrained network's output vanish), BatchNorm keeps its
    fresh statistics."""
    torch.manual_seed(seed)
    model = build_model(ck.model)
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    path = ck.path(data_dir)
    save_atomic(official_layout(model, ck.layout), path)
    mark(path.parent, "checkpoints in the official layouts with random weights (poselab.models.pretrained)")
    return path

