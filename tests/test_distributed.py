"""A two-process torchrun job (gloo, on the CPU) trains the run a single process trains."""

from dataclasses import replace

import pytest
import torch

from conftest import TINY
from poselab.data.pose2d import DataChoice
from poselab.training.config import TrainConfig
from poselab.training.distributed import launch
from poselab.training.jobs import WORKER, TrainJob, load_trained, train_model
from poselab.training.runs import RunStore

SPEC = {"arch": "hrnet", "n_joints": 16, "width": 8, "blocks": [1, 1, 1, 1], "modules": [1, 1, 1], "stem_width": 8,
        "norm": "none", "act": "relu", "init": "kaiming"}  # BatchNorm-free: the shares need no shared statistics


def test_two_gloo_processes_train_the_same_model_as_one(tiny_sets, tmp_path):
    data = DataChoice(tiny_sets["pose2d"].parents[2], "tiny", TINY)
    cfg = TrainConfig(epochs=2, batch_size=8, lr=1e-3, optimizer="adam", batched=True)
    job = TrainJob(data, "mpii16", 32, None, None, SPEC, cfg, "hrnet-ddp", RunStore(tmp_path / "ddp"))
    launch(job, 2, device="cpu", worker=WORKER)
    ddp, saved = load_trained(job)
    single, result = train_model(replace(job, store=RunStore(tmp_path / "one")), "cpu", progress=False)
    assert saved["status"] == "finished" and len(saved["history"]) == 2 and "val_pckh" in saved["history"][-1]
    assert saved["history"][-1]["processes"] == 2 and result.history["processes"].iloc[-1] == 1
    for (name, a), b in zip(ddp.state_dict().items(), single.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
    assert saved["history"][-1]["loss"] == pytest.approx(result.history["loss"].iloc[-1], rel=1e-4)
    # the same run key: the single-process trainer finds the torchrun run and loads it instead of training
    _, reloaded = train_model(job, "cpu", progress=False)
    assert reloaded.seconds == saved["seconds"]


def test_the_gpu_count_is_checked(monkeypatch):
    from poselab.training.distributed import GPUS_ENV, requested_gpus

    monkeypatch.delenv(GPUS_ENV, raising=False)
    assert requested_gpus() == max(torch.cuda.device_count(), 1)
    monkeypatch.setenv(GPUS_ENV, "two")
    with pytest.raises(ValueError, match="positive whole number"):
        requested_gpus()
    monkeypatch.setenv(GPUS_ENV, str(torch.cuda.device_count() + 2))
    with pytest.raises(ValueError, match="torch sees"):
        requested_gpus()
