"""The HRNet ablation experiment (notebook 06): as designed, without BatchNorm, and without BatchNorm and with identity
activations, each trained from several seeds on the same data, schedule and budget with the shared training loop."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from poselab.data.pose2d import PoseData
from poselab.evaluation.pck import Evaluation, evaluate
from poselab.studies.hrnet.settings import HRNetStudy
from poselab.training.jobs import Place, TrainJob, data_choice, train_runs
from poselab.training.loop import TrainResult


@dataclass
class Run:
    experiment: str
    seed: int
    model: torch.nn.Module
    result: TrainResult
    evaluation: Evaluation | None  # None when the run diverged


def training_jobs(place: Place, study: HRNetStudy) -> dict[tuple[str, int], TrainJob]:
    """(experiment, seed) -> the run that trains it, for every experiment of ``study.experiments``."""
    data = data_choice(place, study.use_real)
    return {(e, s): TrainJob(data, study.convention, study.input_size, study.train_samples, study.val_samples,
                             study.spec(e), replace(study.train, seed=s), study.label(e, s), place.runs)
            for e in study.experiments for s in study.seeds}


def run_experiments(study: HRNetStudy, place: Place, data: PoseData, workers: int | None = None) -> list[Run]:
    """Every experiment from every seed, trained in parallel processes on the CPU (finished runs are
    loaded, not retrained), then evaluated on the validation set."""
    jobs = training_jobs(place, study)
    runs = []
    for (experiment, seed), (model, result) in zip(jobs, train_runs(list(jobs.values()), place.device, workers),
                                                   strict=True):
        ev = None if result.status == "diverged" else evaluate(model, data.val_set, data.val, study.convention,
                                                                place.device)
        runs.append(Run(experiment, seed, model, result, ev))
    return runs


def curves(runs: list[Run]) -> pd.DataFrame:
    """Long table: experiment, seed, epoch, validation PCKh (NaN after a divergence)."""
    rows = []
    for r in runs:
        for _, h in r.result.history.iterrows():
            rows.append({"experiment": r.experiment, "seed": r.seed, "epoch": int(h["epoch"]),
                         "val_pckh": h.get("val_pckh", np.nan), "status": h["status"]})
    return pd.DataFrame(rows)
