"""The stacked-hourglass study (notebooks 02 and 03): variants, training, the skip ablation.

Notebook 02 trains the hourglass at several stack counts on the same data and budget;
notebook 03 switches the skip branches of the trained model off.  The shared pieces (data,
training, evaluation) are in ``poselab.studies.pose2d``.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import torch

from poselab.data.joints import get_convention
from poselab.data.pose_dataset import HeatmapDataset, PoseSource
from poselab.models import build_model
from poselab.models.complexity import count_macs, count_parameters
from poselab.settings import HourglassStudy
from poselab.studies.pose2d import Evaluation, TrainJob, evaluate, mean_excludes, train_runs
from poselab.train import TrainResult

SMALL_JOINTS = ("head_top", "l_wrist", "r_wrist", "l_ankle", "r_ankle")  # MPII-16's smallest, most distal parts


def variants_table(study: HourglassStudy) -> pd.DataFrame:
    """T02.1: each variant's size and cost at the study's input size."""
    rows = []
    for s in study.stacks:
        model = build_model(study.spec(s))
        rows.append({"model": study.label(s), "stacks": s, "width": study.width, "depth": study.depth,
                     "stem": f"{study.stem[0]}/{study.stem[1]}", "input": f"{study.input_size}x{study.input_size}",
                     "heatmaps": f"{study.input_size // 4}x{study.input_size // 4}",
                     "parameters (M)": count_parameters(model) / 1e6,
                     "GFLOPs": count_macs(model, (3, study.input_size, study.input_size)) / 1e9})  # fmt: skip
    return pd.DataFrame(rows).set_index("model")


def train_variants(study: HourglassStudy, ctx,
                   workers: int | None = None) -> dict[int, tuple[torch.nn.Module, TrainResult]]:  # fmt: skip
    """Train every stack count on the same data and budget (in parallel processes on the CPU), or load
    the finished runs when nothing that determines them has changed."""
    jobs = [TrainJob(ctx.profile, ctx.data_dir, ctx.seed, study.convention, study.input_size, None, None,
                     study.spec(s), replace(study.train, seed=ctx.seed), ctx.checkpoints_dir / study.label(s),
                     study.label(s)) for s in study.stacks]  # fmt: skip
    return dict(zip(study.stacks, train_runs(jobs, ctx.device, workers), strict=True))


def skip_ablation(model: torch.nn.Module, dataset: HeatmapDataset, source: PoseSource, convention: str,
                  device: str = "cpu") -> dict[str, Evaluation]:  # fmt: skip
    """The model with all skips on, all off, and off one scale at a time (restored afterwards)."""
    results = {}
    try:
        model.set_skips(True)
        results["skips on"] = evaluate(model, dataset, source, convention, device, keep_heatmaps=True)
        model.set_skips(False)
        results["skips off"] = evaluate(model, dataset, source, convention, device, keep_heatmaps=True)
        for scale in range(model.depth):
            model.set_skips(True).set_skips(False, [scale])
            results[f"off at scale {scale}"] = evaluate(model, dataset, source, convention, device)
    finally:
        model.set_skips(True)
    return results


def by_joint_group(table: pd.DataFrame, convention: str, small: tuple[str, ...] = SMALL_JOINTS) -> pd.DataFrame:
    """Mean of every numeric column of a per-joint table for the small joints and for the other joints
    (pelvis and thorax left out, as in the means); T03.1's summary."""
    js = get_convention(convention)
    small_labels = [js.labels[js.index(n)] for n in small if n in js.names]
    excluded = {js.labels[i] for i in mean_excludes(convention)}
    rest = [lb for lb in js.labels if lb not in small_labels and lb not in excluded]
    numeric = table.select_dtypes("number").columns
    rows = {}
    for name, labels in (("small joints", small_labels), ("other joints", rest)):
        rows[name] = {"joints": ", ".join(labels), **table.loc[labels, numeric].mean().to_dict()}
    return pd.DataFrame.from_dict(rows, orient="index")
