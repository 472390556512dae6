"""Training one run on several processes with torchrun (DistributedDataParallel): ``launch(job, processes)``.

Each process trains its share of every batch (``poselab.data.pose_dataset.epoch_order``) and DDP averages
the gradients, so the processes together take the steps a single process would; rank 0 validates, writes
the checkpoints, the log and the finished run under the run's usual key, so a later notebook loads it as
any other run.  On GPUs (NCCL) each process drives one GPU and BatchNorm is synchronised over the
processes; on the CPU (gloo, used by the tests) each process normalises its own share.

``python -m poselab.training.jobs JOB DEVICE`` is the worker torchrun starts (``worker_process`` joins the process
group); this module imports no study, so the studies can use it; ``make report GPUS=N`` sets
``POSELAB_GPUS`` so that the notebooks launch their runs this way when N > 1 GPUs are visible.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

GPUS_ENV = "POSELAB_GPUS"


def requested_gpus() -> int:
    """How many GPUs each 2D training run uses: every visible GPU unless ``GPUS=N`` (``POSELAB_GPUS``) says
    otherwise (``GPUS=1``: one run per GPU process, no torchrun); 1 without a GPU."""
    import torch

    visible = torch.cuda.device_count()
    value = os.environ.get(GPUS_ENV, "").strip()
    if not value:
        return max(visible, 1)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{GPUS_ENV}={value!r}: the number of GPUs must be a positive whole number")
    if int(value) > max(visible, 1):
        raise ValueError(f"{GPUS_ENV}={value} but torch sees {visible} GPU(s)")
    return int(value)


def gpus_note(device: str) -> str | None:
    """What ``GPUS=N`` (``POSELAB_GPUS``) does on ``device``, checked before any notebook runs: ``ValueError`` for a
    value that is not a positive whole number (or more GPUs than torch sees), a line saying it has no effect on a
    device without CUDA, else None."""
    value = os.environ.get(GPUS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"GPUS={value!r} ({GPUS_ENV}): the number of GPUs must be a positive whole number")
    if not str(device).startswith("cuda"):
        return f"GPUS={value} has no effect without CUDA: every run trains on the {device}"
    requested_gpus()  # more than torch sees is an error
    return None


def launch(job, processes: int, device: str = "cuda", worker: str = "poselab.training.jobs") -> None:
    """Train ``job`` (a ``poselab.training.jobs.TrainJob``) with ``processes`` torchrun processes on ``device``
    ('cuda': one GPU each; 'cpu': gloo) to its finished run; raises if a process fails.  ``worker`` is the module
    torchrun starts in each process (``python -m worker JOB DEVICE``, which calls ``init_worker``)."""
    with tempfile.TemporaryDirectory(prefix="poselab-job-") as tmp:
        path = Path(tmp) / "job.pkl"
        path.write_bytes(pickle.dumps(job))  # our own object, for our own child processes, in a private folder
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", worker, str(path), device]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise RuntimeError(f"torchrun training of {job.label} on {processes} processes failed:\n{tail}")


@contextmanager
def worker_process(job_path: str, device: str):
    """In a process torchrun started: join the process group, yield (the job, this process's device), leave it."""
    import torch
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", 0))
    if device == "cuda":
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    else:
        torch.set_num_threads(1)
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    try:
        yield pickle.loads(Path(job_path).read_bytes()), device  # written by launch() above, in its private folder
    finally:
        dist.destroy_process_group()
