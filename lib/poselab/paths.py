"""Where things live: the repository root, data and reports directories, and the package's own source files."""

from __future__ import annotations

import os
from pathlib import Path

MARKER = "data_manifest.yaml"
PACKAGE = "poselab"
PACKAGE_DIR = Path(__file__).parent  # lib/poselab


def module_file(name: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The file of a ``poselab`` module or package, or None (not ours, or not a module)."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = package_dir.joinpath(*parts[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file() and len(parts) > 1:
        return base.with_suffix(".py")
    return None


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
