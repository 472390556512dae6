"""Notebook 03's tables (T03.1 per joint, its joint-group summary), ``findings(...)`` on the claims of
“Understanding the Model” §1.2, and the front-page numbers.  Every column name is made here, once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from poselab.data.joints import get_convention
from poselab.evaluation.pck import mean_excludes
from poselab.findings import Finding, verdict
from poselab.references import cite
from poselab.studies.skips.experiment import SkipAblation

SMALL_JOINTS = ("head_top", "l_wrist", "r_wrist", "l_ankle", "r_ankle")  # MPII-16's smallest, most distal parts
COLLAPSE = 0.5  # "collapses": the PCKh without skips is below this fraction of the PCKh with them
ON, OFF, DROP = "skips on", "skips off", "drop"
SOURCE = cite("understanding", "§1.2")


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
    for name, labels in (("small joints", small_labels), ("other joints", rest)):
        rows[name] = {"joints": ", ".join(labels), **table.loc[labels, numeric].mean().to_dict()}
    return pd.DataFrame.from_dict(rows, orient="index")


def per_scale(ablation: SkipAblation) -> dict[str, float]:
    """Feature resolution of each switched-off scale -> PCKh@0.5 with that scale's skip alone off, finest first."""
    return {ablation.resolution(k): ev.pckh for k, ev in sorted(ablation.per_scale.items())}


def findings(ablation: SkipAblation, groups: pd.DataFrame) -> list[Finding]:
    """Notebook 03's findings: switching every skip off at inference collapses PCK (below ``COLLAPSE`` of its value
    with skips); small joints (head top, wrists, ankles) lose more than the others, judged where the claim should
    show most: with only the finest skip off, since all skips off removes nearly everything; and the skips restore
    the detail pooling loses, so the finest one matters most.  ``groups``: ``by_joint_group`` of T03.1."""
    small, other = groups.loc["small joints"], groups.loc["other joints"]
    on, off, fine, finest = ablation.on, ablation.off, finest_drop(ablation), ablation.resolution(0)
    found = [
        Finding("Switching the skips off at inference collapses PCK", SOURCE, "PCK falls to near zero",
                f"training PCKh@0.5 {on.pckh:.3f} with skips, {off.pckh:.3f} without; "
                f"{float(np.mean(off.per_sample == 0)):.0%} of the samples lose every joint",
                verdict(off.pckh < COLLAPSE * on.pckh), f"PCKh without skips below {COLLAPSE:.0%} of with",
                "The model is not retrained: the same weights run without their skip branches."),
        Finding("Small joints lose most without the skips", SOURCE, "",
                f"PCKh drop with the {finest} skip off: small joints {small[fine]:.3f}, others {other[fine]:.3f} "
                f"(all skips off: {small[DROP]:.3f} vs {other[DROP]:.3f})",
                verdict(small[fine] > other[fine], small[DROP] > other[DROP]),
                f"larger mean drop of the small joints with the {finest} skip off; partly if only with all skips off",
                "All skips off removes nearly everything, so it cannot say which joints need the detail most; the "
                f"{finest} skip alone keeps what the first pooling discards."),
    ]
    scales = per_scale(ablation)
    if scales:
        most = min(scales, key=scales.get)
        found.append(Finding(
            "The skips restore the detail pooling loses: the finest one matters most",
            f"{SOURCE} (after Newell et al. 2016)", "",
            "PCKh@0.5 with one skip off: " + ", ".join(f"{k} {v:.3f}" for k, v in scales.items()),
            verdict(most == next(iter(scales))), "switching off the finest skip costs the most PCKh"))
    return found


def headline_numbers(ablation: SkipAblation, groups: pd.DataFrame) -> list[tuple[str, float, str, str]]:
    """Notebook 03's front-page numbers: (name, value, unit, note)."""
    small, other = groups.loc["small joints"], groups.loc["other joints"]
    fine, finest = finest_drop(ablation), ablation.resolution(0)
    return [("training PCKh@0.5, skips on", ablation.on.pckh, "", ""),
            ("training PCKh@0.5, skips off", ablation.off.pckh, "", ""),
            ("PCKh drop, small joints", small[DROP], "", "head top, wrists, ankles; all skips off"),
            ("PCKh drop, other joints", other[DROP], "", "all skips off"),
            ("PCKh drop, small joints, finest skip off", small[fine], "", f"{finest} skip off"),
            ("PCKh drop, other joints, finest skip off", other[fine], "", f"{finest} skip off")]
