"""How fast this machine trains the report's models (``make bench``: ``python -m poselab.tools.bench [--out CSV]
[--profile default] [--device auto]``).

Each 2D model family's float32 training speed at a profile's settings is judged against this machine's own dense
arithmetic: its float32 GEMM FLOP/s, measured side by side in the same process and threads.  Their ratio can be
compared across machines.  Rows are appended to the CSV (default ``reports/bench/bench.csv``).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from poselab.io import git_commit, now
from poselab.report.machine import isa_limits

if TYPE_CHECKING:
    import torch

    from poselab.training.config import TrainConfig

FIELDS = ["benchmark", "variant", "device", "value", "unit", "n", "seconds", "note", "commit", "time"]


def timer(work: Callable[[], object], device: str, warmup: int = 1) -> Callable[[int], float]:
    """``run(n)``: the seconds n calls of ``work`` take, the device synchronised, after ``warmup`` calls."""
    import torch

    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def run(n: int) -> float:
        sync()
        start = time.perf_counter()
        for _ in range(n):
            work()
        sync()
        return time.perf_counter() - start

    run(warmup)
    return run


def train_steps(model: torch.nn.Module, image_size: int, cfg: TrainConfig, device: str = "cpu",
                seed: int = 0) -> Callable[[int], float]:
    """A timer (``run(n)``: seconds) for float32 training steps of a heatmap network (hourglass or HRNet) on random
    data, at ``cfg``'s batch size, layout (``channels_last``) and optimiser: forward, the training loss against random
    (B, J, H/4, W/4) heatmaps, backward, an optimiser step."""
    import torch

    from poselab.training.loop import heatmap_loss, make_optimizer

    gen = torch.Generator().manual_seed(seed)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = model.to(device=device, memory_format=fmt).train()
    joints = model.n_joints if hasattr(model, "n_joints") else model.config["n_joints"]
    b, s = cfg.batch_size, image_size
    x = torch.randn(b, 3, s, s, generator=gen).to(device, memory_format=fmt)
    y = torch.rand(b, joints, s // 4, s // 4, generator=gen).to(device)
    weight = torch.ones(b, joints, device=device)
    opt = make_optimizer(model, cfg)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        heatmap_loss(model(x), y, weight).sum().backward()
        opt.step()

    # warm-up: the allocator, cuDNN's autotuning, the optimiser's state
    return timer(step, device, warmup=3 if device.startswith("cuda") else 1)


def gemm_timer(n: int = 1024, device: str = "cpu") -> Callable[[int], float]:
    """A timer (``run(k)``: seconds) of ``n`` x ``n`` float32 matrix products (2 n^3 FLOPs each): the machine's own
    dense-arithmetic speed.  On a GPU the products may use TF32 exactly when cuDNN's convolutions may (by torch's
    defaults they do), so that the training step and the GEMM are timed in the same arithmetic."""
    import torch

    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=gen).to(device) for _ in range(2))
    matmul = torch.backends.cuda.matmul

    def product() -> None:
        before, matmul.allow_tf32 = matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.mm(a, b)
        matmul.allow_tf32 = before

    return timer(product, device)


def side_by_side(runs: dict[str, Callable[[int], float]], steps: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per round of ``steps`` for each timer, interleaved round by round in a rotating order, so that a load
    change on a shared machine hits every timer alike."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            seconds[name].append(runs[name](steps))
    return seconds


def bench_efficiency(profile: str = "default", device: str = "cpu", steps: int = 8, rounds: int = 5, threads: int = 1,
                     gemm: int | None = None) -> list[dict]:
    """Training images/s and FLOP/s of every 2D model family at ``profile``'s settings, with ``threads`` torch threads
    (as each of the default report's training workers runs), beside this machine's float32 GEMM FLOP/s (``gemm`` x
    ``gemm``: 1024 on a CPU, 4096 on a GPU) in the same process, and the ratio of the two in per cent.  The FLOPs are
    ``poselab.models.complexity.training_flops`` (3 x 2 x MACs per sample); each value is the median over ``rounds``
    interleaved rounds of ``steps`` steps or products."""
    import torch

    from poselab.models import build_model
    from poselab.models.complexity import training_flops
    from poselab.profiles import PROFILES

    hg, hr = PROFILES[profile].hourglass, PROFILES[profile].hrnet
    families = {f"hourglass, {s} stack(s), {hg.input_size}px": (hg.spec(s), hg.input_size, hg.train)
                for s in hg.stacks}
    families[f"hrnet (as designed), {hr.input_size}px"] = (hr.spec("as designed"), hr.input_size, hr.train)
    gemm = gemm or (4096 if device.startswith("cuda") else 1024)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        runs, flops = {}, {}
        for name, (spec, size, cfg) in families.items():
            torch.manual_seed(0)
            model = build_model(spec)
            flops[name] = training_flops(model, (3, size, size), cfg.batch_size)
            runs[name] = train_steps(model, size, cfg, device)
        runs["gemm"] = gemm_timer(gemm, device)
        seconds = side_by_side(runs, steps, rounds)
    finally:
        torch.set_num_threads(before)
    per_step = {name: float(np.median(ts)) / steps for name, ts in seconds.items()}
    gemm_rate = 2 * gemm**3 / per_step.pop("gemm")
    cuda = device.startswith("cuda")
    where = torch.cuda.get_device_name(device) if cuda else f"cpu ({os.cpu_count()} cores, {platform.machine()})"
    limits = "".join(f", {k}={v}" for k, v in isa_limits().items())
    kernels = (f"TF32 {'on' if torch.backends.cudnn.allow_tf32 else 'off'}" if cuda
               else f"CPU kernels {torch.backends.cpu.get_cpu_capability()}{limits}")
    note = f"{profile} profile, {threads} torch thread(s), median of {rounds} rounds of {steps} steps; {kernels}"

    def row(variant: str, value: float, unit: str, secs: float, text: str) -> dict:
        return {"benchmark": "efficiency", "variant": variant, "device": where, "value": round(value, 3),
                "unit": unit, "n": steps * rounds, "seconds": round(secs, 3), "note": text}

    rows = [row(f"float32 GEMM {gemm}x{gemm}", gemm_rate / 1e9, "GFLOP/s", sum(seconds["gemm"]), note)]
    for name, t in per_step.items():
        batch, rate = families[name][2].batch_size, flops[name] / t
        rows += [row(f"train {name} speed", batch / t, "images/s", sum(seconds[name]), f"batch {batch}; {note}"),
                 row(f"train {name}", rate / 1e9, "GFLOP/s", sum(seconds[name]),
                     f"{flops[name] / 1e9:.2f} GFLOP per step of batch {batch}; {note}"),
                 row(f"train {name} / GEMM", 100 * rate / gemm_rate, "%", 0, "the default profile aims at 40 % or "
                     "more of the GEMM rate on a CPU")]
    return rows


def main(argv: list[str] | None = None) -> int:
    from poselab.profiles import PROFILES
    from poselab.report.notebook import resolve_device

    ap = argparse.ArgumentParser(prog="python -m poselab.tools.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("reports/bench/bench.csv"))
    ap.add_argument("--profile", default="default", choices=list(PROFILES),
                    help="whose models, in float32 at its batch sizes (default: default)")
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    a = ap.parse_args(argv)
    try:
        device = resolve_device(a.device)
    except ValueError as e:
        ap.error(str(e))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    new = not a.out.exists()
    commit, stamp = git_commit(), now()
    with open(a.out, "a", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        if new:
            writer.writeheader()
        print(f"bench: efficiency of the {a.profile} profile's models on {device} ...", flush=True)
        for r in bench_efficiency(a.profile, device):
            writer.writerow({**r, "commit": commit, "time": stamp})
            print(f"  {r['variant']:<58} {r['value']:>10} {r['unit']:<10} {r['note']}", flush=True)
    print(f"rows appended to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
