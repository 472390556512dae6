"""Training the 2D networks (notebooks 02, 05, 06): a ``TrainJob`` per run, trained in worker processes on the CPU, one
after the other on one GPU, or on several GPUs with torchrun.  A job knows its key before it trains (``TrainJob.key``),
so a notebook that only loads a run (03-05) finds exactly the run its settings describe (``load_trained``), or is told
which notebook to run.

Studies pass explicit settings: a ``Place`` (where the data and the runs are, the device, the seed) and the numbers
a job needs; no study's whole settings reach this module.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import torch
from tqdm.auto import tqdm

from poselab.data.pose2d import DataChoice, PoseData, pose_data
from poselab.data.synthetic.config import SyntheticConfig
from poselab.evaluation.pck import pckh_evaluator
from poselab.models import build_model, model_modules
from poselab.models.complexity import count_macs
from poselab.training.code import pose2d_code
from poselab.training.config import TrainConfig, with_step_limit
from poselab.training.distributed import launch, requested_gpus, worker_process
from poselab.training.loop import TrainResult, train_or_load
from poselab.training.memory import available_bytes, parallel_runs, training_bytes
from poselab.training.processes import die_with_parent
from poselab.training.runs import FINAL, RunStore, run_key

WORKER = "poselab.training.jobs"  # the module a torchrun process runs (``python -m``)


class Place(Protocol):
    """What a study needs to know of the run it is part of (``poselab.report.notebook.Context`` is one)."""

    data_dir: Path
    device: str
    seed: int

    @property
    def profile_name(self) -> str: ...

    @property
    def synthetic(self) -> SyntheticConfig: ...

    @property
    def runs(self) -> RunStore: ...


def data_choice(place: Place, use_real: bool) -> DataChoice:
    """The data of ``place``'s profile; real MPII instead when ``use_real`` (a study setting) and it is present."""
    return DataChoice(Path(place.data_dir), place.profile_name, place.synthetic, use_real, place.seed)


def study_data(place: Place, convention: str, input_size: int, use_real: bool = False,
               train_samples: int | None = None, val_samples: int | None = None) -> PoseData:
    """The training (augmented) and validation sets of a 2D study in ``place``'s profile."""
    return pose_data(data_choice(place, use_real), convention, input_size, train_samples, val_samples)


def folder_label(label: str) -> str:
    """A label as a folder name: ``integral (hourglass-1)`` -> ``integral-hourglass-1``."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", label).strip("-")


@dataclass(frozen=True)
class TrainJob:
    """One 2D training run: everything a worker process needs to rebuild its data and train it, and its key."""

    data: DataChoice
    convention: str
    input_size: int
    train_samples: int | None
    val_samples: int | None
    spec: dict
    cfg: TrainConfig
    label: str
    store: RunStore
    init_from: TrainJob | None = None  # a run whose finished weights start this one

    def pose_data(self) -> PoseData:
        return pose_data(self.data, self.convention, self.input_size, self.train_samples, self.val_samples)

    def key(self, data: PoseData | None = None) -> str:
        """What identifies the run: the spec, the settings (with the step limit of this run), the data's sha256 and
        subsets, the declared training code and, for a fine-tuned run, the key of the run it starts from."""
        data = data or self.pose_data()
        start = [self.init_from.key()] if self.init_from is not None else []
        return run_key_of(self.spec, with_step_limit(self.cfg), data, *start)

    @property
    def name(self) -> str:
        return folder_label(self.label)


def run_key_of(spec: dict, cfg: TrainConfig, data: PoseData, *start: str) -> str:
    return run_key(spec, asdict(cfg), data.train_set.size, data.name, data.fingerprint, data.train_set.indices.tolist(),
                   data.val_set.indices.tolist(), pose2d_code(model_modules(spec)), *start)


def load_trained(job: TrainJob, device: str = "cpu",
                 hint: str = "run the notebook that trains it first") -> tuple[torch.nn.Module, dict]:
    """The finished run of ``job`` (its key verified: the run its settings, data and code describe), rebuilt on
    ``device`` in eval mode, and the saved run (weights, spec, history, with ``path`` added)."""
    saved, path = job.store.load(job.name, job.key(), hint, needs=("model", "spec"))
    model = build_model(saved["spec"])
    model.load_state_dict(saved["model"])
    return model.to(device).eval(), {**saved, "path": path}


def train_model(job: TrainJob, device: str, progress: bool = True,
                data: PoseData | None = None) -> tuple[torch.nn.Module, TrainResult]:
    """Train ``job`` (validated each epoch), or load its finished run when its key is in the store.  The seed is
    ``job.cfg.seed``; ``job.init_from`` names a finished run whose weights start the model."""
    cfg = with_step_limit(job.cfg)
    data = data or job.pose_data()
    torch.manual_seed(cfg.seed)
    model = build_model(job.spec)
    start = []
    if job.init_from is not None:  # into ``model.backbone`` when the model has one, else into the model; strictly
        saved, _ = job.init_from.store.load(job.init_from.name, job.init_from.key(), "run the notebook that trains it",
                                            needs=("model",))
        getattr(model, "backbone", model).load_state_dict(saved["model"])
        start = [saved["key"]]
    key = run_key_of(job.spec, cfg, data, *start)
    result = train_or_load(model, data.train_set, cfg, job.store.folder(job.name, key), key, spec=job.spec,
                           device=device, evaluate=pckh_evaluator(data.val_set, data.val, job.convention),
                           desc=job.label, progress=progress)
    return model.eval(), result


def training_cost(job: TrainJob, data: PoseData) -> int:
    """Multiply-accumulates of a run's forward passes over its schedule (its step limit included): what orders the
    runs, longest first, not a time."""
    with torch.device("meta"):
        model = build_model(job.spec)
    cfg = with_step_limit(job.cfg)
    steps = cfg.epochs * -(-data.train_set.size // cfg.batch_size)
    if cfg.max_steps is not None:
        steps = min(steps, cfg.max_steps)
    return count_macs(model, (3, job.input_size, job.input_size)) * steps * cfg.batch_size


def _workers_that_fit(todo: list[TrainJob], workers: int) -> int:
    """``workers``, or fewer when the available memory holds fewer of the largest run (said once)."""
    fit, note = parallel_runs([training_bytes(j.spec, j.input_size, j.cfg.batch_size) for j in todo], workers,
                              available_bytes())
    if note:
        print(note, flush=True)
    return fit


def _run_job(job: TrainJob, threads: int) -> str:
    """Worker: train one run to its final checkpoint (or find it finished); returns its status."""
    torch.set_num_threads(threads)
    return train_model(job, "cpu", progress=False)[1].status


def train_runs(jobs: list[TrainJob], device: str,
               workers: int | None = None) -> list[tuple[torch.nn.Module, TrainResult]]:
    """Train independent runs, on the CPU in ``workers`` processes of one thread each (small networks
    use two single-threaded processes better than one process with two threads; fewer when the available memory
    holds fewer of the largest run, with a line saying so), the costliest runs first so that no worker idles at the
    end while one long run finishes; else one by one.  Then load every finished run.  Results do not depend on how
    the runs were distributed."""
    gpus = requested_gpus() if str(device).startswith("cuda") else 1
    workers = workers or (1 if str(device).startswith("cuda") else min(2, os.cpu_count() or 1, len(jobs)))
    data = [job.pose_data() for job in jobs]  # once per job: for its key here and for loading it below
    todo = [(job, d) for job, d in zip(jobs, data, strict=True)
            if not (job.store.folder(job.name, job.key(d)) / FINAL).exists()]
    if gpus > 1:  # one run after the other, each on all the GPUs (torchrun, DistributedDataParallel)
        for job, _ in tqdm(todo, desc=f"training {len(todo)} runs on {gpus} GPUs"):
            launch(job, gpus, worker=WORKER)
    else:
        if workers > 1 and todo:
            workers = _workers_that_fit([job for job, _ in todo], workers)
        if workers > 1 and todo:  # each run in a process of its own, also when only some are left; the longest first
            order = [job for job, _ in sorted(todo, key=lambda jd: -training_cost(*jd))]
            threads = max(1, (os.cpu_count() or 1) // workers)
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                     initializer=die_with_parent) as pool:
                futures = [pool.submit(_run_job, job, threads) for job in order]
                for f in tqdm(as_completed(futures), total=len(futures),
                              desc=f"training {len(order)} runs in {workers} processes"):
                    f.result()
    # loads the finished runs (or trains here when running one by one)
    return [train_model(job, device, data=d) for job, d in zip(jobs, data, strict=True)]


if __name__ == "__main__":  # a torchrun process (``poselab.training.distributed.launch``)
    import sys

    with worker_process(sys.argv[1], sys.argv[2]) as (job, device):
        train_model(job, device, progress=False)
