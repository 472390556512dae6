"""Training the 2D studies' networks (notebooks 02, 05, 06): a ``TrainJob`` per run, trained in worker processes on
the CPU, one after the other on one GPU, or on several GPUs with torchrun; every finished run is loaded back through
the run cache (``poselab.runs``).  Studies pass typed settings: a ``DataChoice`` and a ``Place``."""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import torch
from tqdm.auto import tqdm

from poselab.data.pose2d import DataChoice, PoseData, pose_data
from poselab.distributed import launch, requested_gpus, worker_process
from poselab.evaluation import pckh_evaluator
from poselab.models import build_model
from poselab.processes import die_with_parent
from poselab.runs import FINAL, code_digest, load_run, run_key
from poselab.train import TrainConfig, TrainResult, train_or_load
from poselab.train_config import with_step_limit

if TYPE_CHECKING:  # for the annotation only: the training code (and so every run key) does not depend on the profiles
    from poselab.profiles import Profile

MODULE = "poselab.studies.pose2d"


class Place(Protocol):
    """What a study needs to know of the run it is part of (``poselab.notebook.Context`` is one)."""

    profile: Profile
    data_dir: Path
    device: str
    seed: int

    @property
    def checkpoints_dir(self) -> Path: ...


def data_choice(place: Place, use_real: bool) -> DataChoice:
    """The data of ``place``'s profile; real MPII instead when ``use_real`` (a study setting) and it is present."""
    return DataChoice(Path(place.data_dir), place.profile.name, place.profile.data, use_real, place.seed)


def load_trained(run_dir: Path, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """A 2D model saved by ``poselab.train.train_or_load`` (weights, spec, history), on ``device`` in eval mode."""
    saved = load_run(Path(run_dir) / FINAL)
    model = build_model(saved["spec"])
    model.load_state_dict(saved["model"])
    return model.to(device).eval(), saved


def initialise_from(model: torch.nn.Module, run_dir: Path) -> str:
    """Start ``model`` from the weights of a finished 2D run (e.g. an integral-regression model from a trained
    heatmap network): into ``model.backbone`` when the model has one, else into the model itself; both strictly.
    Returns the run's key, which belongs in the new run's key."""
    saved = load_run(Path(run_dir) / FINAL, "run the notebook that trains it first")
    getattr(model, "backbone", model).load_state_dict(saved["model"])
    return saved["key"]


def study_data(place: Place, study, train_samples: int | None = None, val_samples: int | None = None) -> PoseData:
    """The training and validation sets of a 2D study (``study``: its settings, with ``convention``, ``input_size``
    and ``use_real``) in ``place``'s profile."""
    return pose_data(data_choice(place, study.use_real), study.convention, study.input_size, train_samples,
                     val_samples)  # fmt: skip


def training_code() -> str:
    """Digest of the code a 2D training run depends on: this module and everything it imports
    (models, training loop, data pipeline, the evaluation logged every epoch)."""
    return code_digest(MODULE)  # not __name__: a torchrun worker runs this module as __main__


def train_model(spec: dict, cfg: TrainConfig, data: PoseData, out_dir: Path, device: str, convention: str,
                label: str, progress: bool = True,
                init_from: Path | None = None) -> tuple[torch.nn.Module, TrainResult]:  # fmt: skip
    """Train ``spec`` with ``cfg`` on ``data`` (validated each epoch), or load the finished run when
    nothing that determines it has changed.  The seed is ``cfg.seed``; ``init_from`` names a finished
    run whose weights start the model (``initialise_from``)."""
    cfg = with_step_limit(cfg)
    torch.manual_seed(cfg.seed)
    model = build_model(spec)
    start = initialise_from(model, init_from) if init_from is not None else None
    key = run_key(spec, asdict(cfg), data.train_set.size, data.name, data.fingerprint, data.train_set.indices.tolist(),
                  data.val_set.indices.tolist(), training_code(), *([start] if start else []))  # fmt: skip
    result = train_or_load(model, data.train_set, cfg, out_dir, key, spec=spec, device=device,
                           evaluate=pckh_evaluator(data.val_set, data.val, convention), desc=label,
                           progress=progress)  # fmt: skip
    return model.eval(), result


@dataclass(frozen=True)
class TrainJob:
    """Everything a worker process needs to rebuild the data and train one run."""

    data: DataChoice
    convention: str
    input_size: int
    train_samples: int | None
    val_samples: int | None
    spec: dict
    cfg: TrainConfig
    out_dir: Path
    label: str
    init_from: Path | None = None  # a finished run whose weights start this one


def job_data(job: TrainJob) -> PoseData:
    return pose_data(job.data, job.convention, job.input_size, job.train_samples, job.val_samples)


def _run_job(job: TrainJob, threads: int) -> str:
    """Worker: train one run to its final checkpoint (loading it if it is already there)."""
    torch.set_num_threads(threads)
    _, result = train_model(job.spec, job.cfg, job_data(job), job.out_dir, "cpu", job.convention, job.label,
                            progress=False, init_from=job.init_from)  # fmt: skip
    return result.status


def train_runs(jobs: list[TrainJob], device: str,
               workers: int | None = None) -> list[tuple[torch.nn.Module, TrainResult]]:  # fmt: skip
    """Train independent runs, on the CPU in ``workers`` processes of one thread each (small networks
    use two single-threaded processes better than one process with two threads), else one by one;
    then load every finished run.  Results do not depend on how the runs were distributed."""
    gpus = requested_gpus() if str(device).startswith("cuda") else 1
    workers = workers or (1 if str(device).startswith("cuda") else min(2, os.cpu_count() or 1, len(jobs)))
    if gpus > 1:  # one run after the other, each on all the GPUs (torchrun, DistributedDataParallel)
        for job in tqdm(jobs, desc=f"training {len(jobs)} runs on {gpus} GPUs"):
            launch(job, gpus)
    elif workers > 1:
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=die_with_parent) as pool:
            futures = [pool.submit(_run_job, job, threads) for job in jobs]
            for f in tqdm(as_completed(futures), total=len(futures), desc=f"training {len(jobs)} runs in {workers} "
                          "processes"):  # fmt: skip
                f.result()
    out = []
    for job in jobs:  # loads the finished runs (or trains here when running one by one)
        out.append(train_model(job.spec, job.cfg, job_data(job), job.out_dir, device, job.convention, job.label,
                               init_from=job.init_from))  # fmt: skip
    return out


if __name__ == "__main__":  # a torchrun process (``poselab.distributed.launch``)
    import sys

    with worker_process(sys.argv[1], sys.argv[2]) as (job, device):
        train_model(job.spec, job.cfg, job_data(job), job.out_dir, device, job.convention, job.label, progress=False,
                    init_from=job.init_from)  # fmt: skip
