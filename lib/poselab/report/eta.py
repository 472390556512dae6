"""How long each notebook will take, said before a run starts (the runner prints it, the index sets it beside the
actual time): this machine's own last time for the notebook on the profile (``reports/.state/NN.json``), else the
reference run's time (``REFERENCE``: one whole default report on one machine) scaled by how long this machine takes for
a few training steps against how long the reference machine took (``calibrate``, about 2 s, kept in
``reports/.state/calibration.json``).  Within about 30 %: the ratio of two machines' speeds differs from notebook to
notebook (their kernels and caches favour other layers), which one scale cannot follow.

To refresh the reference, copy a clean whole run's ``wall_seconds`` from its ``reports/.state/NN.json`` and its
``calibration.json`` into ``REFERENCE``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

CALIBRATION = "calibration.json"  # under reports/.state/
STEPS = 4  # training steps timed per round by ``calibrate``
REFERENCE = {  # the default report at commit 63270f5 on a 2-core AMD EPYC (Zen 3, AVX2 only), 2026-12-07
    "machine": "2-core AMD EPYC (AVX2)", "calibration_seconds": 0.5401,
    "profiles": {"default": {"01": 19.2, "02": 1370.7, "03": 73.4, "04": 264.7, "05": 322.9, "06": 920.4,
                             "07": 393.1}},
}


@dataclass(frozen=True)
class Estimate:
    seconds: float | None
    source: str  # "recorded", "calibrated" or "none"

    def text(self) -> str:
        return "no estimate" if self.seconds is None else f"about {minutes(self.seconds)} ({self.source})"


def minutes(seconds: float) -> str:
    """'45 s', '3.5 min', '1 h 05 min'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def same_machine(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in ("cpu", "cpu_cores", "isa_limits", "gpu"))


def estimate(notebook: str, profile: str, host: dict, records: dict[str, dict],
             calibration: float | None = None) -> Estimate:
    """This machine's last recorded time of ``notebook`` on ``profile`` (without a step limit), else the reference's
    scaled by ``calibration`` (seconds of ``calibrate`` here), else none."""
    r = records.get(notebook) or {}
    if r.get("profile") == profile and not r.get("limit_steps") and same_machine(r.get("machine", {}), host):
        return Estimate(float(r["wall_seconds"]), "recorded")
    ref = REFERENCE["profiles"].get(profile, {}).get(notebook)
    if ref is not None and calibration is not None:
        return Estimate(ref * calibration / REFERENCE["calibration_seconds"], "calibrated")
    return Estimate(None, "none")


def calibrate(rounds: int = 5) -> float:
    """The median seconds of ``STEPS`` training steps of the default profile's 2-stack hourglass on a batch of 16 in one
    thread (float32, channels_last, RMSprop: what notebook 02's workers do), over ``rounds`` rounds."""
    import statistics

    import torch

    from poselab.models import build_model
    from poselab.profiles import get_profile
    from poselab.training.loop import heatmap_loss, make_optimizer

    study = get_profile("default").hourglass
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = build_model(study.spec(study.main_stacks)).to(memory_format=torch.channels_last).train()
        size, batch = study.input_size, study.train.batch_size
        x = torch.rand(batch, 3, size, size).to(memory_format=torch.channels_last)
        y, w = torch.rand(batch, model.n_joints, size // 4, size // 4), torch.ones(batch, model.n_joints)
        opt = make_optimizer(model, study.train)

        def steps(n: int) -> float:
            start = time.perf_counter()
            for _ in range(n):
                opt.zero_grad(set_to_none=True)
                heatmap_loss(model(x), y, w).sum().backward()
                opt.step()
            return time.perf_counter() - start

        steps(1)  # warm-up: the allocator and the optimiser's state
        return statistics.median(steps(STEPS) for _ in range(rounds))
    finally:
        torch.set_num_threads(threads)


def machine_calibration(state_dir: Path, host: dict) -> float:
    """``calibrate()`` for this machine, measured once and kept in ``state_dir``."""
    path = Path(state_dir) / CALIBRATION
    try:
        kept = json.loads(path.read_text())
        if same_machine(kept.get("machine", {}), host) and kept.get("steps") == STEPS:
            return float(kept["seconds"])
    except (OSError, ValueError, KeyError):
        pass
    from poselab.io import write_json

    seconds = calibrate()
    write_json(path, {"seconds": round(seconds, 4), "machine": host, "steps": STEPS})
    return seconds
