"""Integrated gradients along a discretised path, for every joint of a pose model at once.

For outputs f_j (one per joint) and path points g_0 (baseline) ... g_N (input),

    A_j = sum_k  df_j/dx (g_k) * w_k,     w_k = g_{k+1} - g_k   ("left" rule, the authors' choice)
                                          w_k = (g_{k+1} - g_{k-1}) / 2   ("trapezoid")

so that sum(A_j) = f_j(input) - f_j(baseline) exactly when f is linear and approximately otherwise
(``completeness``).  The path derivative comes from consecutive path points, which makes the sum
telescope whatever the path.  On a straight path the left rule is captum's ``riemann_left``
(``captum_integrated_gradients``, the cross-check); captum's ``riemann_trapezoid`` weights its n points
by 1/n (ends halved), which sums to (n - 1)/n, so our trapezoid is its result times n / (n - 1).

All path points go through the network in one batch, and the J vector-Jacobian products are taken
either in one batched backward (``torch.autograd.grad(..., is_grads_batched=True)``) or one backward
per joint over that batch (``joints_per_backward``); which is faster depends on the device, so the
notebook measures both (T05.6).  In torch 2.13 the batched backward has no batching rule for the
convolution, BatchNorm, pooling, upsampling and grid-sample backward kernels and runs them once per joint
inside (the profiler shows 17 convolution-backward calls per layer for 16 joints), so on a CPU it cannot
beat one backward per joint.  ``looped_integrated_gradients`` is the authors' algorithm, one backward
per joint per path step: the reference the batched versions must equal;
``authors_integrated_gradients`` is that loop exactly as their code runs it (weight gradients and an extra
backward per step included), the speed reference.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import torch

RULES = ("left", "trapezoid")


def path_weights(path: torch.Tensor, rule: str = "left") -> torch.Tensor:
    """The weight w_k of each path point's gradient, shaped like ``path`` (N + 1, ...)."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, not {rule!r}")
    deltas = path[1:] - path[:-1]
    zero = torch.zeros_like(path[:1])
    if rule == "left":
        return torch.cat([deltas, zero])
    return (torch.cat([zero, deltas]) + torch.cat([deltas, zero])) / 2


@contextmanager
def exact_cuda_math():
    """Full float32 inside (no TF32) for CUDA convolutions and matrix products: with TF32 the batched and looped
    attributions of one model differ by ~7 % (measured on an H100).  Uses PyTorch's ``fp32_precision`` settings (the
    legacy ``allow_tf32`` flags cannot be mixed with them); everything is restored on exit."""
    settings = [torch.backends.cudnn.conv, torch.backends.cuda.matmul]
    before = [s.fp32_precision for s in settings]
    for s in settings:
        s.fp32_precision = "ieee"
    try:
        yield
    finally:
        for s, value in zip(settings, before, strict=True):
            s.fp32_precision = value


def _joint_gradients(y: torch.Tensor, x: torch.Tensor, joints: range, batched: bool) -> torch.Tensor:
    """d y[:, j] / d x for the joints in ``joints``: (len(joints), P, C, H, W); the graph is kept."""
    if batched:
        cot = torch.zeros(len(joints), *y.shape, dtype=y.dtype, device=y.device)
        for a, j in enumerate(joints):
            cot[a, :, j] = 1
        return torch.autograd.grad(y, x, cot, is_grads_batched=True, retain_graph=True)[0]
    return torch.stack([torch.autograd.grad(y[:, j].sum(), x, retain_graph=True)[0] for j in joints])


def path_integrated_gradients(f: Callable[[torch.Tensor], torch.Tensor], path: torch.Tensor, rule: str = "left",
                              joints_per_backward: int | None = None,
                              points_per_batch: int | None = None) -> torch.Tensor:
    """Attributions of every output of ``f`` along ``path``: (J, C, H, W).

    f: (P, C, H, W) -> (P, J), each row depending only on its own input (a network in eval mode).
    path: (N + 1, C, H, W), baseline first, input last.
    joints_per_backward: joints whose gradients one backward pass computes: None (all of them, one batched
        backward) ... 1 (one backward per joint over the whole batch of path points).
    points_per_batch: path points per forward pass (None: all), to bound memory on large inputs.
    """
    weights = path_weights(path, rule)
    use = torch.nonzero(weights.flatten(1).abs().sum(1) > 0).flatten()  # the left rule never needs the input
    total = None
    step = points_per_batch or len(use)
    for start in range(0, len(use), step):
        idx = use[start : start + step]
        x, w = path[idx].detach().requires_grad_(True), weights[idx]
        with torch.enable_grad():
            y = f(x)
            n_joints = y.shape[1]
            chunk = n_joints if joints_per_backward is None else max(1, joints_per_backward)
            for j0 in range(0, n_joints, chunk):
                joints = range(j0, min(j0 + chunk, n_joints))
                grads = _joint_gradients(y, x, joints, batched=chunk > 1)
                part = (grads * w[None]).sum(1)
                if total is None:
                    total = torch.zeros(n_joints, *part.shape[1:], dtype=part.dtype, device=part.device)
                total[j0 : j0 + len(joints)] += part
    return total


def looped_integrated_gradients(f: Callable[[torch.Tensor], torch.Tensor], path: torch.Tensor,
                                rule: str = "left") -> torch.Tensor:
    """The authors' algorithm: for every path point one forward pass, then one backward pass per joint.
    The same attributions as ``path_integrated_gradients`` (the reference it is tested against)."""
    weights = path_weights(path, rule)
    total = None
    for k in range(len(path)):
        if not bool(weights[k].abs().sum() > 0):
            continue
        x = path[k : k + 1].detach().requires_grad_(True)
        with torch.enable_grad():
            y = f(x)[0]
            if total is None:
                total = torch.zeros(len(y), *path.shape[1:], dtype=path.dtype, device=path.device)
            for j in range(len(y)):
                grad = torch.autograd.grad(y[j], x, retain_graph=j < len(y) - 1)[0]
                total[j] += grad[0] * weights[k]
    return total


def authors_integrated_gradients(f: Callable[[torch.Tensor], torch.Tensor], path: torch.Tensor,
                                 parameters: list[torch.nn.Parameter], rule: str = "left") -> torch.Tensor:
    """The authors' published loop, step for step: per path point one forward pass, then ``.backward()`` per joint
    with the model's weights requiring gradients (so every backward also computes weight gradients), the input's
    gradient read and zeroed after each, and one more backward of all targets that frees the graph.  The same
    attributions as ``looped_integrated_gradients``; kept as the speed reference of T05.6."""
    weights = path_weights(path, rule)
    before = [p.requires_grad for p in parameters]
    for p in parameters:
        p.requires_grad_(True)
    total = None
    try:
        for k in range(len(path)):
            if not bool(weights[k].abs().sum() > 0):
                continue
            x = path[k : k + 1].detach().requires_grad_(True)
            with torch.enable_grad():
                y = f(x)
                if total is None:
                    total = torch.zeros(y.shape[1], *path.shape[1:], dtype=path.dtype, device=path.device)
                for j in range(y.shape[1]):
                    y[:, j].backward(torch.ones_like(y[:, j]), retain_graph=True)
                    total[j] += x.grad[0] * weights[k]
                    x.grad.zero_()
                y.backward(torch.ones_like(y))
    finally:
        for p, flag in zip(parameters, before, strict=True):
            p.grad = None
            p.requires_grad_(flag)
    return total


@torch.no_grad()
def completeness(f: Callable[[torch.Tensor], torch.Tensor], attributions: torch.Tensor,
                 path: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum of each joint's attributions, f(input) - f(baseline)), both (J,): equal for an exact integral."""
    ends = f(torch.stack([path[-1], path[0]]))
    return attributions.flatten(1).sum(1), ends[0] - ends[1]


def captum_integrated_gradients(f: Callable[[torch.Tensor], torch.Tensor], image: torch.Tensor,
                                baseline: torch.Tensor, joint: int | None, steps: int,
                                method: str = "riemann_left",
                                internal_batch_size: int | None = None) -> tuple[torch.Tensor, float]:
    """Straight-line integrated gradients by captum's ``IntegratedGradients`` for one joint (or, with
    ``joint=None``, the sum of all joints' outputs): (attributions (C, H, W), convergence delta)."""
    from captum.attr import IntegratedGradients

    def forward(x: torch.Tensor) -> torch.Tensor:
        y = f(x)
        return y.sum(1) if joint is None else y[:, joint]

    ig = IntegratedGradients(forward)
    attr, delta = ig.attribute(image[None], baselines=baseline[None], n_steps=steps, method=method,
                               internal_batch_size=internal_batch_size or steps,
                               return_convergence_delta=True)
    return attr[0].detach(), float(delta.reshape(-1)[0])
