"""The stacked-hourglass study (notebooks 02 and 03): data, variants, training and evaluation.

Notebook 02 trains the hourglass at several stack counts on the same data and budget;
notebook 03 switches the skip branches of the trained model off.  The functions here are
the notebooks' thin layer over ``poselab.models``, ``poselab.train`` and ``poselab.metrics``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from poselab.data.dataset import ImageSet
from poselab.data.joints import get_convention
from poselab.data.pose_dataset import HeatmapDataset, PoseSource, SyntheticSource
from poselab.data.transforms import Augment
from poselab.metrics import pck, pck_curve, per_sample_pck
from poselab.models import build_model
from poselab.models.complexity import count_macs, count_parameters
from poselab.predict import Predictions, predict
from poselab.train import FINAL, TrainConfig, TrainResult, run_key, train_or_load, training_source_hash

# MPII's official mean leaves out the pelvis and thorax; we do the same on every data set.
MEAN_EXCLUDES = ("pelvis", "thorax")
SMALL_JOINTS = ("head_top", "l_wrist", "r_wrist", "l_ankle", "r_ankle")  # MPII-16's smallest, most distal parts


@dataclass(frozen=True)
class HourglassStudy:
    """Settings of the hourglass notebooks for one profile."""

    input_size: int = 128
    width: int = 64  # channels inside the hourglasses
    stem: tuple[int, int] = (32, 64)
    depth: int = 3  # poolings per hourglass: input/4 features down to input/4/2^depth
    stacks: tuple[int, ...] = (1, 2)  # variants compared on the same data and budget
    main_stacks: int = 2  # the model dissected in notebooks 03-05
    train: TrainConfig = field(default_factory=TrainConfig)
    convention: str = "mpii16"
    ablation_samples: int = 2000  # training samples used by the skip ablation
    qualitative: int = 6  # validation samples shown in F02.3

    def spec(self, stacks: int) -> dict:
        return {"arch": "hourglass", "n_stacks": stacks, "width": self.width, "depth": self.depth,
                "stem": list(self.stem), "n_joints": get_convention(self.convention).n_joints}  # fmt: skip

    def label(self, stacks: int) -> str:
        return f"hourglass-{stacks}"


@dataclass
class PoseData:
    name: str  # "synthetic" or "MPII"
    train: PoseSource
    val: PoseSource
    train_set: HeatmapDataset  # augmented
    train_eval: HeatmapDataset  # the training images without augmentation
    val_set: HeatmapDataset


def synthetic_sources(pose2d_root: Path, convention: str) -> tuple[SyntheticSource, SyntheticSource]:
    return (SyntheticSource(ImageSet(pose2d_root, "train"), convention),
            SyntheticSource(ImageSet(pose2d_root, "val"), convention))  # fmt: skip


def sources_for(ctx, convention: str) -> tuple[PoseSource, PoseSource, str, str]:
    """(train, validation, data set name, fingerprint): MPII in the ``full`` profile when it is on disk
    (MPII-16 only), else the profile's synthetic image set (generated if missing)."""
    import json

    from poselab.data.mpii import MPIISource
    from poselab.data.synthetic.generate import ensure_synthetic
    from poselab.manifest import check_dataset, load_manifest

    if ctx.profile.name == "full" and convention == "mpii16":
        mpii = load_manifest()["mpii"]
        if check_dataset(mpii, ctx.data_dir, verify=False).state == "present":
            root = mpii.folder(ctx.data_dir)
            stamp = [(p.name, p.stat().st_size) for p in sorted((root / "annot").glob("*.json"))]
            return MPIISource(root, "train"), MPIISource(root, "valid"), "MPII", json.dumps(stamp)
    root = ensure_synthetic(ctx.data_dir, ctx.profile.data, ctx.profile.name)["pose2d"]
    fingerprint = json.loads((root / "meta.json").read_text())["fingerprint"]
    return (*synthetic_sources(root, convention), "synthetic", fingerprint)


def pose_data(name: str, train: PoseSource, val: PoseSource, study: HourglassStudy, seed: int) -> PoseData:
    size = study.input_size
    return PoseData(name, train, val, HeatmapDataset(train, size, augment=Augment(), seed=seed),
                    HeatmapDataset(train, size), HeatmapDataset(val, size))  # fmt: skip


def mean_excludes(convention: str) -> tuple[int, ...]:
    js = get_convention(convention)
    return tuple(js.index(n) for n in MEAN_EXCLUDES if n in js.names)


def pckh_evaluator(data: PoseData, convention: str, alpha: float = 0.5, batch_size: int = 64):
    """A callable model -> {"val_pckh": mean PCKh@alpha on the validation split} for the training log."""
    gt, ann, head = data.val.joints(), data.val.annotated(), data.val.norm_sizes()["head"]
    excl = mean_excludes(convention)

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        p = predict(model, data.val_set, str(device), batch_size)
        return {"val_pckh": pck(p.joints, gt, ann, head, alpha, excl)[1]}

    return evaluate


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


def train_variant(study: HourglassStudy, stacks: int, data: PoseData, checkpoints: Path, device: str,
                  seed: int, data_fingerprint: str) -> tuple[torch.nn.Module, TrainResult]:  # fmt: skip
    """Train one stack count (or load it when a finished run with identical inputs exists)."""
    torch.manual_seed(seed)
    spec = study.spec(stacks)
    model = build_model(spec)
    cfg = TrainConfig(**{**asdict(study.train), "seed": seed})
    key = run_key(spec, asdict(cfg), study.input_size, data.name, data_fingerprint, training_source_hash())
    result = train_or_load(model, data.train_set, cfg, checkpoints / study.label(stacks), key, spec=spec,
                           device=device, evaluate=pckh_evaluator(data, study.convention),
                           desc=study.label(stacks))  # fmt: skip
    return model.eval(), result


def load_trained(path: Path, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """A model saved by ``train_or_load`` (weights, spec, history); a clear error if it is missing."""
    path = Path(path)
    final = path / FINAL if path.is_dir() or not path.suffix else path
    if not final.exists():
        raise FileNotFoundError(f"no trained model at {final}: run notebook 02 first (make notebooks NB=02)")
    saved = torch.load(final, map_location="cpu", weights_only=False)
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
    return Evaluation(p, head_j, head_m, torso_j, torso_m,
                      per_sample_pck(p.joints, gt, ann, norms["head"], alpha_head))  # fmt: skip


def pck_table(results: dict[str, Evaluation], convention: str, theirs: dict[str, float] | None = None) -> pd.DataFrame:
    """T02.2 / T03.1: per-joint and mean accuracy, one column per model and metric."""
    js = get_convention(convention)
    index = [*js.labels, "mean"]
    cols = {}
    for label, ev in results.items():
        cols[("PCKh@0.5", label)] = [*ev.per_joint_pckh, ev.pckh]
        cols[("PCK@0.2 (torso)", label)] = [*ev.per_joint_pck, ev.pck]
    for label, value in (theirs or {}).items():
        cols[("theirs", label)] = [np.nan] * js.n_joints + [value]
    table = pd.DataFrame(cols, index=index)
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def threshold_curves(results: dict[str, Evaluation], source: PoseSource, convention: str,
                     alphas: np.ndarray) -> dict[str, dict[str, np.ndarray]]:  # fmt: skip
    """Mean accuracy vs threshold for each model, head- and torso-normalised (F02.2)."""
    excl = mean_excludes(convention)
    out = {}
    for label, ev in results.items():
        idx = ev.predictions.indices
        gt, ann = source.joints()[idx], source.annotated()[idx]
        norms = source.norm_sizes()
        out[label] = {kind: pck_curve(ev.predictions.joints, gt, ann, norms[kind][idx], alphas, excl)
                      for kind in ("head", "torso")}  # fmt: skip
    return out


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


def drop_by_group(table: pd.DataFrame, convention: str, small: tuple[str, ...] = SMALL_JOINTS) -> pd.DataFrame:
    """Mean PCKh with and without skips for small joints vs the rest (T03.1's summary)."""
    js = get_convention(convention)
    small_labels = [js.labels[js.index(n)] for n in small if n in js.names]
    excluded = {js.labels[i] for i in mean_excludes(convention)}
    rest = [lb for lb in js.labels if lb not in small_labels and lb not in excluded]
    rows = {}
    for name, labels in (("small joints", small_labels), ("other joints", rest)):
        part = table.loc[labels]
        rows[name] = {"joints": ", ".join(labels), "skips on": part["skips on"].mean(),
                      "skips off": part["skips off"].mean(), "drop": part["drop"].mean()}  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index")
