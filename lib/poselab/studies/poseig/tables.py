"""Notebook 05's tables (T05.1-T05.5, T05.7) beside He et al.'s (2023) numbers, and its front-page numbers.

Every function takes the arrays the study computed (``poselab.studies.poseig.attribute``) and returns a table; the
verdicts on the claims are ``poselab.studies.poseig.claims``'.  The published numbers are theirs (SimpleBaseline and
others on COCO).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from poselab.data.joints import JointSet
from poselab.studies.poseig.attribute import DI, EPE, FI, GROUP, JOINT, LI, MODEL, best_speedups
from poselab.studies.poseig.joints import GROUP_ORDER, RELATIONS, inversions, joint_groups, pair_counts
from poselab.studies.poseig.perturbation import MASKS
from poselab.studies.poseig.sanity import PerturbationErrors, StageMeans

# He et al. 2023, suppl. Table B, Table C and Table D (Table A's range: ``claims.SEED_RE_RANGE``).
SEED_DI_COLUMN = "DI (He et al. 2023: SimpleBaseline-ResNet50, COCO)"
SEED_FI_COLUMN = "FI (He et al. 2023: SimpleBaseline-ResNet50, COCO)"
SEED_RANDOMIZATION = {"layers": [9, 18, 27, 36, 45, 54], "DI": [13.58, 13.93, 16.53, 17.44, 19.91, 21.06],
                      "FI": [1.375, 1.342, 1.186, 1.110, 0.967, 0.884]}
SEED_FI_BY_GROUP = {
    "ResNet50": (1.961, 1.986, 2.028), "ResNet101": (1.906, 1.949, 1.999), "HRNet-W32": (1.849, 1.926, 1.978),
    "TransPose": (1.863, 1.907, 1.990), "Integral": (1.865, 1.907, 1.946), "RLE": (1.754, 1.795, 1.853),
}
SEED_EASY_HARD = {"ResNet50": (4.03, 0.52), "ResNet101": (3.71, 0.52), "HRNet-W32": (3.58, 0.50),
                  "TransPose": (3.12, 0.51), "Integral": (2.68, 0.43), "RLE": (2.17, 0.41)}


def _kinds(js: JointSet) -> dict[str, list[int]]:
    """Joint types (left and right together, as the source's Table A) and the kinematic groups, to joint indices."""
    out = {kind: [js.index(n) for n in names] for kind, names in js.groups.items()}
    groups = joint_groups(js)
    out.update({g: list(np.flatnonzero(groups == g)) for g in GROUP_ORDER})
    out["all joints"] = list(range(js.n_joints))
    return out


def perturbation_table(errors: PerturbationErrors, annotated: np.ndarray, js: JointSet) -> pd.DataFrame:
    """T05.1: R_E per mask (rows) and joint type / group (columns), pooled over the people and the joints of a
    column as a ratio of mean absolute error changes; annotated (N, J)."""
    w = np.asarray(annotated, float)[:, None, :]
    num = np.abs(errors.attr - errors.origin[:, None]) * w  # (N, M, J)
    den = np.abs(errors.rand - errors.origin[:, None]) * w
    cols = {}
    for kind, idx in _kinds(js).items():
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[kind] = num[:, :, idx].sum((0, 2)) / den[:, :, idx].sum((0, 2))
    table = pd.DataFrame(cols, index=list(MASKS))
    table.index.name = "mask"
    return table


def randomization_table(counts: list[int], n_layers: int, means: StageMeans) -> pd.DataFrame:
    """T05.2: mean DI, FI and LI after randomising ``counts`` of ``n_layers`` convolutions (0 = trained), with the
    He et al.'s Table B at the same fraction of the network where it has one."""
    seed_at = {round(c / 54, 6): (d, f) for c, d, f in zip(*SEED_RANDOMIZATION.values(), strict=True)}
    rows = []
    for c, d, f, l, bad in zip(counts, means.di, means.fi, means.li, means.degenerate, strict=True):
        theirs = seed_at.get(round(c / n_layers, 6), (np.nan, np.nan))
        rows.append({"layers randomised": c, "fraction of layers": c / n_layers, "DI": d, "FI": f, "LI": l,
                     "maps without attribution": bad, SEED_DI_COLUMN: theirs[0],
                     SEED_FI_COLUMN: theirs[1]})
    return pd.DataFrame(rows).set_index("layers randomised")


ORDER = "trunk < branch < leaf"
CONTROLLED = "trunk < branch < leaf, relative to the ideal map"
MAPS = "maps with an index (trunk / branch / leaf)"


def _increasing(t: pd.DataFrame, columns: list[str]) -> pd.Series:
    a, b, c = (t[col] for col in columns)
    return (a < b) & (b < c)


def group_table(frame: pd.DataFrame, metric: str = FI, seed: dict | None = None,
                control: pd.DataFrame | None = None, source: str = "ours (synthetic)") -> pd.DataFrame:
    """T05.3: mean of an index per model (rows) and joint group (columns), with whether trunk < branch < leaf;
    the source's numbers (Table C, COCO) below ours when ``seed`` is given.

    control: the geometry control (``attribute.geometry_control``, the ideal maps on the same people): its means per
    group, each model's ratio to them (``<group> / ideal``), and whether the ratios grow from trunk to leaf.

    A map without attribution has no index (NaN in ``frame``) and is left out; a group none of whose maps has one is
    NaN, counted in ``MAPS`` (the maps with an index per group), and no order holds across it."""
    counts = frame.dropna(subset=[metric]).groupby([MODEL, GROUP], sort=False).size().unstack(GROUP)
    counts = counts.reindex(index=frame[MODEL].unique(), columns=list(GROUP_ORDER)).fillna(0).astype(int)
    t = frame.pivot_table(index=MODEL, columns=GROUP, values=metric, aggfunc="mean", sort=False, dropna=False)
    t = t.reindex(index=counts.index, columns=list(GROUP_ORDER))
    t[ORDER] = _increasing(t, list(GROUP_ORDER))
    t[MAPS] = [" / ".join(str(v) for v in row) for row in counts.to_numpy()]
    if control is not None:
        ideal = control.groupby(GROUP)[metric].mean().reindex(list(GROUP_ORDER))
        for g in GROUP_ORDER:
            t[f"{g}, ideal map"] = ideal[g]
        for g in GROUP_ORDER:
            t[f"{g} / ideal"] = t[g] / ideal[g]
        t[CONTROLLED] = _increasing(t, [f"{g} / ideal" for g in GROUP_ORDER])
    t.insert(0, "source", source)
    if seed:
        theirs = pd.DataFrame(seed, index=list(GROUP_ORDER)).T
        theirs[ORDER] = _increasing(theirs, list(GROUP_ORDER))
        theirs.insert(0, "source", "He et al. 2023 (COCO-17 joints, their models)")
        t = pd.concat([t, theirs.rename(index=lambda m: f"{m} (seed)")])
    t.index.name = "model"
    return t


def easy_hard_table(frame: pd.DataFrame, families: dict[str, str], fraction: float = 0.1) -> pd.DataFrame:
    """T05.4 (the source's Table D): per model, the annotated (person, joint) cases in the lowest-error decile
    (easy) and the highest (hard), their mean EPE, DI, FI and LI, and the hard - easy differences."""
    rows = {}
    for model, g in frame.groupby(MODEL, sort=False):
        lo, hi = g[EPE].quantile([fraction, 1 - fraction])
        easy, hard = g[g[EPE] <= lo], g[g[EPE] >= hi]
        row = {"family": families.get(model, ""), "cases per decile": min(len(easy), len(hard))}
        for m in (EPE, DI, FI, LI):
            row[f"{m.upper()} easy"], row[f"{m.upper()} hard"] = easy[m].mean(), hard[m].mean()
        row["DI hard - easy"] = row["DI hard"] - row["DI easy"]
        row["FI hard - easy"] = row["FI hard"] - row["FI easy"]
        rows[model] = row
    t = pd.DataFrame.from_dict(rows, orient="index")
    t.index.name = "model"
    return t


def pair_table(frame: pd.DataFrame, pairs: list[tuple[str, str]], fraction: float = 0.1) -> pd.DataFrame:
    """T05.7: the controlled pairs, one per training seed: an explicit heatmap model and the integral-regression
    model fine-tuned from it (same architecture and start, only the loss differs).  Per pair: DI hard - easy (as in
    T05.4) and the mean LI of both models and their difference (heatmap - integral)."""
    frame = frame[frame[MODEL].isin({m for pair in pairs for m in pair})]  # only the pairs' models
    per_model = pd.DataFrame({"DI hard - easy": easy_hard_table(frame, {}, fraction)["DI hard - easy"],
                              "mean LI": frame.groupby(MODEL, sort=False)[LI].mean()})
    rows = []
    for heatmap, integral in pairs:
        row = {"heatmap model": heatmap, "integral model": integral}
        for name in per_model.columns:
            a, b = per_model.loc[heatmap, name], per_model.loc[integral, name]
            row[f"{name}, heatmap"], row[f"{name}, integral"], row[f"{name}, difference"] = a, b, a - b
        rows.append(row)
    return pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="pair"))


def inversion_table(models: dict[str, dict], js: JointSet, alpha: float) -> pd.DataFrame:
    """T05.5: keypoint inversion per model and relation.

    models: label -> {"pred" (N, J, 2), "gt" (N, J, 2), "annotated" (N, J), "head" (N,), "cross_li" (N, J, J)}
    (cross_li[n, j, k]: LI of joint j's map with joint k's ground-truth Gaussian).  Per relation: inversions,
    their rate among the (person, j, k) cases where both joints are annotated, and the LI of the inverted joints'
    maps with their own joint and with the joint they were predicted at.
    """
    rows = []
    for label, m in models.items():
        found = inversions(m["pred"], m["gt"], m["annotated"], m["head"], alpha, js)
        possible = pair_counts(m["annotated"], js)
        for rel in RELATIONS:
            hit = found[found["relation"] == rel]
            n, j, k = hit["sample"].to_numpy(), hit["joint"].to_numpy(), hit["at"].to_numpy()
            li = m["cross_li"]
            frequent = hit.groupby(["joint", "at"]).size().sort_values(ascending=False, kind="stable").head(3)
            rows.append({"model": label, "relation": rel, "inversions": len(hit),
                         "possible cases": possible[rel], "rate (%)": 100 * len(hit) / max(possible[rel], 1),
                         "LI with own joint": float(np.nanmean(li[n, j, j])) if len(hit) else np.nan,
                         "LI with the joint predicted at": float(np.nanmean(li[n, j, k])) if len(hit) else np.nan,
                         "most frequent": ", ".join(f"{js.labels[a]} at {js.labels[b]} ({c})"
                                                    for (a, b), c in frequent.items())})
    return pd.DataFrame(rows).set_index(["model", "relation"])


def error_correlations(frame: pd.DataFrame) -> pd.DataFrame:
    """Per model: Spearman correlation, over joints, of the mean FI and the mean LI with the mean EPE (Fig. E)."""
    rows = {}
    for model, g in frame.groupby(MODEL, sort=False):
        per_joint = g.groupby(JOINT)[[EPE, FI, LI]].mean()
        rows[model] = {f"{m.upper()} vs EPE (Spearman)": stats.spearmanr(per_joint[m], per_joint[EPE]).statistic
                       for m in (FI, LI)}
    return pd.DataFrame.from_dict(rows, orient="index")


def headline_numbers(t051: pd.DataFrame, t052: pd.DataFrame, t053: pd.DataFrame, t056: pd.DataFrame,
                     completeness: pd.DataFrame, main: str) -> list[tuple[str, float | str, str, str]]:
    """(name, value, unit, note) for the report's front page."""
    trained, last = t052.iloc[0], t052.iloc[-1]
    ours = t053[t053["source"].str.startswith("ours")]
    over_authors, over_frozen = best_speedups(t056)
    return [
        ("R_E, lowest over joint types and masks", float(np.nanmin(t051.drop(columns=[*GROUP_ORDER, "all joints"]))),
         "", f"{main}; seed: 1.57-5.17"),
        ("R_E, all joints pooled, mean over masks", float(t051["all joints"].mean()), "", main),
        ("DI, trained -> all layers randomised", f"{trained['DI']:.1f} -> {last['DI']:.1f}", "",
         f"{main}; seed: 13.6 -> 21.1"),
        ("FI, trained -> all layers randomised", f"{trained['FI']:.2f} -> {last['FI']:.2f}", "",
         f"{main}; seed: 1.38 -> 0.88"),
        ("models with FI trunk < branch < leaf", f"{int(ours[ORDER].sum())} of {len(ours)}", "",
         "raw means; seed: 6 of 6"),
        *([("models with FI trunk < branch < leaf, relative to the ideal map", f"{int(ours[CONTROLLED].sum())} of "
            f"{len(ours)}", "", "each group's FI over a perfectly local map's on the same people")]
          if CONTROLLED in ours else []),
        ("batched attribution, speed-up over the authors' loop", over_authors, "x",
         f"{t056.attrs.get('joints', '')} joints, {t056.attrs.get('steps', '')} steps, {t056.attrs.get('device', '')}; "
         "their code as published"),
        ("batched attribution, speed-up over the loop with frozen weights", over_frozen, "x",
         "the same loop computing input gradients only"),
        ("blur-path completeness gap, median over models", float(completeness["median relative gap"].median()), "",
         "|sum A - (f(x) - f(blurred))| / |f(x) - f(blurred)|"),
    ]
