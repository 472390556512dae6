"""``make gpu-check`` (``python -m poselab.tools.gpu_check [--device cuda] [--minutes 8.5] [--out DIR]``): one prepared
measurement for a GPU session of a few minutes, written into one folder (default ``reports/gpu-check/<time>``).

``device.json`` (the GPU, torch, CUDA, cuDNN, the CPU), then in order, each step stopped at the deadline and skipped
when less than it needs is left, its output in ``<step>.log``: ``bench`` (``bench.csv``: ``poselab.tools.bench``'s
training speed and efficiency rows of the ``default`` profile's models on this device); ``check-full``
(``make check-full``'s first pass, on fixtures in the real layouts: the second's checkpoint fixtures would not fit the
time or the copy back); ``report-default`` (``make report`` on ``default``, stopped cleanly at the deadline: finished
notebooks are kept).  ``summary.json``: each step's outcome and wall time, and each finished notebook's wall time.
``--device cpu`` is a dry run.  It needs no venv (see ``README.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from poselab import paths
from poselab.io import now


def device_info(device: str) -> dict:
    import torch

    from poselab.report import machine

    info = {"when": now(), "device": device, "python": platform.python_version(), "torch": torch.__version__,
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
            "machine": machine.one_line(machine.describe())}
    if device.startswith("cuda"):
        p = torch.cuda.get_device_properties(0)
        info |= {"gpu": p.name, "gpu_memory_gib": round(p.total_memory / 2**30, 1),
                 "compute_capability": f"{p.major}.{p.minor}"}
    return info


def run_until(cmd: list[str], seconds: float, log: Path) -> tuple[int, float, bool]:
    """Run ``cmd`` (its output into ``log``), stopped with SIGTERM (as Ctrl-C: finished notebooks kept) when
    ``seconds`` have passed.  Returns (exit code, wall seconds, whether it was cut off)."""
    start = time.monotonic()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=paths.repo_root(),
                                start_new_session=True)
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
    from poselab.report.registry import STATE

    out = {}
    for f in sorted((Path(reports_dir) / STATE).glob("[0-9][0-9].json")):
        try:
            out[f.stem] = float(json.loads(f.read_text())["wall_seconds"])
        except (ValueError, KeyError, OSError):
            continue
    return out


def run_steps(steps: dict[str, tuple[float, Callable[[float], str]]], seconds: float) -> dict[str, str]:
    """Run each step, ``name -> (seconds it needs at least, work)``, in order within ``seconds`` in all: ``work(left)``
    is given the seconds left and returns a note; a step with less than its need left is skipped, and a step's failure
    is its note while the others still run.  Returns name -> note (with the step's wall time)."""
    end, notes = time.monotonic() + seconds, {}
    for name, (need, work) in steps.items():
        left, start = end - time.monotonic(), time.monotonic()
        if left < need:
            notes[name] = f"skipped: {max(left, 0):.0f} s left, needs about {need:.0f} s"
        else:
            try:
                note = work(left)
            except Exception as e:  # one step's failure is its note: the others still run
                note = f"failed: {type(e).__name__}: {' '.join(str(e).split())[:300]}"
            notes[name] = f"{note} ({time.monotonic() - start:.0f} s)"
        print(f"gpu-check: {name}: {notes[name]}", flush=True)
    return notes


def main(argv: list[str] | None = None) -> int:
    from poselab.report.notebook import resolve_device

    start = time.monotonic()
    ap = argparse.ArgumentParser(prog="python -m poselab.tools.gpu_check", description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cuda, or cpu for a dry run")
    ap.add_argument("--minutes", type=float, default=8.5, help="wall time for everything (default: 8.5)")
    ap.add_argument("--out", type=Path, help="the folder to write (default: reports/gpu-check/<time>)")
    a = ap.parse_args(argv)
    try:
        device = resolve_device(a.device)
    except ValueError as e:
        ap.error(str(e))
    out = a.out or paths.reports_dir() / "gpu-check" / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"device": device_info(device), "notebooks": {}}
    (out / "device.json").write_text(json.dumps(summary["device"], indent=1) + "\n")
    print(f"gpu-check: {summary['device']['machine']} -> {out}" + (" (dry run on the CPU)" if device == "cpu" else ""))

    def command(name: str, *args: str) -> Callable[[float], str]:
        """``python -m *args`` until 5 s before the deadline; the notebooks it finished are read from out/name."""
        def work(left: float) -> str:
            rc, _, cut = run_until([sys.executable, "-m", *args], left - 5, out / f"{name}.log")
            if times := notebook_times(out / name):
                summary["notebooks"][name] = times
            return ("cut off at the deadline" if cut else f"exit code {rc}") + (f", {len(times)} notebooks finished"
                                                                                 if times else "")
        return work

    run_args = ["--device", device, "--quiet", "--reports-dir"]
    summary["steps"] = run_steps({
        "bench": (60, command("bench", "poselab.tools.bench", "--out", str(out / "bench.csv"), "--device", device)),
        "check-full": (150, command("check-full", "poselab.tools.check_full", "--no-official", *run_args,
                                    str(out / "check-full"), "--data-dir", str(out / "data-check-full"))),
        "report-default": (60, command("report-default", "poselab.report.run", "--profile", "default", *run_args,
                                       str(out / "report-default"), "--data-dir", str(out / "data"))),
    }, 60 * a.minutes - (time.monotonic() - start))
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"gpu-check: written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
