"""``make gpu-check`` (``python -m poselab.gpu_check``): one prepared measurement for a GPU session of a few minutes,
written into one folder.

In order, each step only when the time left (``--minutes``, default 8.5) allows it:

1. ``device.json``: the GPU, torch, CUDA and cuDNN versions, the CPU;
2. ``speeds.csv``: training img/s of the 2- and 8-stack 256x256 hourglasses and HRNet-W32 at ``full``'s batch sizes, in
   the precision and layout ``poselab.precision`` picks;
3. ``poseig.csv``: PoseIG's batched backward against the per-joint loop (``poselab.bench.bench_poseig``);
4. ``full.csv``: the ``full`` projection from speeds measured on this device (``poselab.projection``);
5. ``check-full/``: ``make check-full`` on this device (wall time per notebook);
6. ``report-default/``: ``make report`` on ``default`` on this device, with the wall time per notebook; stopped
   cleanly at the deadline (the runner's SIGTERM handling: finished notebooks are kept).

``summary.json`` and ``summary.md`` hold every row beside its target.  ``--device cpu`` is a dry run: every step runs
where it can, and the rows whose targets need CUDA say so.  It needs no network: on a GPU machine, after
``source .gpu/gpu-env.sh`` (see ``README.md``), from the project root.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

from poselab import paths
from poselab.io import now

# target -> (what it measures, the bound, "min" (at least) or "max" (at most), unit)
TARGETS = {
    "default report": ("whole make report on default", 5.0, "max", "min"),
    "hourglass 2 stacks": ("2-stack 256x256 training", 2000.0, "min", "img/s"),
    "hourglass 8 stacks": ("8-stack 256x256 training", 600.0, "min", "img/s"),
    "HRNet-W32": ("HRNet-W32 256x256 training", 600.0, "min", "img/s"),
    "full projected": ("full profile on this device", 3.0, "max", "h"),
}
# seconds each step needs at least on a GPU; a step that would not fit in the time left is skipped and says so
NEEDS = {"speeds": 60, "poseig": 45, "full": 120, "check-full": 150, "report-default": 60}


class Clock:
    def __init__(self, minutes: float):
        self.end = time.monotonic() + 60 * minutes

    def left(self) -> float:
        return self.end - time.monotonic()


def device_info(device: str) -> dict:
    import torch

    from poselab import machine

    info = {"when": now(), "device": device, "python": platform.python_version(), "torch": torch.__version__,
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
            "machine": machine.one_line(machine.describe())}
    if device.startswith("cuda"):
        p = torch.cuda.get_device_properties(0)
        info |= {"gpu": p.name, "gpu_memory_gib": round(p.total_memory / 2**30, 1),
                 "compute_capability": f"{p.major}.{p.minor}"}
    return info


def speed_rows(device: str, steps: int) -> list[dict]:
    """Training img/s of the three paper-scale networks at ``full``'s batch sizes in the precision the table picks."""
    import torch

    from poselab.bench import train_steps
    from poselab.models import build_model
    from poselab.precision import choose, family
    from poselab.profiles import PROFILES

    full = PROFILES["full"]
    hg, hr = full.hourglass, full.hrnet
    cases = [(f"hourglass {s} stacks", hg.spec(s), hg.input_size, hg.train.batch_size, hg.train.optimizer)
             for s in hg.stacks]
    cases.append((f"HRNet-W{hr.width}", hr.spec("as designed"), hr.input_size, hr.train.batch_size, "adam"))
    rows = []
    for name, spec, size, batch, optimizer in cases:
        batch = batch if device.startswith("cuda") else 2  # a dry run on the CPU: the code path, in seconds
        torch.manual_seed(0)
        model = build_model(spec)
        choice = choose(device, family(model), batch)
        run = train_steps(model, size, batch, device, torch.bfloat16 if choice.bf16 else None, choice.channels_last,
                          optimizer=optimizer)
        seconds = run(steps)
        rows.append({"name": name, "value": batch * steps / seconds, "unit": "img/s",
                     "note": f"{size}px, batch {batch}, {choice.describe()}, {steps} steps after a warm-up"})
        del model, run
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fields)
        w.writeheader()
        w.writerows(rows)


def run_until(cmd: list[str], seconds: float, log: Path, env: dict | None = None) -> tuple[int, float, bool]:
    """Run ``cmd`` (its output into ``log``), stopped with SIGTERM (as Ctrl-C: finished notebooks kept) when
    ``seconds`` have passed.  Returns (exit code, wall seconds, whether it was cut off)."""
    start = time.monotonic()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=paths.repo_root(),
                                env={**os.environ, **(env or {})}, start_new_session=True)
        try:
            return proc.wait(timeout=max(seconds, 1)), time.monotonic() - start, False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            return proc.returncode, time.monotonic() - start, True


def notebook_times(reports_dir: Path) -> dict[str, float]:
    """Wall seconds of every notebook the runner finished in ``reports_dir``."""
    from poselab.reporting.registry import STATE

    out = {}
    for f in sorted((Path(reports_dir) / STATE).glob("[0-9][0-9].json")):
        try:
            out[f.stem] = float(json.loads(f.read_text())["wall_seconds"])
        except (ValueError, KeyError, OSError):
            continue
    return out


def judged(name: str, value: float | None, cuda: bool) -> dict:
    what, bound, kind, unit = TARGETS[name]
    row = {"target": name, "what": what, "bound": f"{'<=' if kind == 'max' else '>='} {bound:g} {unit}",
           "value": None if value is None else round(value, 3), "unit": unit}
    if value is None:
        row["verdict"] = "not measured"
    elif not cuda:
        row["verdict"] = "needs CUDA (dry run: measured on the CPU, not judged)"
    else:
        row["verdict"] = "met" if (value <= bound if kind == "max" else value >= bound) else "missed"
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m poselab.gpu_check", description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cuda, or cpu for a dry run")
    ap.add_argument("--minutes", type=float, default=8.5, help="wall time for everything (default: 8.5)")
    ap.add_argument("--out", type=Path, help="the folder to write (default: reports/gpu-check/<time>)")
    a = ap.parse_args(argv)
    from poselab.notebook import resolve_device

    try:
        device = resolve_device(a.device)
    except ValueError as e:
        ap.error(str(e))
    cuda = device.startswith("cuda")
    clock = Clock(a.minutes)
    out = a.out or paths.reports_dir() / "gpu-check" / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"device": device_info(device), "steps": {}}
    (out / "device.json").write_text(json.dumps(summary["device"], indent=1) + "\n")
    print(f"gpu-check: {summary['device']['machine']} -> {out}" + ("" if cuda else " (dry run on the CPU)"))
    values: dict[str, float | None] = dict.fromkeys(TARGETS)

    def step(name: str, work) -> None:
        if clock.left() < NEEDS[name] * (1 if cuda else 0.25):
            summary["steps"][name] = f"skipped: {clock.left():.0f} s left, needs about {NEEDS[name]} s"
            print(f"gpu-check: {name}: {summary['steps'][name]}")
            return
        start = time.monotonic()
        try:
            note = work()
        except Exception as e:  # one step's failure is a row of the summary, the others still run
            note = f"failed: {type(e).__name__}: {' '.join(str(e).split())[:300]}"
        summary["steps"][name] = f"{note} ({time.monotonic() - start:.0f} s)"
        print(f"gpu-check: {name}: {summary['steps'][name]}", flush=True)

    def speeds():
        rows = speed_rows(device, 20 if cuda else 1)
        write_csv(out / "speeds.csv", rows)
        for r in rows:
            key = "HRNet-W32" if r["name"].startswith("HRNet") else r["name"]
            values[key] = r["value"]
        return "; ".join(f"{r['name']} {r['value']:.3g} img/s" for r in rows)

    def poseig():
        from poselab.bench import bench_poseig

        rows = bench_poseig(repeats=2 if cuda else 1)
        write_csv(out / "poseig.csv", rows)
        return f"{len(rows)} rows"

    def full():
        from poselab.bench import bench_full

        rows = bench_full()
        write_csv(out / "full.csv", rows)
        values["full projected"] = rows[-1]["value"]
        return f"{rows[-1]['value']:.2f} h ({rows[-1]['note']})"

    def runner(name: str, cmd: list[str], reports: Path):
        rc, seconds, cut = run_until(cmd, clock.left() - 5, out / f"{name}.log")
        times = notebook_times(reports)
        summary.setdefault("notebooks", {})[name] = times
        if name == "report-default" and rc == 0:
            values["default report"] = seconds / 60
        state = "cut off at the deadline (finished notebooks kept)" if cut else f"exit code {rc}"
        return f"{state}; {len(times)} notebooks finished: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items())

    py = sys.executable
    step("speeds", speeds)
    step("poseig", poseig)
    step("full", full)
    # the first pass only: the second's checkpoint fixtures (about 500 MB) would not fit the time or the copy back
    step("check-full", lambda: runner("check-full", [py, "-m", "poselab.check_full", "--device", device, "--quiet",
                                                     "--no-official", "--reports-dir", str(out / "check-full"),
                                                     "--data-dir", str(out / "data-check-full")], out / "check-full"))
    step("report-default", lambda: runner("report-default", [py, "-m", "poselab.run", "--profile", "default",
                                                             "--device", device, "--quiet", "--reports-dir",
                                                             str(out / "report-default"), "--data-dir",
                                                             str(out / "data")], out / "report-default"))
    summary["targets"] = [judged(k, v, cuda) for k, v in values.items()]
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    lines = [f"# gpu-check {summary['device']['when']}", "", f"{summary['device']['machine']}", "",
             "| target | bound | value | verdict |", "|---|---|---|---|"]
    lines += [f"| {t['what']} | {t['bound']} | {t['value'] if t['value'] is not None else '-'} | {t['verdict']} |"
              for t in summary["targets"]]
    lines += ["", "## Steps", ""] + [f"- {k}: {v}" for k, v in summary["steps"].items()]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
