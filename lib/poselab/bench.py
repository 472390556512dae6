"""Speed measurements: ``python -m poselab.bench --out reports/bench/bench.csv [--only synthetic]``.

Each benchmark appends rows (benchmark, variant, device, value, unit, ...) to the CSV.
Alternatives are measured side by side in the same run, so their ratio is meaningful on a
noisy machine even when the absolute numbers are not.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from poselab.io import git_commit, now
from poselab.machine import isa_limits

if TYPE_CHECKING:
    import torch

FIELDS = ["benchmark", "variant", "device", "value", "unit", "n", "seconds", "note", "commit", "time"]


def device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"cpu ({os.cpu_count()} cores, {platform.machine()})"


def row(benchmark: str, variant: str, value: float, unit: str, n: int, seconds: float, note: str = "") -> dict:
    return {"benchmark": benchmark, "variant": variant, "device": device_name(), "value": round(value, 3),
            "unit": unit, "n": n, "seconds": round(seconds, 3), "note": note}


def bench_synthetic(image_size: int = 128, n: int = 2400) -> list[dict]:
    """Synthetic image generation: one process vs all cores, and where one image's time goes."""
    from poselab.data.synthetic import generate as g
    from poselab.data.synthetic import render

    cfg = g.ImageSetConfig(image_size=image_size)
    rows = []
    # Stage breakdown, in this process (one core).
    bank = render.TextureBank(cfg.seed, image_size)
    timer = g.StageTimer()
    count, start = 0, time.perf_counter()
    for s in range(n // (2 * cfg.frames_per_sequence)):
        rng = np.random.default_rng([cfg.seed, 0, s])
        with timer("scene (motion, pose, camera)"):
            scene = g.sample_scene(rng, cfg, g.SPLITS["train"][1])
        with timer("scenery (background, clutter, occluders)"):
            scenery = g.render_scenery(scene, bank)
        for j in range(len(scene.times)):
            g.render_frame(scene, j, scenery, bank, rng, cfg.noise, timer)
            count += 1
    seconds = time.perf_counter() - start
    rows.append(row("synthetic", f"render {image_size}px, 1 process (in memory)", count / seconds, "images/s",
                    count, seconds))
    for stage, t in timer.seconds.items():
        rows.append(row("synthetic", f"stage: {stage}", 1000 * t / count, "ms/image", count, t,
                        f"{100 * t / seconds:.0f}% of the time"))
    # End to end, writing the memory-mapped files, with 1 and with all worker processes.
    workers = [1, min(2, os.cpu_count() or 1)] if (os.cpu_count() or 1) > 1 else [1]
    speeds = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in workers:
            start = time.perf_counter()
            g.generate_split(Path(tmp) / f"w{w}", cfg, "train", n, workers=w, progress=False)
            seconds = time.perf_counter() - start
            speeds[w] = n / seconds
            rows.append(row("synthetic", f"generate {image_size}px, {w} worker(s), to disk", n / seconds,
                            "images/s", n, seconds, "includes process start-up"))
    if len(speeds) == 2:
        rows.append(row("synthetic", f"speed-up {workers[1]} workers / 1", speeds[workers[1]] / speeds[1], "x", n, 0))
    return rows


def bench_loader(image_size: int = 128, n: int = 2000) -> list[dict]:
    """Reading a synthetic split through a torch DataLoader."""
    import torch

    from poselab.data.dataset import PoseDataset
    from poselab.data.synthetic.config import ImageSetConfig
    from poselab.data.synthetic.generate import ensure_image_sets

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = ensure_image_sets(Path(tmp), ImageSetConfig(image_size=image_size, n_train=n, n_val=8),
                                 progress=False)
        ds = PoseDataset(root, "train")
        for workers in (0, 2):
            loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers)
            start = time.perf_counter()
            seen = sum(len(b["image"]) for b in loader)
            seconds = time.perf_counter() - start
            rows.append(row("loader", f"PoseDataset {image_size}px, {workers} loader workers", seen / seconds,
                            "samples/s", seen, seconds))
    return rows


def bench_batches(n: int = 2048, batch: int = 16) -> list[dict]:
    """Training batches of the default profile's hourglass (128-pixel synthetic images cropped to its input with
    augmentation, heatmap targets): the per-sample DataLoader against ``HeatmapDataset.batch`` (one grid_sample
    per batch), side by side on the CPU, and on the GPU with the images kept there."""
    import torch

    from poselab.data.dataset import ImageSet
    from poselab.data.pose_dataset import HeatmapDataset, SyntheticSource, epoch_batches, source_images
    from poselab.data.synthetic.config import ImageSetConfig
    from poselab.data.synthetic.generate import ensure_image_sets
    from poselab.data.transforms import Augment
    from poselab.profiles import PROFILES

    size = PROFILES["default"].hourglass.input_size
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = ensure_image_sets(Path(tmp), ImageSetConfig(image_size=128, n_train=n, n_val=8), progress=False)
        ds = HeatmapDataset(SyntheticSource(ImageSet(root, "train")), size, augment=Augment(), seed=0)
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for device in devices:
            images = source_images(ds.source).to(device)
            def per_sample(g, device=device):
                loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, drop_last=True, generator=g)
                return (b["image"].to(device) for b in loader)

            def batched(g, images=images):
                return (b["image"] for b in epoch_batches(ds, batch, g, images))

            ways = {"per-sample DataLoader": per_sample, "batched (one grid_sample per batch)": batched}
            seconds: dict[str, list[float]] = {k: [] for k in ways}
            for r in range(3):  # interleaved rounds
                for name in list(ways)[r % 2 :] + list(ways)[: r % 2]:
                    t = time.perf_counter()
                    seen = sum(len(x) for x in ways[name](torch.Generator().manual_seed(r)))
                    if device == "cuda":
                        torch.cuda.synchronize()
                    seconds[name].append(seen / (time.perf_counter() - t))
            speed = {k: float(np.median(v)) for k, v in seconds.items()}
            for name, v in speed.items():
                rows.append(row("batches", f"{name}, {size}px from 128px, batch {batch} ({device})", v, "samples/s",
                                n, 0, f"median of 3 interleaved rounds; {torch.get_num_threads()} threads"))
            rows.append(row("batches", f"ratio batched / per-sample ({device})",
                            speed["batched (one grid_sample per batch)"] / speed["per-sample DataLoader"], "x", 0, 0))
    return rows


def train_steps(model: torch.nn.Module, image_size: int, batch: int, device: str = "cpu",
                amp_dtype: torch.dtype | None = None, channels_last: bool = False, seed: int = 0,
                optimizer: str = "adam", compile: bool = False) -> Callable[[int], float]:
    """A timer for training steps of a heatmap network (hourglass or HRNet) on random data: forward, the
    training loss against random (N, J, H/4, W/4) heatmaps, backward, an optimiser step (``poselab.training.loop``'s
    Adam or RMSprop). Returns ``run(n)``: the seconds n steps take (the device synchronised)."""
    import torch

    from poselab.training.config import TrainConfig
    from poselab.training.loop import heatmap_loss, make_optimizer

    gen = torch.Generator().manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device=device, memory_format=fmt).train()
    joints = model.n_joints if hasattr(model, "n_joints") else model.config["n_joints"]
    x = torch.randn(batch, 3, image_size, image_size, generator=gen).to(device, memory_format=fmt)
    y = torch.rand(batch, joints, image_size // 4, image_size // 4, generator=gen).to(device)
    weight = torch.ones(batch, joints, device=device)
    opt = make_optimizer(model, TrainConfig(optimizer=optimizer, lr=1e-3))
    forward = torch.compile(model) if compile else model
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def run(n: int) -> float:
        sync()
        start = time.perf_counter()
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device.split(":")[0], dtype=amp_dtype, enabled=amp_dtype is not None):
                out = forward(x)
            heatmap_loss(out, y, weight).sum().backward()
            opt.step()
        sync()
        return time.perf_counter() - start

    run(3 if device.startswith("cuda") else 1)  # warm-up: allocator, cuDNN autotuning, compilation, optimiser state
    return run


def _side_by_side(runs: dict[str, Callable[[int], float]], steps: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per round for each variant, the variants interleaved round by round (in a rotating order) so that
    a load change on a shared machine hits all of them alike."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            seconds[name].append(runs[name](steps))
    return seconds


def _median_speed(seconds: dict[str, list[float]], images_per_round: int) -> dict[str, float]:
    """Median images/s over the rounds of each variant."""
    return {name: float(np.median([images_per_round / t for t in ts])) for name, ts in seconds.items()}


def bench_precision(make_model: Callable[[], torch.nn.Module], name: str, device: str, image_size: int,
                    batch: int, steps: int, rounds: int, benchmark: str = "hrnet", optimizer: str = "adam",
                    compiled: bool = False) -> list[dict]:
    """Training img/s of fresh models from ``make_model``: fp32 vs bf16 autocast + channels_last (and, with
    ``compiled``, the latter under torch.compile), side by side."""
    import torch

    bf16 = dict(amp_dtype=torch.bfloat16, channels_last=True)
    kinds = {"fp32": {}, "bf16 autocast + channels_last": bf16}
    if compiled:
        kinds["bf16 autocast + channels_last + torch.compile"] = dict(bf16, compile=True)
    runs = {}
    for k, kw in kinds.items():
        torch.manual_seed(0)
        runs[k] = train_steps(make_model(), image_size, batch, device, optimizer=optimizer, **kw)
    seconds = _side_by_side(runs, steps, rounds)
    speed = _median_speed(seconds, batch * steps)
    n = batch * steps * rounds
    note = f"batch {batch}, median of {rounds} rounds, cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}"
    rows = [row(benchmark, f"train {name} {k}", speed[k], "img/s", n, sum(seconds[k]), note) for k in kinds]
    for k in list(kinds)[1:]:
        rows.append(row(benchmark, f"speed-up {name} {k.replace(' autocast', '')} / fp32", speed[k] / speed["fp32"],
                        "x", n, 0))
    return rows


def _single_thread_speed(spec: dict, size: int, steps: int = 8) -> float:
    """Images/s of one single-thread process training ``spec`` as the default profile does (float32,
    channels_last, RMSprop, batch 16): one of notebook 02's workers."""
    import torch

    from poselab.models import build_model

    torch.set_num_threads(1)
    torch.manual_seed(0)
    run = train_steps(build_model(spec), size, 16, channels_last=True, optimizer="rmsprop")
    return 16 * steps / run(steps)


def _parallel_step_speed(spec: dict, size: int, processes: int = 2) -> float:
    """Summed images/s of ``processes`` single-thread processes training ``spec`` at the same time."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(processes, mp_context=mp.get_context("spawn")) as pool:
        return sum(pool.map(_single_thread_speed, [spec] * processes, [size] * processes))


def bench_hourglass(steps: int = 8, rounds: int = 3) -> list[dict]:
    """Hourglass training steps: fp32 eager vs channels_last (vs bf16 where native) on the CPU, default-profile
    model, side by side; on a GPU, the paper's 2-stack model at 256x256, fp32 vs bf16 + channels_last
    (+ torch.compile)."""
    import torch

    from poselab.models import build_model
    from poselab.precision import bf16_native
    from poselab.profiles import PROFILES

    study = PROFILES["default"].hourglass
    variants = {"fp32 eager": {}, "fp32 channels_last": dict(channels_last=True)}
    if bf16_native("cpu"):
        variants["bf16 + channels_last"] = dict(amp_dtype=torch.bfloat16, channels_last=True)
    runs = {}
    for name, kw in variants.items():
        torch.manual_seed(0)
        runs[name] = train_steps(build_model(study.spec(study.main_stacks)), study.input_size, 16, optimizer="rmsprop",
                                 **kw)
    seconds = _side_by_side(runs, steps, rounds)
    speed = _median_speed(seconds, 16 * steps)
    rows = [row("hourglass", f"train step, {study.main_stacks} stacks w{study.width} {study.input_size}px, batch 16, "
                f"{name} (cpu)", speed[name], "images/s", 16 * steps * rounds, sum(seconds[name]),
                f"median of {rounds} interleaved rounds; {torch.get_num_threads()} threads") for name in variants]
    for name in list(variants)[1:]:
        rows.append(row("hourglass", f"ratio {name} / fp32 eager (cpu)", speed[name] / speed["fp32 eager"], "x",
                        0, 0))
    # Two runs side by side, one single-thread process per core, as notebook 02 trains its 2 x 3 runs.
    for stacks in study.stacks:
        together = _parallel_step_speed(study.spec(stacks), study.input_size, processes=2)
        rows.append(row("hourglass", f"2 single-thread processes side by side, {stacks} stack(s) w{study.width} "
                        f"{study.input_size}px, fp32 + channels_last (cpu)", together, "images/s", 0, 0,
                        "sum over the processes; how notebook 02 trains its runs"))
    if torch.cuda.is_available():
        full = PROFILES["full"].hourglass
        rows += bench_precision(lambda: build_model(full.spec(2)), f"2 stacks w{full.width} {full.input_size}px",
                                "cuda", full.input_size, 32, 20, rounds, benchmark="hourglass", optimizer="rmsprop",
                                compiled=True)
    return rows


def bench_hrnet(image_size: int = 128, batch: int = 16, steps: int = 2, rounds: int = 5,
                gpu_steps: int = 20) -> list[dict]:
    """HRNet training speed (img/s): the three variants of Henderson and Houser 2023 on a narrow CPU configuration,
    measured side by side; on a GPU also HRNet-W32 at 256x256, fp32 vs bf16 autocast + channels_last.

    Each value is the median over ``rounds`` interleaved rounds of ``steps`` training steps (robust to bursts of
    load from other processes); every model uses ``init="kaiming"`` so that no variant runs in the near-zero
    (denormal-prone) regime that the official initialisation gives without BatchNorm.
    """
    import torch

    from poselab.models.hrnet import hrnet_narrow, hrnet_w32

    variants = {"as designed": dict(norm="batch", act="relu"), "no batchnorm": dict(norm="none", act="relu"),
                "no batchnorm, identity activations": dict(norm="none", act="identity")}
    torch.manual_seed(0)
    models = {name: hrnet_narrow(init="kaiming", **kw) for name, kw in variants.items()}
    cfg = ", ".join(f"{k} {models['as designed'].config[k]}" for k in ("width", "blocks", "modules", "stem_width"))
    runs = {name: train_steps(m, image_size, batch) for name, m in models.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    seconds = _side_by_side(runs, steps, rounds)
    speed = _median_speed(seconds, batch * steps)
    n = batch * steps * rounds
    note = (f"narrow HRNet ({cfg}), batch {batch}, median of {rounds} rounds, {torch.get_num_threads()} torch "
            f"threads, load average {load:.1f} before the run")
    rows = [row("hrnet", f"train {image_size}px, narrow, {name}", speed[name], "img/s", n, sum(ts), note)
            for name, ts in seconds.items()]
    for name in list(variants)[1:]:
        rows.append(row("hrnet", f"speed {name} / as designed", speed[name] / speed["as designed"], "x", n,
                        sum(seconds[name])))

    if torch.cuda.is_available():
        rows += bench_precision(hrnet_w32, "W32 256px", "cuda", 256, 32, gpu_steps, rounds)
    return rows


def gemm_timer(n: int = 1024, device: str = "cpu") -> Callable[[int], float]:
    """A timer of ``n`` x ``n`` float32 matrix products (2 n^3 FLOPs each): the machine's own dense-arithmetic speed,
    against which a training step's FLOP rate is judged.  Returns ``run(k)``: the seconds k products take."""
    import torch

    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=gen).to(device) for _ in range(2))
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def run(k: int) -> float:
        sync()
        start = time.perf_counter()
        for _ in range(k):
            torch.mm(a, b)
        sync()
        return time.perf_counter() - start

    run(1)
    return run


def bench_efficiency(steps: int = 8, rounds: int = 5, threads: int = 1, gemm: int = 1024) -> list[dict]:
    """Training FLOP/s of every 2D model family at its ``default``-profile settings (input size, batch 16, optimiser,
    layout; ``threads`` torch threads, as each of the default report's training workers runs), this machine's float32
    GEMM FLOP/s in the same process with the same threads, and their ratio: a measure of training speed that can be
    compared across CPUs.  The FLOPs are ``poselab.models.complexity.training_flops`` (3 x 2 x MACs per sample).
    Every variant and the GEMM are timed side by side, round by round."""
    import torch

    from poselab.models import build_model
    from poselab.models.complexity import training_flops
    from poselab.profiles import PROFILES

    prof = PROFILES["default"]
    hg, hr = prof.hourglass, prof.hrnet
    families = {f"hourglass, {s} stack(s), {hg.input_size}px": (hg.spec(s), hg.input_size, hg.train)
                for s in hg.stacks}
    families[f"hrnet (as designed), {hr.input_size}px"] = (hr.spec("as designed"), hr.input_size, hr.train)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        runs, flops = {}, {}
        for name, (spec, size, cfg) in families.items():
            torch.manual_seed(0)
            model = build_model(spec)
            flops[name] = training_flops(model, (3, size, size), cfg.batch_size)
            runs[name] = train_steps(model, size, cfg.batch_size, channels_last=cfg.channels_last,
                                     optimizer=cfg.optimizer)
        runs["gemm"] = gemm_timer(gemm)
        seconds = _side_by_side(runs, steps, rounds)
    finally:
        torch.set_num_threads(before)
    per_round = {name: float(np.median(ts)) / steps for name, ts in seconds.items()}  # seconds per step / product
    gemm_rate = 2 * gemm**3 / per_round.pop("gemm")
    limits = ", ".join(f"{k}={v}" for k, v in isa_limits().items())
    note = (f"{threads} torch thread(s), median of {rounds} rounds of {steps} steps; CPU kernels "
            f"{torch.backends.cpu.get_cpu_capability()}" + (f" (limited by {limits})" if limits else ""))
    rows = [row("efficiency", f"float32 GEMM {gemm}x{gemm}", gemm_rate / 1e9, "GFLOP/s", steps * rounds,
                sum(seconds["gemm"]), note)]
    for name, t in per_round.items():
        rate = flops[name] / t
        rows.append(row("efficiency", f"train {name}", rate / 1e9, "GFLOP/s", steps * rounds, sum(seconds[name]),
                        f"{flops[name] / 1e9:.2f} GFLOP per step (batch {families[name][2].batch_size}); {note}"))
        rows.append(row("efficiency", f"train {name} / GEMM", 100 * rate / gemm_rate, "%", steps * rounds, 0,
                        "the default profile aims at 40 % or more of the GEMM rate"))
    return rows


def bench_silhouette(n: int = 10000, d: int = 4096, ks: range = range(2, 11), restarts: int = 10,
                     sklearn_calls: int = 2) -> list[dict]:
    """Silhouettes of a whole K sweep: one shared distance matrix (poselab.studies.latent.features) vs one
    scikit-learn ``silhouette_score`` call per (K, restart).  scikit-learn is timed on
    ``sklearn_calls`` calls and extrapolated to the sweep (each call does the same work)."""
    import torch
    from sklearn.metrics import silhouette_score

    from poselab.studies.latent.features import pairwise_distances, silhouette

    rng = np.random.default_rng(0)
    x = (rng.normal(size=(n, d)) + rng.integers(0, 4, size=(n, 1))).astype(np.float32)
    labellings = [rng.integers(0, k, n) for k in ks for _ in range(restarts)]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    start = time.perf_counter()
    dist = pairwise_distances(x, device, dtype=torch.float32)
    t_dist = time.perf_counter() - start
    ours = [silhouette(dist, lab) for lab in labellings]
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    theirs = [silhouette_score(x, lab) for lab in labellings[:sklearn_calls]]
    t_call = (time.perf_counter() - start) / sklearn_calls
    gap = max(abs(a - b) for a, b in zip(ours, theirs, strict=False))
    jobs = len(labellings)
    return [
        row("silhouette", f"shared distance matrix, {jobs} labellings, {n}x{d} ({device})", t_ours, "s", jobs, t_ours,
            f"distance matrix {t_dist:.1f} s; max |ours - sklearn| {gap:.1e}"),
        row("silhouette", f"sklearn silhouette_score per labelling, {n}x{d}", t_call * jobs, "s", jobs, t_call * jobs,
            f"{t_call:.1f} s per call, timed on {sklearn_calls} calls"),
        row("silhouette", "speed-up shared matrix / sklearn", t_call * jobs / t_ours, "x", jobs, 0),
    ]


def random_lifting_set(n: int):
    """``n`` random normalised poses as a lifting training set: the lifting trainers' speed does not depend on the
    poses."""
    from poselab.studies.lifting.data import LiftingSet

    poses = np.random.default_rng(0).normal(0, 0.4, (n, 16, 3)).astype(np.float32)
    return LiftingSet(inputs=poses[..., :2], targets=poses, gt_mm=np.zeros((n, 17, 3), np.float32),
                      pixels=np.zeros((n, 17, 2), np.float32), subject=np.full(n, "S1"), take=np.full(n, "Walking 1"),
                      action=np.full(n, "Walking"), camera=np.zeros(n, int), frame=np.arange(n))


def bench_lifting(iterations: int = 30, batch_size: int = 256) -> list[dict]:
    """Lifting (notebook 07): training iterations/s at batch 256, thesis width h = 1024 and the default
    profile's h = 256; on the CPU with 1 and with all threads, and on the GPU when there is one."""
    from dataclasses import replace

    import torch

    from poselab.studies.lifting.settings import LiftingConfig
    from poselab.studies.lifting.train import train_supervised, train_vae_gan

    n = iterations * batch_size
    train = random_lifting_set(n)
    runs = [("cpu", 1), ("cpu", os.cpu_count() or 1)] + ([("cuda", 0)] if torch.cuda.is_available() else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for hidden in (1024, 256):
            for device, threads in runs:
                cfg = replace(LiftingConfig(hidden=hidden, batch_size=batch_size, epochs=1, supervised_epochs=1),
                              cpu_threads=threads)
                where = f"{threads} CPU thread(s)" if device == "cpu" else "GPU"
                for name, trainer in (("VAE-GAN", train_vae_gan), ("supervised VAE", train_supervised)):
                    result = trainer(train, None, cfg, Path(tmp), device, progress=False)
                    rows.append(row("lifting", f"{name} h={hidden}, batch {batch_size}, {where}",
                                    result.iterations / result.seconds, "iterations/s", result.iterations,
                                    result.seconds, "one D + one G step per iteration" if name == "VAE-GAN" else ""))
    return rows


def bench_poseig(repeats: int = 3) -> list[dict]:
    """PoseIG (notebook 05): every joint's blur-path attributions of one 128-pixel image by the authors' loop as
    published (one backward pass per joint per path step, weight gradients on) and with frozen weights, against one
    backward per joint over the batched path and one batched backward for all joints; the default profile's main
    hourglass and HRNet on the CPU, and on a GPU also the paper's 2-stack hourglass at 256x256 with the authors' 50
    steps (TF32 off).  Untrained weights: the cost does not depend on them."""

    import torch

    from poselab.models import build_model
    from poselab.profiles import PROFILES
    from poselab.studies.poseig.attribute import Attributor, speed_comparison
    from poselab.studies.poseig.experiment import attributor

    default, full = PROFILES["default"], PROFILES["full"]
    cases = [("cpu", "hourglass", default.hourglass.spec(2), default.hourglass.input_size, 128, default.poseig),
             ("cpu", "HRNet", default.hrnet.spec("as designed"), default.hrnet.input_size, 128, default.poseig)]
    if torch.cuda.is_available():
        cases += [("cuda", "hourglass", default.hourglass.spec(2), default.hourglass.input_size, 128, default.poseig),
                  ("cuda", "hourglass", full.hourglass.spec(2), full.hourglass.input_size, 256, full.poseig)]
    rows = []
    for device, name, spec, size, image_size, study in cases:
        torch.manual_seed(0)
        model = build_model(spec).eval().to(device)
        att = attributor(model, size, image_size, study, device)
        image = torch.rand(3, image_size, image_size)
        gt = torch.rand(spec["n_joints"], 2) * (image_size - 1)
        table = speed_comparison(att, image, gt, repeats=repeats)
        what = f"{name} {size}px (w{spec['width']}), {spec['n_joints']} joints, {study.steps} steps ({device})"
        where = torch.cuda.get_device_name(0) if device == "cuda" else f"cpu, {torch.get_num_threads()} threads"
        for method, r in table.iterrows():
            rows.append(row("poseig", f"{what}: {method}", r["seconds"], "s", 1, r["seconds"],
                            f"max relative difference {r['max relative difference of attributions']:.1e}; {where}"))
        for method, r in table.iloc[1:].iterrows():
            for ref in ("authors' loop", "frozen loop"):
                rows.append(row("poseig", f"{what}: speed-up, {method} / the {ref}", r[f"speed-up over the {ref}"],
                                "x", 1, 0, where))
        if image_size == 128:  # the same comparison in float64 (5 steps): equal up to rounding
            exact = Attributor(model.double(), att.coordinates.matrix, size, image_size,
                               **{**att.settings(), "steps": 5}, device=device)
            exact.coordinates.double(), exact.reference.double()
            t64 = speed_comparison(exact, image.double(), gt.double())
            for method, r in t64.iloc[2:].iterrows():
                rows.append(row("poseig", f"{name} {size}px, float64, 5 steps ({device}): {method} vs the loop",
                                1e12 * r["max relative difference of attributions"], "1e-12 relative", 1,
                                r["seconds"], where))
    return rows


def bench_precision_table(steps: int = 4, rounds: int = 3) -> list[dict]:
    """The table behind ``poselab.precision``: training img/s of each model family the profiles train, per
    precision and layout (fp32, fp32 channels_last, bf16 autocast where native, bf16 + channels_last; on a GPU also
    TF32 and torch.compile) and batch size, side by side; then, per family and batch, the fastest variant beside
    the one the table picks (a mismatch means the table needs a new measurement)."""
    import torch

    from poselab.models import build_model
    from poselab.precision import bf16_native, choose
    from poselab.profiles import PROFILES

    device = "cuda" if torch.cuda.is_available() else "cpu"
    profile = PROFILES["full" if device == "cuda" else "default"]
    models = {"hourglass": (profile.hourglass.spec(profile.hourglass.main_stacks), profile.hourglass.input_size,
                            "rmsprop"),
              "hrnet": (profile.hrnet.spec("as designed"), profile.hrnet.input_size, "adam")}
    batches = (16, 32, 64) if device == "cuda" else (16,)
    variants = {"fp32": {}, "fp32 channels_last": {"channels_last": True}}
    if bf16_native(device):
        variants |= {"bf16": {"amp_dtype": torch.bfloat16},
                     "bf16 channels_last": {"amp_dtype": torch.bfloat16, "channels_last": True}}
    if device == "cuda":
        variants["bf16 channels_last compiled"] = {"amp_dtype": torch.bfloat16, "channels_last": True, "compile": True}
    rows = []
    for fam, (spec, size, optimizer) in models.items():
        for batch in batches:
            runs = {}
            for name, kw in variants.items():
                torch.manual_seed(0)
                runs[name] = train_steps(build_model(spec), size, batch, device, optimizer=optimizer, **kw)
            if device == "cuda":  # TF32 convolutions and matmuls, as the fp32 variant but with TF32 allowed
                runs["tf32"] = _with_tf32(train_steps(build_model(spec), size, batch, device, optimizer=optimizer))
            speed = _median_speed(_side_by_side(runs, steps, rounds), batch * steps)
            for name, v in speed.items():
                rows.append(row("precision", f"{fam} {size}px batch {batch}: {name} ({device})", v, "img/s",
                                batch * steps * rounds, 0, f"median of {rounds} interleaved rounds"))
            best = max(speed, key=speed.get)
            picked = choose(device, fam, batch)
            picked_name = ("bf16" if picked.bf16 else "fp32") + (" channels_last" if picked.channels_last else "")
            rows.append(row("precision", f"{fam} {size}px batch {batch}: table picks {picked_name}, fastest {best}",
                            speed.get(picked_name, float("nan")) / speed[best], "of fastest", 0, 0,
                            picked.measured))
    return rows


def _with_tf32(run: Callable[[int], float]) -> Callable[[int], float]:
    import torch

    def timed(n: int) -> float:
        before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        try:
            return run(n)
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before

    return timed


def measured_speeds(parts, profile, steps: int = 3, lifting_iterations: int = 20) -> dict:
    """Every part's speed measured on this device (``poselab.projection.Speed``): training steps of its model at its
    batch (PoseIG and forward passes: batch 32) in the precision ``poselab.precision`` picks, a few steps after a
    warm-up; lifting iterations of its trainer."""
    from dataclasses import replace

    import torch

    from poselab.models import build_model
    from poselab.precision import choose, family
    from poselab.projection import Speed
    from poselab.studies.lifting.train import TRAINERS

    device = "cuda" if torch.cuda.is_available() else "cpu"
    where = device_name()
    cache: dict[tuple, Speed] = {}
    out = {}
    for part in parts:
        batch = part.batch if part.batch > 1 else 32
        key = (part.lifting, repr(sorted((part.spec or {}).items())), part.size, batch)
        if key not in cache:
            if part.lifting:
                cfg = profile.lifting
                train = random_lifting_set(cfg.batch_size * lifting_iterations)
                with tempfile.TemporaryDirectory() as tmp:
                    result = TRAINERS[part.lifting](train, None, replace(cfg, epochs=1, supervised_epochs=1,
                                                                         cpu_threads=0), Path(tmp), device,
                                                    progress=False)
                cache[key] = Speed(result.iterations / result.seconds, f"measured on {where}, batch {cfg.batch_size}")
            else:
                model = build_model(part.spec)
                choice = choose(device, family(model), batch)
                run = train_steps(model, part.size, batch, device, torch.bfloat16 if choice.bf16 else None,
                                  choice.channels_last, optimizer=part.optimizer)
                cache[key] = Speed(batch * steps / run(steps),
                                   f"measured on {where}: {choice.describe()}, batch {batch}")
        out[part.name] = cache[key]
    return out


def bench_full() -> list[dict]:
    """The ``full`` profile's time on one device, projected (``poselab.projection``): on a GPU from speeds measured
    here; elsewhere from the stated GPU rows (``poselab.projection.GPU_ROWS``), which every row names."""
    import torch

    from poselab.profiles import PROFILES
    from poselab.projection import project, schedule, stated_speeds

    full = PROFILES["full"]
    parts = schedule(full)
    on_gpu = torch.cuda.is_available()
    speeds = measured_speeds(parts, full) if on_gpu else stated_speeds(parts, full)
    table, total = project(parts, speeds)
    where = device_name() if on_gpu else "one H100 (from the stated rows: this machine has no GPU)"
    rows = []
    for r in table:
        rows.append(row("full", f"{r['name']}: speed", r["speed"], f"{r['unit']}/s", int(r["work"]), 0, r["source"]))
        rows.append(row("full", f"{r['name']}: projected, {r['runs']} run(s)", r["hours"], "h", int(r["work"]), 0,
                        f"{r['work']:,.0f} {r['unit']} per run"))
    rows.append(row("full", "projected full profile, one device", total, "h", 0, 0,
                    f"{where}; synthetic data sizes; budget {full.budget_minutes / 60:g} h"))
    return rows


BENCHMARKS: dict[str, Callable[[], list[dict]]] = {
    "synthetic": bench_synthetic,
    "loader": bench_loader,
    "batches": bench_batches,
    "hourglass": bench_hourglass,
    "hrnet": bench_hrnet,
    "silhouette": bench_silhouette,
    "lifting": bench_lifting,
    "poseig": bench_poseig,
    "precision": bench_precision_table,
    "full": bench_full,
    "efficiency": bench_efficiency,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m poselab.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("reports/bench/bench.csv"))
    ap.add_argument("--only", nargs="*", choices=list(BENCHMARKS), help="benchmarks to run (default: all)")
    ap.add_argument("--debug", action="store_true", help="show Python tracebacks instead of one-line errors")
    a = ap.parse_args(argv)
    try:
        return _run(a)
    except KeyboardInterrupt:
        print(f"\nposelab.bench: interrupted; the rows measured so far are in {a.out}", file=sys.stderr)
        return 130
    except (OSError, ValueError) as e:
        if a.debug:
            raise
        print(f"poselab.bench: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1


def _run(a: argparse.Namespace) -> int:
    a.out.parent.mkdir(parents=True, exist_ok=True)
    new = not a.out.exists()
    commit, stamp = git_commit(), now()
    with open(a.out, "a", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        if new:
            writer.writeheader()
        for name in a.only or BENCHMARKS:
            print(f"bench {name} ...", flush=True)
            for r in BENCHMARKS[name]():
                writer.writerow({**r, "commit": commit, "time": stamp})
                fh.flush()
                print(f"  {r['variant']:<58} {r['value']:>10} {r['unit']:<10} {r['note']}")
    print(f"rows appended to {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
