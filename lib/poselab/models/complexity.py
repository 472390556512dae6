"""Model size and cost: parameters and multiply-accumulates of one forward pass."""

from __future__ import annotations

import torch
from torch import nn


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of convolutions (also transposed) and linear layers for one sample of ``input_shape``
    (C, H, W).  Pose papers (e.g. HRNet's 7.1 "GFLOPs") report this number as FLOPs."""
    total = 0

    def conv_hook(m: nn.Conv2d, inputs, output):
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
        total += output[0].numel() * k

    def deconv_hook(m: nn.ConvTranspose2d, inputs, output):
        nonlocal total  # every input pixel is spread over a k x k window of every output channel
        total += inputs[0][0].numel() * m.out_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m: nn.Linear, inputs, output):
        nonlocal total
        total += output[0].numel() * m.in_features

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(deconv_hook) for m in model.modules() if isinstance(m, nn.ConvTranspose2d)]
    hooks += [m.register_forward_hook(linear_hook) for m in model.modules() if isinstance(m, nn.Linear)]
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        model(torch.zeros(1, *input_shape, device=device))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return total


def training_flops(model: nn.Module, input_shape: tuple[int, ...], batch: int = 1) -> int:
    """Floating-point operations of one training step on ``batch`` samples of ``input_shape``: the forward pass's
    2 x MACs (a multiply and an add each) and a backward pass of twice that (the gradients of the inputs and of the
    weights, each as costly as the forward), so 3 x 2 x MACs per sample.  Convolutions and linear layers only, as
    ``count_macs``: the normalisations, activations and the optimiser step are left out (they are few FLOPs but, on a
    CPU, not few seconds: what the ratio to the machine's GEMM speed in ``make bench`` shows)."""
    return 6 * count_macs(model, input_shape) * batch
