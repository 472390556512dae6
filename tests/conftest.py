import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from poselab.data.synthetic.config import ImageSetConfig, LiftingSetConfig, SyntheticConfig
from poselab.data.synthetic.generate import ensure_synthetic

REPO = Path(__file__).resolve().parents[1]

# The tests' models are tiny: one thread is faster than two (no synchronisation) and keeps the
# tests from competing with the notebook kernels that some of them start.
torch.set_num_threads(1)

TINY = SyntheticConfig(
    images=ImageSetConfig(image_size=48, n_train=24, n_val=8, seed=3),
    lifting=LiftingSetConfig(seconds=1.0, takes=1, seed=3),
)


@pytest.fixture(scope="session")
def tiny_sets(tmp_path_factory) -> dict[str, Path]:
    """A tiny synthetic data set (both kinds), generated once per test session."""
    return ensure_synthetic(tmp_path_factory.mktemp("data"), TINY, "tiny", workers=1, progress=False)


def tiny_place(tiny_sets: dict[str, Path], runs_dir: Path, seed: int = 0):
    """A ``poselab.training.jobs.Place`` on the tiny data set, its runs in ``runs_dir``."""
    from types import SimpleNamespace

    from poselab.training.runs import RunStore

    return SimpleNamespace(data_dir=tiny_sets["pose2d"].parents[2], device="cpu", seed=seed, profile_name="tiny",
                           synthetic=TINY, runs=RunStore(Path(runs_dir)))


def run_poselab(*args, cwd=REPO):
    """``python -m poselab.report.run ARGS`` in a subprocess (15 minutes at most)."""
    return subprocess.run([sys.executable, "-m", "poselab.report.run", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=900)


def toy_notebook(path: Path, body: str, depends_on=()) -> None:
    """A small notebook in the report's shape: a title, the runner's parameters cell, one code cell."""
    params = 'profile = "default"\ndevice = "auto"\nseed = 0\ndata_dir = None\nreports_dir = None\nstage_dir = None'
    cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), nbformat.v4.new_code_cell(params),
             nbformat.v4.new_code_cell(body)]
    cells[1].metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "poselab", "display_name": "Python (poselab)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["poselab"] = {"depends_on": list(depends_on)}
    nbformat.write(nb, path)
