"""The hourglass experiment (notebook 02): every stack count trained from every seed on the same data and budget,
scored on the validation split; and the main model that notebooks 03-05 take apart (``dissected``)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from poselab.data.pose2d import PoseData, sources_for, subset
from poselab.data.pose_dataset import HeatmapDataset, PoseSource
from poselab.data.pretrained import present
from poselab.evaluation.pck import Evaluation, evaluate
from poselab.models.pretrained import load_pretrained
from poselab.studies.hourglass.settings import HourglassStudy
from poselab.training.jobs import Place, TrainJob, data_choice, load_trained, train_runs
from poselab.training.loop import TrainResult

Trained = dict[tuple[int, int], tuple[torch.nn.Module, TrainResult]]  # (stacks, seed) -> (model, result)


def training_jobs(place: Place, study: HourglassStudy) -> dict[tuple[int, int], TrainJob]:
    """(stacks, seed) -> the run that trains it.  The data (and its augmentation draws) are the same for every seed;
    the seed sets the initial weights and the order of the batches."""
    data = data_choice(place, study.use_real)
    return {(s, seed): TrainJob(data, study.convention, study.input_size, None, None, study.spec(s),
                                replace(study.train, seed=seed), study.label(s, seed), place.runs)
            for s in study.stacks for seed in study.seeds}


def main_job(place: Place, study: HourglassStudy) -> TrainJob:
    """The run notebooks 03-05 dissect: ``study.main_stacks`` stacks, the first seed."""
    if study.main_stacks not in study.stacks:
        raise ValueError(f"main_stacks={study.main_stacks} is not one of the stack counts {study.stacks}")
    return training_jobs(place, study)[(study.main_stacks, study.seeds[0])]


def train_variants(study: HourglassStudy, place: Place, workers: int | None = None) -> Trained:
    """Train every stack count from every seed (in parallel processes on the CPU), or load the finished runs whose
    keys are in the store: (stacks, seed) -> (model, result)."""
    jobs = training_jobs(place, study)
    return dict(zip(jobs, train_runs(list(jobs.values()), place.device, workers), strict=True))


def evaluate_runs(trained: Trained, data: PoseData, study: HourglassStudy, device: str,
                  done: dict[str, Evaluation] | None = None) -> dict[tuple[int, int], Evaluation]:
    """Validation accuracy of every (stacks, seed) run; ``done`` holds evaluations already made (by label)."""
    done = done or {}
    return {(s, seed): done.get(study.label(s, seed)) or evaluate(model, data.val_set, data.val, study.convention,
                                                                   device)
            for (s, seed), (model, _) in trained.items()}


@dataclass
class Dissected:
    """Notebook 02's main model and the training samples notebooks 03 and 04 take it apart on."""

    model: torch.nn.Module
    saved: dict  # its finished run: status, history, spec, key, path
    source: PoseSource  # the training split
    data_name: str  # "synthetic" or "MPII"
    dataset: HeatmapDataset  # the seeded subset at the model's input size, not augmented

    def describe(self) -> str:
        if "checkpoint" in self.saved:  # an official checkpoint (``reference_dissected``)
            return f"{self.saved['label']}; published: {self.saved['checkpoint'].published}"
        return (f"run {self.saved['path'].parent.name}: {self.saved['status']}, {len(self.saved['history'])} "
                "epochs")


REFERENCE = "hourglass_reference_2"  # the public PyTorch reference's 2-stack hourglass (data_manifest.yaml)


def reference_dissected(place: Place, samples: int, notebook: str, name: str = REFERENCE) -> Dissected | None:
    """The reference hourglass (an official checkpoint, 256x256, MPII-16) and ``samples`` training samples drawn with
    ``place.seed`` from real MPII when it is on disk, else from the profile's synthetic set at 256x256, cropped as its
    codebase crops (``Checkpoint.feeding``); None when the checkpoint is not on disk."""
    ck = present(place.data_dir, notebook=notebook).get(name)
    if ck is None:
        return None
    model = load_pretrained(ck, place.data_dir, place.device)
    train, _, data_name, _ = sources_for(data_choice(place, use_real=True), "mpii16")
    picked = subset(len(train), samples, place.seed)
    return Dissected(model, {"checkpoint": ck, "label": ck.label(place.data_dir)}, train, data_name,
                     HeatmapDataset(train, ck.input[0], indices=picked, feeding=ck.feeding))


def dissected(place: Place, study: HourglassStudy, samples: int, seed: int | None = None) -> Dissected:
    """The model notebooks 03-05 dissect (``main_job``: the run these settings describe, its key verified; with
    ``seed``, that training seed's run of the same stack count) and ``samples`` training samples drawn with
    ``place.seed`` (all of them when there are fewer; the same samples for every training seed)."""
    job = main_job(place, study) if seed is None else training_jobs(place, study)[(study.main_stacks, seed)]
    model, saved = load_trained(job, place.device, "run notebook 02 first (make notebooks NB=02)")
    train, _, name, _ = sources_for(data_choice(place, study.use_real), study.convention)
    picked = subset(len(train), samples, place.seed)
    return Dissected(model, saved, train, name, HeatmapDataset(train, study.input_size, indices=picked))


def dissected_seeds(place: Place, study: HourglassStudy, samples: int) -> dict[int, Dissected]:
    """``dissected`` for every training seed of notebook 02's main stack count (the claims about a trained model are
    judged over its seeds), on the same samples; the first seed's is the one shown in the figures."""
    if study.main_stacks not in study.stacks:
        raise ValueError(f"main_stacks={study.main_stacks} is not one of the stack counts {study.stacks}")
    return {seed: dissected(place, study, samples, seed) for seed in study.seeds}
