"""What every notebook does first: resolve the profile, device, seed and paths, and open the
artifact registry.  ``ctx = start("01", profile, device, seed, data_dir, reports_dir, stage_dir)``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poselab import paths
from poselab.profiles import Profile, get_profile
from poselab.reporting import registry as reg
from poselab.reporting.style import use_style


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


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch; make torch's CPU kernels deterministic."""
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (seeds third-party code that uses the global generator)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


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

    def record_trainings(self, results: dict) -> None:
        """Record how each model was trained (label -> an object with ``summary()``: precision, threads, ...)."""
        for label, result in results.items():
            self.registry.training(label, result.summary())


def start(
    notebook: str,
    profile: str = "default",
    device: str = "auto",
    seed: int = 0,
    data_dir: str | None = None,
    reports_dir: str | None = None,
    stage_dir: str | None = None,
) -> Context:
    """Set up a notebook run and make its registry the active one."""
    prof = get_profile(profile)
    dev = resolve_device(device)
    seed_everything(seed)
    use_style()
    rdir = paths.reports_dir(reports_dir)
    registry = reg.activate(reg.Registry(notebook, Path(stage_dir) if stage_dir else rdir, prof.name, dev, seed))
    ctx = Context(notebook, prof, dev, seed, paths.data_dir(data_dir), rdir, registry)
    print(f"poselab notebook {notebook}: profile={prof.name} device={dev} seed={seed} "
          f"data={ctx.data_dir} reports={rdir} commit={registry.meta['git_commit']}")  # fmt: skip
    return ctx
