"""Notebook 03's tables (T03.1 per joint, its joint-group summary, one scale at a time), the decisions on the claims of
“Understanding the Model” §1.2, and the front-page numbers.  Every column name is made here, once.

The claims are about a trained model, so each is judged over the training seeds of notebook 02's main hourglass
(``ablations``: seed -> that seed's ablation, all on the same training samples): the per-seed quantity and its Student's
t interval over the seeds (``poselab.evaluation.stats.seed_interval``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from poselab.data.joints import get_convention
from poselab.evaluation.pck import mean_excludes
from poselab.evaluation.stats import seed_interval
from poselab.findings import Finding, decide
from poselab.references import cite
from poselab.studies.skips.experiment import SkipAblation

SMALL_JOINTS = ("head_top", "l_wrist", "r_wrist", "l_ankle", "r_ankle")  # MPII-16's smallest, most distal parts
COLLAPSE = 0.5  # "collapses": the PCKh without skips is below this fraction of the PCKh with them
ON, OFF, DROP = "skips on", "skips off", "drop"
SMALL, OTHER = "small joints", "other joints"
SOURCE = cite("understanding", "§1.2")
TIE = 0.001  # a bound within one unit of the third decimal shown of its threshold is a tie (not resolved)
MORE_SEEDS = "more training seeds of the 2-stack hourglass (notebook 02's seeds knob)"
Ablations = dict[int, SkipAblation]  # training seed -> its ablation on the same samples


def finest_off(ablation: SkipAblation) -> str:
    """T03.1's column with only the finest skip off, e.g. "32x32 skip off"."""
    return f"{ablation.resolution(0)} skip off"


def finest_drop(ablation: SkipAblation) -> str:
    return f"{DROP}, {finest_off(ablation)}"


def joint_table(ablation: SkipAblation, convention: str, small: tuple[str, ...] = SMALL_JOINTS) -> pd.DataFrame:
    """T03.1: per-joint training PCKh@0.5 with all skips on, all off and only the finest off, and the drops."""
    js = get_convention(convention)
    on, off, fine = ablation.on, ablation.off, ablation.finest
    table = pd.DataFrame({ON: [*on.per_joint_pckh, on.pckh], OFF: [*off.per_joint_pckh, off.pckh],
                          finest_off(ablation): [*fine.per_joint_pckh, fine.pckh]}, index=[*js.labels, "mean"])
    table[DROP] = table[ON] - table[OFF]
    table[finest_drop(ablation)] = table[ON] - table[finest_off(ablation)]
    table["small joint"] = [n in small for n in js.names] + [False]
    return table


def by_joint_group(table: pd.DataFrame, convention: str, small: tuple[str, ...] = SMALL_JOINTS) -> pd.DataFrame:
    """Mean of every numeric column of a per-joint table for the small joints and for the other joints
    (pelvis and thorax left out, as in the means); T03.1's summary."""
    js = get_convention(convention)
    small_labels = [js.labels[js.index(n)] for n in small if n in js.names]
    excluded = {js.labels[i] for i in mean_excludes(convention)}
    rest = [lb for lb in js.labels if lb not in small_labels and lb not in excluded]
    numeric = table.select_dtypes("number").columns
    rows = {}
    for name, labels in ((SMALL, small_labels), (OTHER, rest)):
        rows[name] = {"joints": ", ".join(labels), **table.loc[labels, numeric].mean().to_dict()}
    return pd.DataFrame.from_dict(rows, orient="index")


def seed_table(ablations: Ablations, convention: str) -> pd.DataFrame:
    """T03.1 over the seeds: every column of ``joint_table`` averaged over the seeds' ablations, with the seed spread
    (standard deviation) of the drop with only the finest skip off."""
    tables = [joint_table(a, convention) for a in ablations.values()]
    first = next(iter(ablations.values()))
    numeric = tables[0].select_dtypes("number").columns
    out = sum(t[numeric] for t in tables) / len(tables)
    fine = finest_drop(first)
    out[f"{fine}, std over seeds"] = pd.concat([t[fine] for t in tables], axis=1).std(axis=1, ddof=1)
    out["small joint"] = tables[0]["small joint"]
    return out


def per_scale(ablation: SkipAblation) -> dict[str, float]:
    """Feature resolution of each switched-off scale -> PCKh@0.5 with that scale's skip alone off, finest first."""
    return {ablation.resolution(k): ev.pckh for k, ev in sorted(ablation.per_scale.items())}


def scale_table(ablations: Ablations) -> pd.DataFrame:
    """F03.3's numbers: PCKh@0.5 with one scale's skip off (rows, finest first) per seed, their mean and std."""
    t = pd.DataFrame({f"seed {seed}": per_scale(a) for seed, a in ablations.items()})
    t.index.name = "skip switched off"
    seeds = list(t.columns)
    t["mean"], t["std over seeds"] = t[seeds].mean(axis=1), t[seeds].std(axis=1, ddof=1)
    return t


def _seeds(ablations: Ablations) -> str:
    return f"{len(ablations)} seed{'s' if len(ablations) != 1 else ''}"


def collapse(ablations: Ablations) -> Finding:
    """“Switching the skips off at inference collapses PCK”: the ratio of training PCKh without the skips to with them,
    per seed, and its t interval over the seeds; supported when the interval lies below ``COLLAPSE``."""
    ratios = np.array([a.off.pckh / a.on.pckh for a in ablations.values()])
    iv = seed_interval(ratios)
    lost = np.mean([np.mean(a.off.per_sample == 0) for a in ablations.values()])
    per_seed = "; ".join(f"seed {s}: {a.on.pckh:.3f} -> {a.off.pckh:.3f}" for s, a in ablations.items())
    return Finding("Switching the skips off at inference collapses PCK", SOURCE, "PCK falls to near zero",
                   f"PCKh without / with skips {iv.text()} ({per_seed}); {lost:.0%} of the samples lose every joint",
                   decide(iv, COLLAPSE, above=False, tie=TIE),
                   f"{iv.method} 95 % interval of the ratio below {COLLAPSE}",
                   "The model is not retrained: the same weights run without their skip branches.", MORE_SEEDS)


def small_joints(ablations: Ablations, convention: str) -> Finding:
    """“Small joints lose most”: per seed, the small joints' mean PCKh drop minus the other joints', with only the
    finest skip off (all skips off removes nearly everything, so it cannot say which joints need the detail most);
    supported when its t interval over the seeds lies above 0."""
    groups = {s: by_joint_group(joint_table(a, convention), convention) for s, a in ablations.items()}
    first = next(iter(ablations.values()))
    fine, finest = finest_drop(first), first.resolution(0)
    gaps = np.array([g.loc[SMALL, fine] - g.loc[OTHER, fine] for g in groups.values()])
    iv = seed_interval(gaps)
    all_off = np.mean([g.loc[SMALL, DROP] - g.loc[OTHER, DROP] for g in groups.values()])
    per_seed = "; ".join(f"seed {s}: {g.loc[SMALL, fine]:.3f} vs {g.loc[OTHER, fine]:.3f}" for s, g in groups.items())
    return Finding("Small joints lose most without the skips", SOURCE, "",
                   f"small minus other joints' PCKh drop with the {finest} skip off {iv.text()} ({per_seed}); with all "
                   f"skips off {all_off:+.3f} (seed mean)", decide(iv, 0.0, tie=TIE),
                   f"{iv.method} 95 % interval of the small-minus-other drop (the {finest} skip off) above 0",
                   "All skips off removes nearly everything, so it cannot say which joints need the detail most; the "
                   f"{finest} skip alone keeps what the first pooling discards.", MORE_SEEDS)


def finest_matters_most(ablations: Ablations) -> Finding | None:
    """“The finest skip matters most”: per seed, how much more PCKh the next-worst single skip keeps than the finest
    (the margin); supported when its t interval over the seeds lies above 0.  None with a single scale."""
    scales = scale_table(ablations)
    if len(scales) < 2:
        return None
    seeds = [c for c in scales.columns if c.startswith("seed ")]
    finest = scales.index[0]
    margins = np.array([scales[c].drop(finest).min() - scales.loc[finest, c] for c in seeds])
    iv = seed_interval(margins)
    means = ", ".join(f"{k} {v:.3f}" for k, v in scales["mean"].items())
    return Finding("The skips restore the detail pooling loses: the finest one matters most",
                   f"{SOURCE} (after Newell et al. 2016)", "",
                   f"PCKh@0.5 with one skip off (seed mean): {means}; the finest's margin {iv.text()}",
                   decide(iv, 0.0, tie=TIE),
                   f"{iv.method} 95 % interval of the next-worst single skip's PCKh minus the finest's "
                   f"({finest}) above 0", "", MORE_SEEDS)


def headline_numbers(ablations: Ablations, convention: str) -> list[tuple[str, float, str, str]]:
    """Notebook 03's front-page numbers (means over the seeds): (name, value, unit, note)."""
    t = seed_table(ablations, convention)
    groups = by_joint_group(t, convention)
    first = next(iter(ablations.values()))
    small, other = groups.loc[SMALL], groups.loc[OTHER]
    fine, finest, n = finest_drop(first), first.resolution(0), _seeds(ablations)
    return [("training PCKh@0.5, skips on", t.loc["mean", ON], "", f"mean over {n}"),
            ("training PCKh@0.5, skips off", t.loc["mean", OFF], "", f"mean over {n}"),
            ("PCKh drop, small joints", small[DROP], "", "head top, wrists, ankles; all skips off"),
            ("PCKh drop, other joints", other[DROP], "", "all skips off"),
            ("PCKh drop, small joints, finest skip off", small[fine], "", f"{finest} skip off"),
            ("PCKh drop, other joints, finest skip off", other[fine], "", f"{finest} skip off")]
