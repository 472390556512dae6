"""What every notebook does first: resolve the profile, device, seed and paths, and open the
artifact registry.  ``ctx = start("01", profile, device, seed, data_dir, reports_dir, stage_dir)``."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poselab import paths
from poselab.profiles import Profile, get_profile
from poselab.reporting import registry as reg
from poselab.reporting.style import use_style
from poselab.train_config import step_limit


def resolve_device(device: str = "auto") -> str:
    """'auto' -> 'cuda' when a GPU is available, else 'cpu'; asking for an absent GPU is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'")
    return device


# "1": deterministic kernels on CUDA too (python -m poselab.run --deterministic)
DETERMINISTIC_ENV = "POSELAB_DETERMINISTIC"


def deterministic_kernels(device: str) -> bool:
    """Whether torch runs deterministic algorithms: always on the CPU (it costs nothing there); on CUDA only when
    asked for (``POSELAB_DETERMINISTIC=1``), since it costs 10-30 % there (issue 11, H100)."""
    return not str(device).startswith("cuda") or os.environ.get(DETERMINISTIC_ENV, "") == "1"


def seed_everything(seed: int, device: str = "cpu") -> bool:
    """Seed Python, NumPy and torch and set deterministic kernels as ``deterministic_kernels`` says; returns that."""
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (seeds third-party code that uses the global generator)
    torch.manual_seed(seed)
    deterministic = deterministic_kernels(device)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    return deterministic


@dataclass
class Context:
    notebook: str
    profile: Profile
    device: str
    seed: int
    data_dir: Path
    reports_dir: Path
    registry: reg.Registry

    @property
    def checkpoints_dir(self) -> Path:
        """Where this profile's trained models live (read by downstream notebooks)."""
        return self.reports_dir / "checkpoints" / self.profile.name

    # These return nothing, so that a notebook cell ending in a save shows the figure, not a path.
    def save_figure(self, fig, artifact_id: str, caption: str) -> None:
        self.registry.save_figure(fig, artifact_id, caption)

    def save_table(self, df, artifact_id: str, caption: str, index: bool = True) -> None:
        self.registry.save_table(df, artifact_id, caption, index)

    def headline(self, name: str, value, unit: str = "", note: str = "") -> None:
        self.registry.headline(name, value, unit, note)

    def findings(self, found: list) -> None:
        """Record the study's findings (``poselab.findings.Finding``) for the report's ledger."""
        from dataclasses import asdict

        self.registry.findings([asdict(f) for f in found])

    def record_trainings(self, results: dict) -> None:
        """Record how each model was trained (label -> an object with ``summary()``: precision, threads, ...)."""
        self.registry.trainings({label: result.summary() for label, result in results.items()})


def _shown(path: Path) -> str:
    """A path as the notebook prints it: relative to the repository when inside it (no machine folders in the
    report), else as given."""
    try:
        return Path(path).resolve().relative_to(paths.repo_root().resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def start(
    notebook: str,
    profile: str = "default",
    device: str = "auto",
    seed: int = 0,
    data_dir: str | None = None,
    reports_dir: str | None = None,
    stage_dir: str | None = None,
) -> Context:
    """Set up a notebook run: seeds, device, figure style and the artifact registry behind ``Context``."""
    prof = get_profile(profile)
    dev = resolve_device(device)
    deterministic = seed_everything(seed, dev)
    use_style()
    rdir = paths.reports_dir(reports_dir)
    registry = reg.Registry(notebook, Path(stage_dir) if stage_dir else rdir, prof.name, dev, seed)
    ctx = Context(notebook, prof, dev, seed, paths.data_dir(data_dir), rdir, registry)
    print(f"poselab notebook {notebook}: profile={prof.name} device={dev} seed={seed} "
          f"data={_shown(ctx.data_dir)} reports={_shown(rdir)} commit={registry.meta['git_commit']}")  # fmt: skip
    if not deterministic:
        print(f"Deterministic kernels are off on {dev} (faster): the numbers are not bitwise reproducible from run to "
              f"run; {DETERMINISTIC_ENV}=1 (python -m poselab.run --deterministic) turns them on.")  # fmt: skip
    if (limit := step_limit()) is not None:
        print(f"LIMIT_STEPS={limit}: every training run stops after {limit} steps; the numbers below exercise the "
              "code, they are not results.")  # fmt: skip
    return ctx
