"""The model randomisation test (He et al. 2023, A.4; Adebayo et al.'s sanity check): re-initialise the
convolution layers of a trained model cumulatively, from the output back, and attribute again.

A map that explains the *model* must change as its weights are destroyed; the source reports DI rising
(13.6 -> 21.1) and FI falling (1.38 -> 0.88) as 9 ... 54 of SimpleBaseline-ResNet50's layers are
randomised.  Layers are ordered by when the forward pass runs them, so "from the output back" follows
the data, not the order the modules were declared in.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

CONV_TYPES = (nn.Conv2d, nn.ConvTranspose2d)


def conv_layers(model: nn.Module, example: torch.Tensor) -> list[nn.Module]:
    """The model's convolutions in the order one forward pass on ``example`` runs them (each once)."""
    order: list[nn.Module] = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(m) if m not in order else None)
             for m in model.modules() if isinstance(m, CONV_TYPES)]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in hooks:
            h.remove()
    return order


def randomization_counts(n_layers: int, steps: int) -> list[int]:
    """How many layers (from the output back) are randomised at each of ``steps`` cumulative stages."""
    if steps < 1 or n_layers < 1:
        raise ValueError(f"need at least one layer and one step, got {n_layers} layers and {steps} steps")
    counts = [round(n_layers * k / steps) for k in range(1, steps + 1)]
    return sorted(set(max(1, c) for c in counts))


def randomized_copy(model: nn.Module, example: torch.Tensor, count: int, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose last ``count`` convolutions (in forward order) have PyTorch's default
    initialisation again, drawn from ``seed``; everything else (BatchNorm statistics included) is kept."""
    device = next(model.parameters()).device
    clone = copy.deepcopy(model).cpu()  # drawn on the CPU: the same weights on every device
    layers = conv_layers(clone, example.cpu())
    if not 0 <= count <= len(layers):
        raise ValueError(f"cannot randomise {count} of {len(layers)} convolution layers")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for layer in layers[len(layers) - count :]:
            layer.reset_parameters()
    return clone.to(device).eval()
