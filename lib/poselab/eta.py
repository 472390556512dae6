"""How long each notebook will take, said before a run starts (``python -m poselab.run`` prints it).

An estimate comes from, in this order:

* **recorded**: this machine's own last time for the notebook on the profile (``reports/.state/NN.json``: the same CPU,
  cores, instruction-set limits and device, no step limit);
* **calibrated**: the reference times of ``eta_reference.json`` (one whole run of the profile on one machine, with
  that machine's time for a fixed training workload) scaled by this machine's time for the same workload
  (``calibrate``: the median of 5 rounds of 4 training steps of the default profile's 2-stack hourglass in one
  thread, about 2 s, more rounds on a disturbed machine; kept in ``reports/.state/calibration.json`` for the
  machine, with the workload it timed).
  The file holds one reference per instruction set of torch's CPU kernels (AVX2, AVX512, ...), and the one measured
  with this machine's is used (``reference_for``): the kernels change which notebooks cost most (AVX2 kernels made
  notebook 02 1.24x slower on one Xeon but left 05-07 within 5 %), which no single scale can follow;
* none, for a profile the reference does not cover and this machine has not run.

The report's index shows each notebook's estimate beside its actual time, so the estimator's error is on record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

REFERENCE = Path(__file__).with_name("eta_reference.json")
CALIBRATION = "calibration.json"  # under reports/.state/


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
    keys = ("cpu", "cpu_cores", "isa_limits", "gpu")
    return all(a.get(k) == b.get(k) for k in keys)


def recorded(records: dict[str, dict], notebook: str, profile: str, host: dict) -> float | None:
    """This machine's last recorded wall time of ``notebook`` on ``profile`` (without a step limit), or None."""
    r = records.get(notebook)
    if not r or r.get("profile") != profile or r.get("limit_steps") or not same_machine(r.get("machine", {}), host):
        return None
    return float(r["wall_seconds"])


def estimate(notebook: str, profile: str, host: dict, records: dict[str, dict], reference: dict,
             calibration: float | None) -> Estimate:
    """The estimate for one notebook (see the module's docstring for the order of the sources)."""
    if (seconds := recorded(records, notebook, profile, host)) is not None:
        return Estimate(seconds, "recorded")
    ref = reference.get("profiles", {}).get(profile, {}).get(notebook)
    same_work = reference.get("workload") == WORKLOAD  # a reference calibrated on another workload cannot be scaled
    if ref is not None and calibration is not None and reference.get("calibration_seconds") and same_work:
        return Estimate(ref * calibration / reference["calibration_seconds"], "calibrated")
    return Estimate(None, "none")


# What ``calibrate`` times; a calibration kept for another workload is measured again.
STEPS, ROUNDS = 4, 5
SPREAD, BUDGET = 1.2, 8.0  # rounds further apart than this ratio: more of them, up to this many seconds in all
WORKLOAD = (f"median of {ROUNDS} rounds (more while they differ by over {SPREAD}x, up to {BUDGET:g} s) of {STEPS} "
            "training steps, default 2-stack hourglass, 1 thread")


def calibrate(steps: int = STEPS, rounds: int = ROUNDS, budget: float = BUDGET) -> float:
    """Seconds for ``steps`` training steps of the default profile's 2-stack hourglass on a batch of 16 64 x 64 images,
    as one of notebook 02's workers trains it (one thread, float32, channels_last, RMSprop: ``bench.train_steps``):
    the work a default report is mostly made of.  The median of ``rounds`` rounds (about 2 s in all), so that one
    disturbed round does not move the estimate: a single 12-step round varied by 15 % between two runs of one
    machine.  While the rounds differ by more than ``SPREAD``x, more are timed, up to ``budget`` seconds in all, so
    that a disturbance lasting several rounds does not set the median either: on a 2-core EPYC a median of five rounds
    once read 0.80 s against 0.48-0.57 s before and after, and that notebook's estimate came out 69 % high."""
    import statistics

    import torch

    from poselab.bench import train_steps
    from poselab.models import build_model
    from poselab.profiles import get_profile

    study = get_profile("default").hourglass
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        run = train_steps(build_model(study.spec(study.main_stacks)), study.input_size, study.train.batch_size,
                          channels_last=study.train.channels_last, optimizer=study.train.optimizer)
        times = [run(steps) for _ in range(rounds)]
        while max(times) > SPREAD * min(times) and sum(times) + statistics.median(times) <= budget:
            times.append(run(steps))
        return statistics.median(times)
    finally:
        torch.set_num_threads(threads)


def machine_calibration(state_dir: Path, host: dict) -> float:
    """``calibrate()`` for this machine, measured once and kept in ``state_dir`` (with its ``WORKLOAD``)."""
    path = Path(state_dir) / CALIBRATION
    try:
        kept = json.loads(path.read_text())
        if same_machine(kept.get("machine", {}), host) and kept.get("workload") == WORKLOAD:
            return float(kept["seconds"])
    except (OSError, ValueError, KeyError):
        pass
    from poselab.io import write_json

    seconds = calibrate()
    write_json(path, {"seconds": round(seconds, 4), "machine": host, "workload": WORKLOAD})
    return seconds


def load_reference(path: Path = REFERENCE) -> dict:
    """The whole reference file: ``{"references": [one whole run per kernel instruction set, ...]}``."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def _same_kernels(reference: dict, host: dict) -> bool:
    """Whether ``reference`` was measured with ``host``'s CPU kernel instruction set (torch's capability)."""
    return reference.get("machine", {}).get("torch_capability") == host.get("torch_capability")


def reference_for(host: dict, references: dict | None = None) -> dict:
    """The reference run whose CPU kernels had ``host``'s instruction set (``torch_capability``), else the first;
    {} when the file holds none.  ``references`` is the file's content (default: the shipped file)."""
    runs = (load_reference() if references is None else references).get("references", [])
    return ([r for r in runs if _same_kernels(r, host)] or runs or [{}])[0]


def write_reference(reports_dir: Path, path: Path = REFERENCE) -> dict:
    """Put a whole run's records in ``reports_dir`` (one profile, no step limit, one machine) into
    ``eta_reference.json`` as the reference for that machine's kernel instruction set, replacing the one measured
    with the same kernels (the others are kept).  Its calibration is the one the run measured at its start, kept in
    ``reports_dir/.state``; else it is measured now, which needs the machine of that run with nothing else running."""
    from poselab.io import now, write_json

    state = Path(reports_dir) / ".state"
    runs = [json.loads(p.read_text()) | {"id": p.stem} for p in sorted(state.glob("[0-9][0-9].json"))]
    profiles = {r["profile"] for r in runs}
    if len(profiles) != 1 or any(r.get("limit_steps") for r in runs):
        raise ValueError(f"{reports_dir}: the records are not one whole run of one profile without a step limit")
    profile, host = profiles.pop(), runs[0].get("machine", {})
    if any(not same_machine(r.get("machine", {}), host) for r in runs):
        raise ValueError(f"{reports_dir}: the records come from more than one machine")
    seconds = machine_calibration(state, host)
    file = load_reference(path)
    same = [r for r in file.get("references", []) if _same_kernels(r, host)]
    others = [r for r in file.get("references", []) if not _same_kernels(r, host)]
    entry = same[0] if same else {}
    old, times = entry.get("calibration_seconds"), entry.get("profiles", {})
    if old and entry.get("workload") == WORKLOAD:  # the other profiles' times, brought to this calibration
        times = {p: {k: round(v * seconds / old, 1) for k, v in t.items()} for p, t in times.items()}
    else:
        times = {}
    times[profile] = {r["id"]: round(r["wall_seconds"], 1) for r in runs}
    entry = {"profiles": times, "calibration_seconds": round(seconds, 4), "workload": WORKLOAD, "machine": host,
             "git_commit": runs[0].get("git_commit"), "written": now()}
    file = {"references": [*others, entry]}
    write_json(path, file)
    return entry


if __name__ == "__main__":  # python -m poselab.eta REPORTS_DIR: the reference from a clean whole run (its kernels')
    import sys

    print(json.dumps(write_reference(Path(sys.argv[1])), indent=1))
