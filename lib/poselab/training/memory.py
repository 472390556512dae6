"""How many training runs fit side by side in memory: ``training_bytes`` estimates a run's peak (the activations
autograd keeps, counted on the ``meta`` device; the weights, gradients and two optimiser states; a process's fixed
cost), ``parallel_runs`` fits as many as the available memory holds and says so when that is fewer than asked (the
``full`` profile's 8-stack hourglass needs about 10 GB)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import torch

PROCESS_BYTES = 600 * 2**20  # a training worker before its model: torch, the data set's arrays, the loader
WEIGHT_COPIES = 4  # weights, gradients, and the optimiser's two running statistics (RMSprop/Adam at most)


def activation_elements(model: torch.nn.Module, input_shape: tuple[int, ...]) -> int:
    """Elements of every leaf module's output for one sample of ``input_shape`` (C, H, W), in training mode: what a
    training step keeps for its backward pass.  ``model`` may live on the ``meta`` device."""
    total = 0

    def hook(_module, _inputs, output):
        nonlocal total
        for t in output if isinstance(output, tuple | list) else (output,):
            if isinstance(t, torch.Tensor):
                total += t.numel()

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    hooks = [m.register_forward_hook(hook) for m in leaves]
    device = next(model.parameters()).device
    try:
        model.train()
        with torch.no_grad():  # two samples: BatchNorm refuses one sample on a 1 x 1 map
            model(torch.zeros(2, *input_shape, device=device))
    finally:
        for h in hooks:
            h.remove()
    return total // 2


def training_bytes(spec: dict, input_size: int | tuple[int, int], batch: int) -> int:
    """Estimated peak memory of training ``spec`` (a ``poselab.models.build_model`` spec) at ``batch`` images of
    ``input_size`` in float32, in bytes."""
    hw = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    activations, params = _counts(json.dumps(spec, sort_keys=True), hw)
    return PROCESS_BYTES + 4 * (activations * batch + WEIGHT_COPIES * params)


@functools.lru_cache(maxsize=64)
def _counts(spec_json: str, hw: tuple[int, int]) -> tuple[int, int]:
    """(activation elements per sample, parameters) of a spec, once per process."""
    from poselab.models import build_model

    with torch.device("meta"):
        model = build_model(json.loads(spec_json))
    return activation_elements(model, (3, *hw)), sum(p.numel() for p in model.parameters())


def available_bytes() -> int | None:
    """The memory the system can give new processes without swapping (``MemAvailable``), or None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def parallel_runs(needs: list[int], wanted: int, available: int | None, margin: float = 0.85) -> tuple[int, str | None]:
    """How many of the runs that need ``needs`` bytes each may train at once (at most ``wanted``, at least 1) in
    ``margin`` of the ``available`` memory, and a line saying why when that is fewer than ``wanted`` (or when even
    one run may not fit)."""
    if not needs or available is None or wanted <= 1:
        return max(1, min(wanted, len(needs) or 1)), None
    need = max(needs)
    fit = int(available * margin // need)
    gb = 2**30
    if fit >= wanted:
        return wanted, None
    if fit < 1:
        return 1, (f"training one run at a time: the largest needs about {need / gb:.1f} GB and only "
                   f"{available / gb:.1f} GB are available (it may swap; close other programs)")
    return fit, (f"training {fit} run(s) at a time instead of {wanted}: the largest needs about {need / gb:.1f} GB and "
                 f"{available / gb:.1f} GB are available")
