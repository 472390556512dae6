"""Where things live: the repository root, data and reports directories."""

from __future__ import annotations

import os
from pathlib import Path

MARKER = "data_manifest.yaml"


def repo_root() -> Path:
    """The repository root: $POSELAB_ROOT, else the checkout this package was installed from,
    else the nearest parent of the working directory that holds data_manifest.yaml."""
    env = os.environ.get("POSELAB_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[2]  # lib/poselab/paths.py -> repository
    if (here / MARKER).exists():
        return here
    for p in (Path.cwd(), *Path.cwd().parents):
        if (p / MARKER).exists():
            return p
    raise FileNotFoundError(
        f"cannot find the poselab repository (no {MARKER} above {Path.cwd()}); set POSELAB_ROOT"
    )


def data_dir(override: str | os.PathLike | None = None) -> Path:
    return Path(override).resolve() if override else repo_root() / "data"


def reports_dir(override: str | os.PathLike | None = None) -> Path:
    return Path(override).resolve() if override else repo_root() / "reports"


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"
