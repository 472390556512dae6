"""The stacked-hourglass study (notebooks 02 and 03): variants, training, the skip ablation.

Notebook 02 trains the hourglass at several stack counts on the same data and budget;
notebook 03 switches the skip branches of the trained model off.  The shared pieces (data,
training, evaluation) are in ``poselab.studies.pose2d``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from poselab.data.joints import get_convention
from poselab.data.pose2d import PoseData, sources_for, subset
from poselab.data.pose_dataset import HeatmapDataset, PoseSource
from poselab.evaluation import Evaluation, Quote, evaluate, mean_excludes, seed_std, welch
from poselab.findings import DOES_NOT, SUPPORTS, UNRESOLVED, Finding, markdown, verdict
from poselab.models import build_model
from poselab.models.complexity import count_macs, count_parameters
from poselab.settings import HourglassStudy
from poselab.studies.pose2d import Place, TrainJob, data_choice, load_trained, train_runs
from poselab.train import TrainResult

# Seed 002 and the public PyTorch reference (FACTS.md): their data, their joints, their metric.
PUBLISHED = (
    Quote(0.885, "seed 002", "2 stacks", "FLIC", "14 joints", "PCK, torso-normalised (threshold not stated)"),
    Quote(0.901, "seed 002", "8 stacks", "FLIC", "14 joints", "PCK, torso-normalised (threshold not stated)"),
    Quote(0.883, "public PyTorch reference", "2 stacks", "MPII validation", "all 16 joints",
          "PCKh@0.5, the reference's own head normaliser"),
    Quote(0.901, "public PyTorch reference", "8 stacks", "MPII validation", "all 16 joints",
          "PCKh@0.5, the reference's own head normaliser"),
)
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


@dataclass
class Dissected:
    """Notebook 02's main model and the training samples notebooks 03 and 04 take it apart on."""

    model: torch.nn.Module
    saved: dict  # its finished run: status, history, spec
    source: PoseSource  # the training split
    data_name: str  # "synthetic" or "MPII"
    dataset: HeatmapDataset  # the seeded subset at the model's input size, not augmented

    def describe(self) -> str:
        return f"{self.saved['status']}, {len(self.saved['history'])} epochs"


def dissected(place: Place, study: HourglassStudy, samples: int) -> Dissected:
    """The model notebooks 03-05 dissect (``study.main_stacks``, first seed) and ``samples`` training samples drawn
    with ``place.seed`` (all of them when there are fewer)."""
    model, saved = load_trained(place.checkpoints_dir / study.label(study.main_stacks), place.device)
    train, _, name, _ = sources_for(data_choice(place, study.use_real), study.convention)
    picked = subset(len(train), samples, place.seed)
    return Dissected(model, saved, train, name, HeatmapDataset(train, study.input_size, indices=picked))


Trained = dict[tuple[int, int], tuple[torch.nn.Module, TrainResult]]  # (stacks, seed) -> (model, result)


def train_variants(study: HourglassStudy, place: Place, workers: int | None = None) -> Trained:
    """Train every stack count from every seed on the same data and budget (in parallel processes on the CPU),
    or load the finished runs when nothing that determines them has changed: (stacks, seed) -> (model, result).
    The data (and its augmentation draws) are the same for every seed; the seed sets the initial weights
    and the order of the batches."""
    grid = [(s, seed) for s in study.stacks for seed in study.seeds]
    data = data_choice(place, study.use_real)
    jobs = [TrainJob(data, study.convention, study.input_size, None, None, study.spec(s),
                     replace(study.train, seed=seed), place.checkpoints_dir / study.label(s, seed),
                     study.label(s, seed)) for s, seed in grid]  # fmt: skip
    return dict(zip(grid, train_runs(jobs, place.device, workers), strict=True))


def evaluate_runs(trained: Trained, data: PoseData, study: HourglassStudy, device: str,
                  done: dict[str, Evaluation] | None = None) -> dict[tuple[int, int], Evaluation]:  # fmt: skip
    """Validation accuracy of every (stacks, seed) run; ``done`` holds evaluations already made (by label)."""
    done = done or {}
    return {(s, seed): done.get(study.label(s, seed)) or evaluate(model, data.val_set, data.val, study.convention,
                                                                   device)  # fmt: skip
            for (s, seed), (model, _) in trained.items()}


def seed_table(evaluations: dict[tuple[int, int], Evaluation], study: HourglassStudy) -> pd.DataFrame:
    """Mean PCKh@0.5 and torso PCK@0.2 per stack count over the seeds (mean, std, each seed's value)."""
    rows = {}
    for s in study.stacks:
        head = np.array([evaluations[(s, seed)].pckh for seed in study.seeds])
        torso = np.array([evaluations[(s, seed)].pck for seed in study.seeds])
        row = {"seeds": len(head), "PCKh@0.5 mean": head.mean(), "PCKh@0.5 std": seed_std(head),
               "PCK@0.2 (torso) mean": torso.mean(), "PCK@0.2 (torso) std": seed_std(torso)}  # fmt: skip
        row.update({f"PCKh@0.5 seed {seed}": v for seed, v in zip(study.seeds, head, strict=True)})
        rows[study.label(s)] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


@dataclass(frozen=True)
class StackVerdict:
    """Whether more stacks gave a higher PCKh, judged against the seed-to-seed spread."""

    few: int
    many: int
    gain: float  # mean PCKh(many) - mean PCKh(few)
    t: float  # Welch's t over the seeds (NaN with one seed per variant)
    p: float  # two-sided p-value
    alpha: float
    verdict: str  # "supports", "does not support", or "not resolved by the seeds"

    @property
    def evidence(self) -> str:
        """The numbers behind the verdict, without it."""
        if np.isnan(self.p):
            return f"one run per variant: no seed spread to judge the gap of {self.gain:+.3f} against"
        return f"mean gain {self.gain:+.3f}, Welch's t = {self.t:.2f}, p = {self.p:.3f} over the seeds"

    @property
    def sentence(self) -> str:
        threshold = "" if np.isnan(self.p) else f"; threshold p < {self.alpha}"
        return f"{self.verdict} ({self.evidence}{threshold})"


def stack_verdict(evaluations: dict[tuple[int, int], Evaluation], study: HourglassStudy,
                  alpha: float = 0.05) -> StackVerdict:  # fmt: skip
    """Seed 002's claim (more stacks, higher PCK) on the fewest and the most stacks: "supports" when the mean gain
    is positive and Welch's t-test over the seeds rejects equal means at ``alpha``; "does not support" when the
    gain is negative and significant, or with a single seed when it is not positive; otherwise the seeds do not
    resolve it."""
    few, many = min(study.stacks), max(study.stacks)
    a = np.array([evaluations[(few, seed)].pckh for seed in study.seeds])
    b = np.array([evaluations[(many, seed)].pckh for seed in study.seeds])
    gain = float(b.mean() - a.mean())
    t, p = welch(b, a)
    if len(study.seeds) > 1:
        significant = p < alpha
        verdict = ("supports" if gain > 0 else "does not support") if significant else "not resolved by the seeds"
    else:
        verdict = "supports" if gain > 0 else "does not support"
    return StackVerdict(few, many, gain, t, p, alpha, verdict)


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


def findings(stack: StackVerdict, seeds: pd.DataFrame, study: HourglassStudy, data_name: str = "synthetic"
             ) -> list[Finding]:  # fmt: skip
    """Notebook 02's finding: seed 002's claim that more stacks give a higher PCK, judged on the seed spread."""
    few, many = study.label(stack.few), study.label(stack.many)
    m, sd = seeds["PCKh@0.5 mean"], seeds["PCKh@0.5 std"].fillna(0)
    torso = seeds["PCK@0.2 (torso) mean"]
    mapped = {"supports": SUPPORTS, "does not support": DOES_NOT}.get(stack.verdict, UNRESOLVED)
    main = seeds.loc[study.label(study.main_stacks), f"PCKh@0.5 seed {study.seeds[0]}"]
    note = (f"{stack.evidence[0].upper()}{stack.evidence[1:]}. Torso PCK@0.2 {torso[many]:.3f} vs {torso[few]:.3f}. "
            f"Same data and {study.train.epochs} epochs for every run, {data_name} data at "
            f"{study.input_size}x{study.input_size}; seed 002 trained at 256x256 for ~100 epochs. The "
            f"{study.main_stacks}-stack model of seed {study.seeds[0]}, dissected in notebooks 03-05, reaches "
            f"PCKh@0.5 {main:.3f} on the held-out subjects.")  # fmt: skip
    return [Finding("More stacks give a higher PCK", "seed 002", "FLIC PCK 0.901 (8 stacks) vs 0.885 (2), one run each",
                    f"PCKh@0.5 {m[many]:.3f} ± {sd[many]:.3f} ({many}) vs {m[few]:.3f} ± {sd[few]:.3f} ({few}) over "
                    f"{len(study.seeds)} seed(s)", mapped,
                    f"mean gain > 0 and Welch's t-test over the seeds at p < {stack.alpha}", note)]  # fmt: skip


def findings_markdown(stack: StackVerdict, seeds: pd.DataFrame, study: HourglassStudy, data_name: str) -> str:
    """Notebook 02's closing statement: its findings as Markdown."""
    return markdown(findings(stack, seeds, study, data_name))


COLLAPSE = 0.5  # "collapses": the PCKh without skips is below this fraction of the PCKh with them


def skip_findings(on: Evaluation, off: Evaluation, groups: pd.DataFrame, finest: str,
                  per_scale: dict[str, float] | None = None) -> list[Finding]:  # fmt: skip
    """Notebook 03's findings on seed 000 §1.2: switching every skip off at inference collapses PCK (below
    ``COLLAPSE`` of its value with skips); small joints (head top, wrists, ankles) lose more than the others, judged
    where the claim should show most: with only the finest skip (``finest``, e.g. "32x32") off, since all skips off
    removes nearly everything.  ``groups``: ``by_joint_group`` of T03.1.  With ``per_scale`` (feature resolution ->
    PCKh with that scale's skip alone off, finest first), a third finding: the skips restore the detail pooling
    loses, so the finest one matters most."""
    small, other = groups.loc["small joints"], groups.loc["other joints"]
    fine = f"drop, {finest} skip off"
    found = [
        Finding("Switching the skips off at inference collapses PCK", "seed 000 §1.2", "PCK falls to near zero",
                f"training PCKh@0.5 {on.pckh:.3f} with skips, {off.pckh:.3f} without; "
                f"{float(np.mean(off.per_sample == 0)):.0%} of the samples lose every joint",
                verdict(off.pckh < COLLAPSE * on.pckh), f"PCKh without skips below {COLLAPSE:.0%} of with",
                "The model is not retrained: the same weights run without their skip branches."),
        Finding("Small joints lose most without the skips", "seed 000 §1.2", "",
                f"PCKh drop with the {finest} skip off: small joints {small[fine]:.3f}, others {other[fine]:.3f} "
                f"(all skips off: {small['drop']:.3f} vs {other['drop']:.3f})",
                verdict(small[fine] > other[fine], small["drop"] > other["drop"]),
                f"larger mean drop of the small joints with the {finest} skip off; partly if only with all skips off",
                "All skips off removes nearly everything, so it cannot say which joints need the detail most; the "
                f"{finest} skip alone keeps what the first pooling discards."),
    ]
    if per_scale:
        most = min(per_scale, key=per_scale.get)
        found.append(Finding(
            "The skips restore the detail pooling loses: the finest one matters most", "seed 000 §1.2 (Olsen, Newell)",
            "", "PCKh@0.5 with one skip off: " + ", ".join(f"{k} {v:.3f}" for k, v in per_scale.items()),
            verdict(most == next(iter(per_scale))), "switching off the finest skip costs the most PCKh"))
    return found


def skip_headlines(on: Evaluation, off: Evaluation, groups: pd.DataFrame, finest: str) -> list[tuple[str, float, str]]:
    """Notebook 03's front-page numbers: (name, value, note)."""
    small, other = groups.loc["small joints"], groups.loc["other joints"]
    fine = f"drop, {finest} skip off"
    return [("training PCKh@0.5, skips on", on.pckh, ""), ("training PCKh@0.5, skips off", off.pckh, ""),
            ("PCKh drop, small joints", small["drop"], "head top, wrists, ankles; all skips off"),
            ("PCKh drop, other joints", other["drop"], "all skips off"),
            ("PCKh drop, small joints, finest skip off", small[fine], f"{finest} skip off"),
            ("PCKh drop, other joints, finest skip off", other[fine], f"{finest} skip off")]  # fmt: skip
