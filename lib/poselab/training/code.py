"""The code a trained run depends on, declared: the modules that define what a training computes (the network, the
loop, the data pipeline and its transforms, the heatmap targets, the loss, the score logged every epoch).

A run's key (``poselab.training.runs.run_key``) hashes these files, together with the run's settings and the sha256
of its data; nothing else.  Editing a table, a caption, a figure or a study's notebook code leaves every key (and so
every trained model) as it is; editing the model or the loop retrains.  ``tests/test_run_identity.py`` checks that
every ``poselab`` module these modules import is declared here or exempt with a reason, so a new dependency cannot
slip out of the key unnoticed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

from poselab.paths import PACKAGE_DIR, module_file

# Every 2D run (hourglass, HRNet, SimpleBaseline, integral regression), besides its architecture's module.
POSE2D = (
    "poselab.training.loop",  # the loop, the losses, the optimiser, the schedule
    "poselab.training.config",  # what a TrainConfig means (the step limit)
    "poselab.training.jobs",  # the data a job trains on and how a run starts from another's weights
    "poselab.models",  # build_model
    "poselab.data.pose2d",  # which source, the seeded subsets
    "poselab.data.pose_dataset",  # crops, augmentation draws, targets, batches
    "poselab.data.transforms",  # the warps
    "poselab.data.feeding",  # the crop's convention and where heatmap cells sit in the input
    "poselab.data.dataset",  # reading the synthetic image sets
    "poselab.data.mpii",  # reading real MPII
    "poselab.data.joints",  # joint orders and the left/right pairs that flipping swaps
    "poselab.heatmaps",  # Gaussian targets and soft-argmax
    "poselab.metrics",  # PCK, logged every epoch
    "poselab.evaluation.pck",  # the validation score logged every epoch
    "poselab.evaluation.predict",  # the predictions it is computed from
)

# The VAE-GAN and the supervised lifting baseline (notebook 07); their data arrays are hashed into the key itself.
LIFTING = (
    "poselab.studies.lifting.models",
    "poselab.studies.lifting.train",
    "poselab.studies.lifting.losses",
    "poselab.studies.lifting.geometry",
    "poselab.studies.lifting.data",
    "poselab.studies.lifting.metrics",  # the validation error logged for the curves
    "poselab.training.config",
    "poselab.data.joints",
)

# Imported by the modules above without changing what a run computes.
EXEMPT = {
    "poselab": "the package's version string",
    "poselab.io": "writing JSON files",
    "poselab.paths": "where the repository is",
    "poselab.checkpoints": "reading and writing checkpoint files",
    "poselab.training.processes": "worker processes that die with their parent",
    "poselab.training.code": "this declaration",
    "poselab.training.runs": "the run cache: where a finished run is stored",
    "poselab.training.distributed": "launching a run on several GPUs; the run's numbers are the loop's",
    "poselab.training.memory": "how many runs train at once (by the memory each needs), not what a run computes",
    "poselab.models.complexity": "counting multiply-accumulates, which orders the runs longest first, not their result",
    "poselab.data.integrity": "the sha256 of the data, which is in the key itself",
    "poselab.data.manifest": "checking that a real data set is on disk",
    "poselab.data.fixtures": "telling a fixture in a real layout from the real data set (its name in the tables)",
    "poselab.studies": "a package's docstring",
    "poselab.studies.lifting": "a package's docstring",
    "poselab.studies.lifting.settings": "the settings' values are in the key (key_settings)",
    "poselab.studies.lifting.cameras": "reading Human3.6M's calibration: the lifting key hashes the arrays themselves",
    "poselab.data.pose_files": "reading pose files: the lifting key hashes the arrays themselves",
}
# Packages exempt with every module in them.
EXEMPT_PACKAGES = {
    "poselab.data.synthetic": "the synthetic world's generator: the sha256 of what it generated is in the key",
}


def exempt(module: str) -> bool:
    """Whether ``module`` may be imported by the training code without being declared."""
    return module in EXEMPT or any(module == p or module.startswith(p + ".") for p in EXEMPT_PACKAGES)


def _files(modules: tuple[str, ...], package_dir: Path) -> list[Path]:
    files = []
    for name in dict.fromkeys(modules):
        path = module_file(name, package_dir)
        if path is None:
            raise ValueError(f"{name} is declared as training code but is not a poselab module")
        files.append(path)
    return files


@functools.cache
def _digest(modules: tuple[str, ...], package_dir: Path) -> str:
    """The hash of the files' contents, not of their names: moving or renaming a module keeps every key."""
    contents = sorted(hashlib.sha256(path.read_bytes()).hexdigest() for path in _files(modules, package_dir))
    return hashlib.sha256("".join(contents).encode()).hexdigest()[:16]


def pose2d_code(architecture: Iterable[str], package_dir: Path = PACKAGE_DIR) -> str:
    """16 hex digits of the code a 2D run depends on: ``POSE2D`` and the modules of its network (``architecture``:
    ``poselab.models.model_modules(spec)``).  Once per process: the code a process runs does not change while it
    runs.  (This module imports no network, so that the lifting trainer, which uses it too, reaches none.)"""
    return _digest(tuple(sorted({*POSE2D, *architecture})), Path(package_dir))


def lifting_code(package_dir: Path = PACKAGE_DIR) -> str:
    """16 hex digits of the code a lifting run depends on (``LIFTING``)."""
    return _digest(tuple(sorted(set(LIFTING))), Path(package_dir))
