"""Training 2D pose networks (hourglass, HRNet, SimpleBaseline, integral regression): one loop for every study.

* ``loss="heatmap"``: MSE between predicted and Gaussian target heatmaps on every stack's output
  (intermediate supervision); ``loss="integral"``: L1 between the coordinates an integral-regression
  model predicts and the ground truth, per stack.  Unannotated joints are masked out of both.
* RMSprop (Bhansali) or Adam (HRNet), optional step decay.
* Validation every epoch in ``eval()`` mode; a CSV log; a checkpoint written atomically after
  every epoch, from which an interrupted run resumes; a tqdm progress bar.
* Precision and layout as the config says (the profiles state them); bf16 autocast only on a GPU: float32 on every
  CPU, the one precision every x86-64 and arm64 CPU runs natively, so the numbers do not depend on its extensions.
  On the CPU deterministic for a given seed; the result records what ran.
* A loss that becomes NaN or infinite stops the run, which is recorded as diverged (with its
  epoch) instead of crashing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from poselab.checkpoints import save_atomic
from poselab.data.pose_dataset import HeatmapDataset, epoch_batches, epoch_order, source_images
from poselab.training.config import TrainConfig
from poselab.training.runs import FINAL, finished_run, readable_or_set_aside, save_run

CHECKPOINT, LOG = "last.pt", "log.csv"  # an unfinished run (resumed from), its CSV log
# what a run file must hold to be resumed (last.pt) or loaded as finished (final.pt); anything less is set aside
RESUMABLE = ("model", "optimizer", "epoch", "history", "config", "status", "diverged_epoch", "seconds")
FINISHED = ("model", "history", "status", "diverged_epoch", "seconds")


def describe(bf16: bool, channels_last: bool) -> str:
    """What a run computes in, as its record says: "float32" or "bfloat16 autocast", and the layout."""
    return ("bfloat16 autocast" if bf16 else "float32") + (", channels_last" if channels_last else "")


@dataclass
class TrainResult:
    history: pd.DataFrame  # one row per finished epoch
    status: str  # "finished" or "diverged"
    diverged_epoch: int | None
    seconds: float
    precision: str = "unknown"  # what the run computed in: "float32" or "bfloat16 autocast", and the layout
    max_steps: int | None = None  # the step limit it ran under (LIMIT_STEPS), None for its full schedule
    threads: int = 0  # torch's intra-op threads during training
    device: str = ""

    def summary(self) -> dict:
        """What the run metadata records of a training."""
        return {"status": self.status, "epochs": len(self.history), "seconds": round(self.seconds, 1),
                "precision": self.precision, "threads": self.threads, "device": self.device,
                "step limit": self.max_steps}


def heatmap_loss(output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean squared error per stack, unannotated joints masked out.

    output (B, S, J, h, w) or (B, J, h, w); target (B, J, h, w); weight (B, J) -> (S,).
    """
    if output.ndim == 4:
        output = output[:, None]
    err = (output.float() - target[:, None]) ** 2 * weight[:, None, :, None, None]
    return err.mean(dim=(0, 2, 3, 4))


def coordinate_loss(output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, size: float) -> torch.Tensor:
    """Mean L1 distance per stack in units of the input side ``size``, unannotated joints masked out.

    output (B, S, J, 2) or (B, J, 2) input pixels; target (B, J, 2) input pixels; weight (B, J) -> (S,).
    """
    if output.ndim == 3:
        output = output[:, None]
    err = (output.float() - target[:, None]).abs().sum(-1) * weight[:, None] / size
    return err.mean(dim=(0, 2))


LOSSES = {"heatmap": "heatmaps", "integral": "coordinates"}  # loss -> what the model must output


def training_loss(output: torch.Tensor, batch: dict, loss: str, device: str) -> torch.Tensor:
    """The per-stack loss ``loss`` of a model output on a batch of ``HeatmapDataset`` items, (S,)."""
    weight = batch["weight"].to(device)
    if loss == "heatmap":
        return heatmap_loss(output, batch["heatmaps"].to(device), weight)
    return coordinate_loss(output, batch["joints"].to(device), weight, batch["image"].shape[-1])


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """RMSprop or Adam over the model's parameters, with torch's multi-tensor (``foreach``) update on every device:
    bitwise the same parameters as the per-tensor loop that is the CPU's default, in 0.6 of its time (measured on the
    default hourglass)."""
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
    raise ValueError(f"optimizer must be 'rmsprop' or 'adam', not {cfg.optimizer!r}")


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    return cfg.lr * 0.1 ** sum(epoch >= m for m in cfg.lr_milestones)


def process_group() -> tuple[int, int]:
    """(rank, world size) of a torchrun job, (0, 1) in a single process."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def all_finite(loss: torch.Tensor, world: int) -> bool:
    """Whether the loss is finite in every process (so that all of them stop together when one diverges)."""
    ok = torch.isfinite(loss.detach()).to(torch.int32)
    if world > 1:
        torch.distributed.all_reduce(ok, op=torch.distributed.ReduceOp.MIN)
    return bool(ok)


def mean_over_processes(values: torch.Tensor, world: int) -> torch.Tensor:
    if world > 1:
        values = values.clone()
        torch.distributed.all_reduce(values)
        values /= world
    return values


def barrier(world: int) -> None:
    if world > 1:
        torch.distributed.barrier()


def train(
    model: torch.nn.Module,
    train_set: HeatmapDataset,
    cfg: TrainConfig,
    out_dir: Path,
    device: str = "cpu",
    evaluate: Callable[[torch.nn.Module], dict[str, float]] | None = None,
    desc: str = "train",
    progress: bool = True,
    stop_after: int | None = None,
    key: str | None = None,
    restart_other: bool = False,
) -> TrainResult:
    """Train ``model`` for ``cfg.epochs`` epochs, resuming from ``out_dir/last.pt`` if present.

    ``evaluate(model)`` runs after every epoch (the model is in eval mode during it) and its
    numbers join the log.  ``stop_after`` ends the call after that many epochs of this call
    (simulating an interruption; tests use it).  ``key`` identifies the run: a checkpoint
    written under another key or configuration is an error, or with ``restart_other`` deleted (start over).
    Returns the history and status.
    """
    if cfg.loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {cfg.loss!r}")
    if getattr(model, "outputs", "heatmaps") != LOSSES[cfg.loss]:
        raise ValueError(f"loss {cfg.loss!r} needs a model that outputs {LOSSES[cfg.loss]}; "
                         f"{type(model).__name__} outputs {getattr(model, 'outputs', 'heatmaps')}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    on_cuda = str(device).startswith("cuda")
    channels_last = cfg.channels_last
    bf16 = cfg.bf16 and on_cuda  # float32 on every CPU: the same numbers whatever its vector extensions
    rank, world = process_group()
    if world > 1 and on_cuda:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # statistics over the whole batch, as one process
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    # Several processes (torchrun): each computes its share of every batch; DDP averages the gradients.  On the
    # CPU (gloo) BatchNorm normalises each share by its own statistics (SyncBatchNorm needs a GPU).
    net = nn.parallel.DistributedDataParallel(model, device_ids=[torch.device(device).index] if on_cuda else None) \
        if world > 1 else model
    opt = make_optimizer(model, cfg)
    start_epoch, history, status, diverged_epoch, seconds = 0, [], "running", None, 0.0
    ckpt = resume_point(out_dir / CHECKPOINT, asdict(cfg), key, device, restart_other)
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        start_epoch, history = ckpt["epoch"] + 1, ckpt["history"]
        status, diverged_epoch, seconds = ckpt["status"], ckpt["diverged_epoch"], ckpt["seconds"]
    images = source_images(train_set.source) if cfg.batched is not False else None
    if cfg.batched and images is None:
        raise ValueError(f"batched=True needs a source whose images sit in one array; {type(train_set.source).__name__}"
                         " reads them one by one (use batched=None or False)")
    if images is not None:
        images = images.to(device)  # once per run: the batches are then cut, warped and targeted on the device
    done_here, limited = 0, False
    steps = int(history[-1].get("steps", 0)) if history else 0
    for epoch in range(start_epoch, cfg.epochs):
        if status in ("diverged", "finished") or (stop_after is not None and done_here >= stop_after):
            break
        for group in opt.param_groups:
            group["lr"] = lr_at(cfg, epoch)
        train_set.set_epoch(epoch)
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        if images is not None:
            loader = epoch_batches(train_set, cfg.batch_size, gen, images, rank, world)
        else:
            order = epoch_order(len(train_set), cfg.batch_size, gen, rank, world)
            # iter() here: tqdm.auto would otherwise open the loader twice
            loader = iter(DataLoader(train_set, batch_sampler=order, num_workers=cfg.num_workers,
                                     pin_memory=on_cuda))
        model.train()
        sums, n_batches, t0 = None, 0, time.perf_counter()
        bar = tqdm(loader, desc=f"{desc} epoch {epoch + 1}/{cfg.epochs}", leave=False,
                   disable=not progress or rank > 0, total=len(train_set) // cfg.batch_size)
        for batch in bar:
            x = batch["image"].to(device, non_blocking=True)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cuda" if on_cuda else "cpu", dtype=torch.bfloat16, enabled=bf16):
                output = net(x)
            per_stack = training_loss(output, batch, cfg.loss, device)
            loss = per_stack.sum()
            if not all_finite(loss, world):
                status, diverged_epoch = "diverged", epoch + 1
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums = per_stack.detach() if sums is None else sums + per_stack.detach()
            n_batches += 1
            steps += 1
            bar.set_postfix(loss=f"{loss.item():.2e}")
            if cfg.max_steps is not None and steps >= cfg.max_steps:
                limited = True
                break
        bar.close()
        epoch_seconds = time.perf_counter() - t0
        seconds += epoch_seconds
        row = {"epoch": epoch + 1, "lr": lr_at(cfg, epoch), "seconds": epoch_seconds, "status": status,
               "steps": steps, "processes": world}
        if sums is not None:
            means = (mean_over_processes(sums, world) / n_batches).cpu().tolist()
            row["loss"] = sum(means)
            row.update({f"loss_stack{k + 1}": v for k, v in enumerate(means)})
        if status != "diverged" and evaluate is not None and rank == 0:
            model.eval()
            row.update(evaluate(model))
            model.train()
        history.append(row)
        if status != "diverged" and (epoch == cfg.epochs - 1 or limited):
            status = "finished"
        if rank == 0:  # checkpoints and logs come from one process
            save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                         "history": history, "config": asdict(cfg), "key": key, "status": status,
                         "diverged_epoch": diverged_epoch, "seconds": seconds}, out_dir / CHECKPOINT)
            pd.DataFrame(history).to_csv(out_dir / LOG, index=False)
        barrier(world)
        done_here += 1
    if status == "running" and start_epoch >= cfg.epochs:
        status = "finished"
    return TrainResult(pd.DataFrame(history), status, diverged_epoch, seconds, describe(bf16, channels_last),
                       cfg.max_steps, torch.get_num_threads(), str(device))


def rank_zero_first(read):
    """``read()`` in process 0 first, then in the others of a torchrun job: a corrupt file is set aside (or another
    run's deleted) by one process only, before the rest look at it."""
    rank, world = process_group()
    value = read() if rank == 0 else None
    barrier(world)
    return read() if rank > 0 else value


def resume_point(path: Path, config: dict, key: str | None, device: str, restart_other: bool) -> dict | None:
    """The unfinished run at ``path`` to resume (None: start from scratch; a corrupt file, or one without what a
    resumed run reads, ``RESUMABLE``, is set aside).  A checkpoint
    of another configuration or key is an error, or with ``restart_other`` deleted.  Process 0 decides first."""

    def read() -> dict | None:
        ckpt = readable_or_set_aside(path, device, needs=RESUMABLE)
        if ckpt is not None and (ckpt["config"] != config or ckpt.get("key") != key):
            if not restart_other:
                raise ValueError(f"{path} belongs to another run (configuration or key differ); delete it to restart")
            path.unlink()
            return None
        return ckpt

    return rank_zero_first(read)


def train_or_load(model: torch.nn.Module, train_set: HeatmapDataset, cfg: TrainConfig, out_dir: Path, key: str,
                  spec: dict | None = None, **kwargs) -> TrainResult:
    """Train (or resume) unless ``out_dir`` holds a finished run with the same ``key``; then load it.

    The finished run is saved as ``out_dir/final.pt`` (``poselab.training.runs``) with the model ``spec`` (see
    ``poselab.models.build_model``), so later notebooks can rebuild the model.
    """
    out_dir = Path(out_dir)
    saved = rank_zero_first(lambda: finished_run(out_dir / FINAL, key, needs=FINISHED))
    if saved is not None:
        model.load_state_dict(saved["model"])
        model.to(kwargs.get("device", "cpu"))
        return TrainResult(pd.DataFrame(saved["history"]), saved["status"], saved["diverged_epoch"], saved["seconds"],
                           saved.get("precision", "unknown"), saved.get("max_steps"), saved.get("threads", 0),
                           saved.get("device", ""))
    # another run's unfinished progress in out_dir is deleted: this run starts over
    result = train(model, train_set, cfg, out_dir, key=key, restart_other=True, **kwargs)
    if process_group()[0] > 0:
        return result  # rank 0 writes the finished run
    save_run(out_dir / FINAL, key, model=model.state_dict(), history=result.history.to_dict("records"), spec=spec,
             status=result.status, diverged_epoch=result.diverged_epoch, seconds=result.seconds,
             precision=result.precision, threads=result.threads, device=result.device,
             max_steps=result.max_steps)
    return result
