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
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from poselab.reporting.registry import git_commit, now

FIELDS = ["benchmark", "variant", "device", "value", "unit", "n", "seconds", "note", "commit", "time"]


def device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"cpu ({os.cpu_count()} cores, {platform.machine()})"


def row(benchmark: str, variant: str, value: float, unit: str, n: int, seconds: float, note: str = "") -> dict:
    return {"benchmark": benchmark, "variant": variant, "device": device_name(), "value": round(value, 3),
            "unit": unit, "n": n, "seconds": round(seconds, 3), "note": note}  # fmt: skip


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
                    count, seconds))  # fmt: skip
    for stage, t in timer.seconds.items():
        rows.append(row("synthetic", f"stage: {stage}", 1000 * t / count, "ms/image", count, t,
                        f"{100 * t / seconds:.0f}% of the time"))  # fmt: skip
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
                            "images/s", n, seconds, "includes process start-up"))  # fmt: skip
    if len(speeds) == 2:
        rows.append(row("synthetic", f"speed-up {workers[1]} workers / 1", speeds[workers[1]] / speeds[1], "x", n, 0))
    return rows


def bench_loader(image_size: int = 128, n: int = 2000) -> list[dict]:
    """Reading a synthetic split through a torch DataLoader."""
    import torch

    from poselab.data.dataset import PoseDataset
    from poselab.data.synthetic.generate import ImageSetConfig, ensure_image_sets

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = ensure_image_sets(Path(tmp), ImageSetConfig(image_size=image_size, n_train=n, n_val=8),
                                 progress=False)  # fmt: skip
        ds = PoseDataset(root, "train")
        for workers in (0, 2):
            loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers)
            start = time.perf_counter()
            seen = sum(len(b["image"]) for b in loader)
            seconds = time.perf_counter() - start
            rows.append(row("loader", f"PoseDataset {image_size}px, {workers} loader workers", seen / seconds,
                            "samples/s", seen, seconds))  # fmt: skip
    return rows


def bench_lifting(iterations: int = 30, batch_size: int = 256) -> list[dict]:
    """Lifting (notebook 07): training iterations/s at batch 256, thesis width h = 1024 and the default
    profile's h = 256; on the CPU with 1 and with all threads, and on the GPU when there is one."""
    from dataclasses import replace

    import torch

    from poselab.lifting import data as lifting_data
    from poselab.lifting.config import LiftingConfig
    from poselab.lifting.train import train_supervised, train_vae_gan

    n = iterations * batch_size
    rng = np.random.default_rng(0)
    poses = rng.normal(0, 0.4, (n, 16, 3)).astype(np.float32)
    train = lifting_data.LiftingSet(
        inputs=poses[..., :2], targets=poses, gt_mm=np.zeros((n, 17, 3), np.float32),
        pixels=np.zeros((n, 17, 2), np.float32), subject=np.full(n, "S1"), take=np.full(n, "Walking 1"),
        action=np.full(n, "Walking"), camera=np.zeros(n, int), frame=np.arange(n))  # fmt: skip
    runs = [("cpu", 1), ("cpu", os.cpu_count() or 1)] + ([("cuda", 0)] if torch.cuda.is_available() else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for hidden in (1024, 256):
            for device, threads in runs:
                cfg = replace(LiftingConfig(hidden=hidden, batch_size=batch_size, epochs=1, supervised_epochs=1),
                              cpu_threads=threads)  # fmt: skip
                where = f"{threads} CPU thread(s)" if device == "cpu" else "GPU"
                for name, trainer in (("VAE-GAN", train_vae_gan), ("supervised VAE", train_supervised)):
                    result = trainer(train, None, cfg, Path(tmp), device, progress=False)
                    rows.append(row("lifting", f"{name} h={hidden}, batch {batch_size}, {where}",
                                    result.iterations / result.seconds, "iterations/s", result.iterations,
                                    result.seconds, "one D + one G step per iteration" if name == "VAE-GAN" else ""))
    return rows


BENCHMARKS: dict[str, Callable[[], list[dict]]] = {
    "synthetic": bench_synthetic,
    "loader": bench_loader,
    "lifting": bench_lifting,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m poselab.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("reports/bench/bench.csv"))
    ap.add_argument("--only", nargs="*", choices=list(BENCHMARKS), help="benchmarks to run (default: all)")
    a = ap.parse_args(argv)
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
