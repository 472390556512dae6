"""What every 2D pose study shares (notebooks 02–06): data sources, training a network on
them, loading it back, and evaluating it with PCKh and PCK."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from poselab.checkpoints import load_checkpoint
from poselab.data.dataset import ImageSet
from poselab.data.joints import get_convention
from poselab.data.pose_dataset import HeatmapDataset, PoseSource, SyntheticSource
from poselab.data.transforms import Augment
from poselab.distributed import launch, requested_gpus
from poselab.metrics import pck, pck_curve, per_sample_pck, unscored
from poselab.models import build_model
from poselab.predict import Predictions, predict
from poselab.processes import die_with_parent
from poselab.sources import digest, reachable_sources
from poselab.train import FINAL, TrainConfig, TrainResult, run_key, train_or_load
from poselab.train_config import with_step_limit

# MPII's official mean leaves out the pelvis and thorax; we do the same on every data set.
MEAN_EXCLUDES = ("pelvis", "thorax")


@dataclass
class PoseData:
    name: str  # "synthetic" or "MPII"
    fingerprint: str  # identifies the data (with the code) in training-run keys
    train: PoseSource
    val: PoseSource
    train_set: HeatmapDataset  # augmented
    val_set: HeatmapDataset


def synthetic_sources(pose2d_root: Path, convention: str) -> tuple[SyntheticSource, SyntheticSource]:
    return (SyntheticSource(ImageSet(pose2d_root, "train"), convention),
            SyntheticSource(ImageSet(pose2d_root, "val"), convention))  # fmt: skip


def sources_for(ctx, convention: str) -> tuple[PoseSource, PoseSource, str, str]:
    """(train, validation, data set name, fingerprint): MPII in the ``full`` profile when it is on disk
    (MPII-16 only), else the profile's synthetic image set (generated if missing)."""
    from poselab.data.mpii import MPIISource
    from poselab.data.synthetic.generate import content_fingerprint, ensure_synthetic
    from poselab.manifest import check_dataset, load_manifest

    if ctx.profile.name == "full" and convention == "mpii16":
        mpii = load_manifest()["mpii"]
        if check_dataset(mpii, ctx.data_dir, verify=False).state == "present":
            root = mpii.folder(ctx.data_dir)
            stamp = [(f.path, (root / f.path).stat().st_size) for f in mpii.files if f.kind == "file"]
            return MPIISource(root, "train"), MPIISource(root, "valid"), "MPII", json.dumps(stamp)
    root = ensure_synthetic(ctx.data_dir, ctx.profile.data, ctx.profile.name)["pose2d"]  # verified before use
    fingerprint = content_fingerprint(root)
    return (*synthetic_sources(root, convention), "synthetic", fingerprint)


def pose_data(ctx, convention: str, input_size: int, train_samples: int | None = None,
              val_samples: int | None = None) -> PoseData:  # fmt: skip
    """The profile's training (augmented) and validation sets at ``input_size``, optionally random
    subsets of fixed size (the same subset for every run of a study)."""
    train, val, name, fingerprint = sources_for(ctx, convention)
    rng = np.random.default_rng(ctx.seed)
    pick = lambda n, total: None if n is None or n >= total else np.sort(rng.choice(total, n, replace=False))  # noqa: E731
    return PoseData(name, fingerprint, train, val,
                    HeatmapDataset(train, input_size, augment=Augment(), seed=ctx.seed,
                                   indices=pick(train_samples, len(train))),
                    HeatmapDataset(val, input_size, indices=pick(val_samples, len(val))))  # fmt: skip


def mean_excludes(convention: str) -> tuple[int, ...]:
    js = get_convention(convention)
    return tuple(js.index(n) for n in MEAN_EXCLUDES if n in js.names)


def pckh_evaluator(data: PoseData, convention: str):
    """A callable model -> {"val_pckh": mean PCKh@0.5 on the validation set} for the training log."""

    def validate(model: torch.nn.Module) -> dict[str, float]:
        device = str(next(model.parameters()).device)
        return {"val_pckh": evaluate(model, data.val_set, data.val, convention, device).pckh}

    return validate


def training_code() -> str:
    """Digest of the code a 2D training run depends on: this module and everything it imports
    (models, training loop, data pipeline, the evaluation logged every epoch)."""
    return digest(reachable_sources(f"import {__name__}"))[:16]


def initialise_from(model: torch.nn.Module, run_dir: Path) -> str:
    """Start ``model`` from the weights of a finished run (e.g. an integral-regression model from a trained
    heatmap network): into ``model.backbone`` when the model has one, else into the model itself; both strictly.
    Returns the run's key, which belongs in the new run's key."""
    final = Path(run_dir) / FINAL
    if not final.exists():
        raise FileNotFoundError(f"no trained model at {final} to start from: run the notebook that trains it first")
    saved = load_checkpoint(final, "cpu")
    getattr(model, "backbone", model).load_state_dict(saved["model"])
    return saved["key"]


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
                           evaluate=pckh_evaluator(data, convention), desc=label, progress=progress)  # fmt: skip
    return model.eval(), result


@dataclass(frozen=True)
class TrainJob:
    """Everything a worker process needs to rebuild the data and train one run."""

    profile: object  # poselab.profiles.Profile
    data_dir: Path
    seed: int  # the profile's data seed (fixes the subsets)
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
    ctx = SimpleNamespace(profile=job.profile, data_dir=job.data_dir, seed=job.seed)
    return pose_data(ctx, job.convention, job.input_size, job.train_samples, job.val_samples)


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


def load_trained(path: Path, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """A model saved by ``train_or_load`` (weights, spec, history); a clear error if it is missing."""
    final = Path(path) / FINAL
    if not final.exists():
        raise FileNotFoundError(f"no trained model at {final}: run the notebook that trains it first "
                                "(e.g. make notebooks NB=02)")  # fmt: skip
    saved = load_checkpoint(final, "cpu")
    model = build_model(saved["spec"])
    model.load_state_dict(saved["model"])
    return model.to(device).eval(), saved


@dataclass
class Evaluation:
    predictions: Predictions
    per_joint_pckh: np.ndarray  # (J,)
    pckh: float  # mean, pelvis and thorax excluded
    per_joint_pck: np.ndarray  # torso-normalised
    pck: float
    per_sample: np.ndarray  # (N,) PCKh@0.5 per sample
    unscored: dict[str, int]  # "head", "torso" -> samples left out (normaliser undefined on real MPII)


def evaluate(model: torch.nn.Module, dataset: HeatmapDataset, source: PoseSource, convention: str,
             device: str = "cpu", keep_heatmaps: bool = False, alpha_head: float = 0.5,
             alpha_torso: float = 0.2) -> Evaluation:  # fmt: skip
    """PCKh@0.5 and torso PCK@0.2 (per joint and mean) and per-sample PCKh of a model on a dataset."""
    p = predict(model, dataset, device, keep_heatmaps=keep_heatmaps)
    idx = p.indices
    gt, ann = source.joints()[idx], source.annotated()[idx]
    norms = {k: v[idx] for k, v in source.norm_sizes().items()}
    excl = mean_excludes(convention)
    head_j, head_m = pck(p.joints, gt, ann, norms["head"], alpha_head, excl)
    torso_j, torso_m = pck(p.joints, gt, ann, norms["torso"], alpha_torso, excl)
    return Evaluation(p, head_j, head_m, torso_j, torso_m, per_sample_pck(p.joints, gt, ann, norms["head"], alpha_head),
                      {k: unscored(ann, v) for k, v in norms.items()})  # fmt: skip


@dataclass(frozen=True)
class Quote:
    """A published accuracy, with everything that makes it comparable or not: the source, the model, the data
    set, the joints its mean covers and the metric with its normaliser."""

    value: float
    source: str  # "seed 002", "public PyTorch reference"
    model: str  # "8 stacks"
    dataset: str  # "FLIC test", "MPII validation"
    joints: str  # "14 joints", "all 16 joints"
    metric: str  # "PCKh@0.5, the reference's own head normaliser"

    @property
    def label(self) -> str:
        return f"{self.source}, {self.model}: {self.metric}; {self.dataset}, {self.joints}"


PUBLISHED_MEAN = "published mean (its own data, joints and metric: see the column)"


def pck_table(results: dict[str, Evaluation], convention: str, quotes: tuple[Quote, ...] = ()) -> pd.DataFrame:
    """Per-joint and mean accuracy, one column per model and metric (T02.2).

    Our means leave out the pelvis and thorax.  Published numbers get a column each, labelled with their data
    set, joints and metric, and a row of their own: they are never in the same cell row as our means.
    """
    js = get_convention(convention)
    n_excl = len(mean_excludes(convention))
    mean_row = f"mean ({js.n_joints - n_excl} joints, ours)"
    index = [*js.labels, mean_row, *([PUBLISHED_MEAN] if quotes else [])]
    pad = [np.nan] if quotes else []
    cols = {}
    for label, ev in results.items():
        cols[("PCKh@0.5", label)] = [*ev.per_joint_pckh, ev.pckh, *pad]
        cols[("PCK@0.2 (torso)", label)] = [*ev.per_joint_pck, ev.pck, *pad]
    for q in quotes:
        cols[("published (theirs)", q.label)] = [np.nan] * (js.n_joints + 1) + [q.value]
    table = pd.DataFrame(cols, index=index)
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def threshold_curves(results: dict[str, Evaluation], source: PoseSource, convention: str,
                     alphas: np.ndarray) -> dict[str, dict[str, np.ndarray]]:  # fmt: skip
    """Mean accuracy vs threshold for each model, head- and torso-normalised (F02.2)."""
    excl = mean_excludes(convention)
    norms = source.norm_sizes()
    out = {}
    for label, ev in results.items():
        idx = ev.predictions.indices
        gt, ann = source.joints()[idx], source.annotated()[idx]
        out[label] = {kind: pck_curve(ev.predictions.joints, gt, ann, norms[kind][idx], alphas, excl)
                      for kind in ("head", "torso")}  # fmt: skip
    return out
