"""Notebook 05's tables (T05.1-T05.5, T05.7) and the verdicts on the claims of He et al. 2023.

Every function takes the arrays the study computed (``poselab.studies.poseig.attribute``) and returns a table;
``findings`` turns them into one ``Finding`` per claim: what the authors report, what we measure, and whether
our number supports it.  The published numbers are theirs (SimpleBaseline and others on COCO).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from poselab.data.joints import JointSet
from poselab.evaluation.stats import paired
from poselab.findings import DOES_NOT, SUPPORTS, UNRESOLVED, Finding, verdict
from poselab.references import cite
from poselab.studies.poseig.attribute import best_speedups
from poselab.studies.poseig.joints import GROUP_ORDER, RELATIONS, inversions, joint_groups, pair_counts
from poselab.studies.poseig.perturbation import MASKS

# He et al. 2023, suppl. Table A (R_E, SimpleBaseline-ResNet50 on COCO), Table B, Table C and Table D.
SEED_RE_RANGE = (1.57, 5.17)
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


def perturbation_table(origin: np.ndarray, attr: np.ndarray, rand: np.ndarray, annotated: np.ndarray,
                       js: JointSet) -> pd.DataFrame:
    """T05.1: R_E per mask (rows) and joint type / group (columns), pooled over the people and the joints of a
    column as a ratio of mean absolute error changes.  origin (N, J), attr and rand (N, M, J), annotated (N, J)."""
    w = np.asarray(annotated, float)[:, None, :]
    num = np.abs(attr - origin[:, None]) * w  # (N, M, J)
    den = np.abs(rand - origin[:, None]) * w
    cols = {}
    for kind, idx in _kinds(js).items():
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[kind] = num[:, :, idx].sum((0, 2)) / den[:, :, idx].sum((0, 2))
    table = pd.DataFrame(cols, index=list(MASKS))
    table.index.name = "mask"
    return table


def randomization_table(counts: list[int], n_layers: int, di: list[float], fi: list[float], li: list[float],
                        degenerate: list[int]) -> pd.DataFrame:
    """T05.2: mean DI, FI and LI after randomising ``counts`` of ``n_layers`` convolutions (0 = trained), with the
    He et al.'s Table B at the same fraction of the network where it has one."""
    seed_at = {round(c / 54, 6): (d, f) for c, d, f in zip(*SEED_RANDOMIZATION.values(), strict=True)}
    rows = []
    for c, d, f, l, bad in zip(counts, di, fi, li, degenerate, strict=True):
        theirs = seed_at.get(round(c / n_layers, 6), (np.nan, np.nan))
        rows.append({"layers randomised": c, "fraction of layers": c / n_layers, "DI": d, "FI": f, "LI": l,
                     "maps without attribution": bad, SEED_DI_COLUMN: theirs[0],
                     SEED_FI_COLUMN: theirs[1]})
    return pd.DataFrame(rows).set_index("layers randomised")


ORDER = "trunk < branch < leaf"
CONTROLLED = "trunk < branch < leaf, relative to the ideal map"


def _increasing(t: pd.DataFrame, columns: list[str]) -> pd.Series:
    a, b, c = (t[col] for col in columns)
    return (a < b) & (b < c)


def group_table(frame: pd.DataFrame, metric: str = "fi", seed: dict | None = None,
                control: pd.DataFrame | None = None, source: str = "ours (synthetic)") -> pd.DataFrame:
    """T05.3: mean of an index per model (rows) and joint group (columns), with whether trunk < branch < leaf;
    the source's numbers (Table C, COCO) below ours when ``seed`` is given.

    control: the geometry control (``attribute.geometry_control``, the ideal maps on the same people): its means per
    group, each model's ratio to them (``<group> / ideal``), and whether the ratios grow from trunk to leaf."""
    t = frame.pivot_table(index="model", columns="group", values=metric, aggfunc="mean", sort=False)
    t = t[list(GROUP_ORDER)]
    t[ORDER] = _increasing(t, list(GROUP_ORDER))
    if control is not None:
        ideal = control.groupby("group")[metric].mean()
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
    for model, g in frame.groupby("model", sort=False):
        lo, hi = g["epe"].quantile([fraction, 1 - fraction])
        easy, hard = g[g["epe"] <= lo], g[g["epe"] >= hi]
        row = {"family": families.get(model, ""), "cases per decile": min(len(easy), len(hard))}
        for m in ("epe", "di", "fi", "li"):
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
    frame = frame[frame["model"].isin({m for pair in pairs for m in pair})]  # only the pairs' models
    per_model = pd.DataFrame({"DI hard - easy": easy_hard_table(frame, {}, fraction)["DI hard - easy"],
                              "mean LI": frame.groupby("model", sort=False)["li"].mean()})
    rows = []
    for heatmap, integral in pairs:
        row = {"heatmap model": heatmap, "integral model": integral}
        for name in per_model.columns:
            a, b = per_model.loc[heatmap, name], per_model.loc[integral, name]
            row[f"{name}, heatmap"], row[f"{name}, integral"], row[f"{name}, difference"] = a, b, a - b
        rows.append(row)
    return pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="pair"))


def pair_verdict(t057: pd.DataFrame, name: str, alpha: float = 0.05) -> tuple[str, str, str]:
    """(verdict, ours, test) for "the heatmap model's ``name`` exceeds its integral counterpart's" over the pairs of
    T05.7: the paired t-test over the seeds decides (supports: mean difference > 0 at p < alpha; does not support:
    < 0 at p < alpha; otherwise not resolved); a single pair is judged by the sign of its difference."""
    diff = t057[f"{name}, difference"].to_numpy(float)
    mean, t, p = paired(t057[f"{name}, heatmap"], t057[f"{name}, integral"])
    value = "{:+.2f}" if name.startswith("DI") else "{:.2f}"  # a difference of DI has a sign, an LI has not
    per_pair = "; ".join(f"{r['heatmap model']} {value.format(r[f'{name}, heatmap'])} vs {r['integral model']} "
                         f"{value.format(r[f'{name}, integral'])}" for _, r in t057.iterrows())
    if len(diff) < 2:
        return (SUPPORTS if mean > 0 else DOES_NOT, f"{per_pair} (one pair: no seed spread)",
                "heatmap - integral > 0 for the one pair (no seeds to test it over)")
    significant = p < alpha
    outcome = (SUPPORTS if mean > 0 else DOES_NOT) if significant else UNRESOLVED
    ours = (f"difference {mean:+.2f} ± {diff.std(ddof=1):.2f} over {len(diff)} seed pairs (paired t = {t:.2f}, "
            f"p = {p:.3f}); {per_pair}")
    return outcome, ours, f"mean heatmap - integral difference > 0 in a paired t-test over the seeds at p < {alpha}"


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
    for model, g in frame.groupby("model", sort=False):
        per_joint = g.groupby("joint")[["epe", "fi", "li"]].mean()
        rows[model] = {f"{m.upper()} vs EPE (Spearman)": stats.spearmanr(per_joint[m], per_joint["epe"]).statistic
                       for m in ("fi", "li")}
    return pd.DataFrame.from_dict(rows, orient="index")


def _along_the_chain(groups: pd.DataFrame, digits: int) -> tuple[str, str]:
    """(ours, verdict) of "the index grows from trunk to branch to leaf for every model" on a ``group_table``: judged
    on each model's index relative to the ideal map's (the geometry control) where the table has it, with the raw
    means and their verdict beside it."""

    def chain(column: str, suffix: str, fmt: str) -> tuple[int, str]:
        n = int(groups[column].sum())
        means = "; ".join(f"{m}: " + " / ".join(f"{r[g + suffix]:{fmt}}" for g in GROUP_ORDER)
                          for m, r in groups.iterrows())
        return n, f"{n} of {len(groups)} models ({means})"

    raw_n, raw = chain(ORDER, "", f".{digits}f")
    raw_verdict = verdict(raw_n == len(groups), raw_n > 0)
    if CONTROLLED not in groups:
        return raw, raw_verdict
    n, controlled = chain(CONTROLLED, " / ideal", ".3f")
    ideal = " / ".join(f"{groups[f'{g}, ideal map'].iloc[0]:.{digits}f}" for g in GROUP_ORDER)
    return (f"relative to the ideal map (trunk / branch / leaf {ideal}): {controlled}. Raw means: {raw}, verdict "
            f"on the raw means: {raw_verdict}", verdict(n == len(groups), n > 0))


def findings(t051: pd.DataFrame, t052: pd.DataFrame, t053: pd.DataFrame, t054: pd.DataFrame,
             frame: pd.DataFrame, families: dict[str, str], baselines: pd.DataFrame | None = None,
             t057: pd.DataFrame | None = None, alpha: float = 0.05,
             control: pd.DataFrame | None = None) -> list[Finding]:
    """One finding per claim of He et al. 2023: the claim, their number, ours, and whether ours supports it.

    t051 perturbation_table; t052 randomization_table; t053 group_table of FI; t054 easy_hard_table; frame the
    long per-(model, person, joint) table; families model -> family; baselines: F05.1's table
    (``sanity.baseline_comparison``: FI per person paint and method; here pivoted to rows
    "black", "white") and method (columns "white baseline", "black baseline", "blur path", ...); t057 pair_table:
    the controlled heatmap / integral-regression pairs, one per training seed; control: the geometry control
    (``attribute.geometry_control``), on which the trunk / branch / leaf claims are judged when T05.3 has it.  The
    heatmap-vs-regression claims are judged on these pairs by a paired t-test over the seeds (``pair_verdict``), with
    the family means of T05.4 beside them.
    """
    pairs = t057 is not None and len(t057) > 0
    correlations = error_correlations(frame)
    rows = []
    joint_cols = [c for c in t051.columns if c not in (*GROUP_ORDER, "all joints")]
    re_min = float(np.nanmin(t051[joint_cols].to_numpy()))
    worst = t051[joint_cols].stack().idxmin()
    rows.append({"source": "suppl. A.3, Table A",
                 "claim": "R_E > 1 for every joint and mask (perturbation test, T05.1)",
                 "published": f"{SEED_RE_RANGE[0]}–{SEED_RE_RANGE[1]} (SimpleBaseline-ResNet50, COCO)",
                 "ours": f"{re_min:.2f}–{float(np.nanmax(t051[joint_cols].to_numpy())):.2f}; lowest: {worst[1]} with "
                         f"{worst[0]}",
                 "verdict": verdict(re_min > 1, bool((t051["all joints"] > 1).all())),
                 "test": "lowest R_E over joints and masks > 1; partly if every mask's all-joint R_E > 1"})
    trained, last = t052.iloc[0], t052.iloc[-1]
    rho_di = stats.spearmanr(t052.index, t052["DI"]).statistic
    rho_fi = stats.spearmanr(t052.index, t052["FI"]).statistic
    # the claim: every randomised model's maps are more diffuse (less on the person) than the trained model's
    rows.append({"source": "suppl. A.4, Table B",
                 "claim": "DI rises as more layers are randomised (T05.2)",
                 "published": f"{SEED_RANDOMIZATION['DI'][0]} → {SEED_RANDOMIZATION['DI'][-1]}",
                 "ours": f"{trained['DI']:.2f} (trained) → {last['DI']:.2f} (all layers); Spearman {rho_di:+.2f}",
                 "verdict": verdict(bool((t052["DI"].iloc[1:] > trained["DI"]).all()), last["DI"] > trained["DI"]),
                 "test": "DI of every randomised stage above the trained model's; partly if only the last one's is"})
    rows.append({"source": "suppl. A.4, Table B",
                 "claim": "FI falls as more layers are randomised (T05.2)",
                 "published": f"{SEED_RANDOMIZATION['FI'][0]} → {SEED_RANDOMIZATION['FI'][-1]}",
                 "ours": f"{trained['FI']:.3f} (trained) → {last['FI']:.3f} (all layers); Spearman {rho_fi:+.2f}",
                 "verdict": verdict(bool((t052["FI"].iloc[1:] < trained["FI"]).all()), last["FI"] < trained["FI"]),
                 "test": "FI of every randomised stage below the trained model's; partly if only the last one's is"})
    ours_rows = t053[t053["source"].str.startswith("ours")]
    relative = CONTROLLED in t053 and control is not None
    judged = ("each model's mean {} relative to the ideal map's (the geometry control) trunk < branch < leaf for every "
              "model; partly if for some (the raw means' verdict beside it)" if relative else
              "mean {} trunk < branch < leaf for every model; partly if for some")
    ours, fi_verdict = _along_the_chain(ours_rows, 2)
    rows.append({"source": "suppl. B.2, Table C",
                 "claim": "FI grows from trunk to branch to leaf joints, for every model (T05.3)",
                 "published": "every one of 6 models (COCO)", "ours": ours, "verdict": fi_verdict,
                 "test": judged.format("FI")})
    ours, li_verdict = _along_the_chain(group_table(frame, "li", control=control if relative else None), 1)
    rows.append({"source": "suppl. B.2",
                 "claim": "LI grows from trunk to leaf joints: the model uses more local evidence down the chain "
                          "(B.2; the caption of the source's Fig. F says the opposite)",
                 "published": "text of B.2 (COCO)", "ours": ours, "verdict": li_verdict,
                 "test": judged.format("LI")})
    di_up = int((t054["DI hard - easy"] > 0).sum())
    fi_down = int((t054["FI hard - easy"] < 0).sum())
    rows.append({"source": "suppl. C.1, Table D",
                 "claim": "Hard cases (highest-EPE decile) have higher DI and lower FI than easy ones (T05.4)",
                 "published": "DI +2.2 to +4.0, FI −0.41 to −0.52 for all 6 models",
                 "ours": f"DI higher for {di_up}, FI lower for {fi_down} of {len(t054)} models; "
                         + "; ".join(f"{m}: DI {r['DI hard - easy']:+.2f}, FI {r['FI hard - easy']:+.3f}"
                                     for m, r in t054.iterrows()),
                 "verdict": verdict(di_up == fi_down == len(t054), di_up + fi_down > 0),
                 "test": "DI hard - easy > 0 and FI hard - easy < 0 for every model; partly if either for "
                         "any"})
    if pairs:
        gap = t054.groupby("family")["DI hard - easy"].mean()
        outcome, ours, test = pair_verdict(t057, "DI hard - easy", alpha)
        rows.append({"source": "suppl. C.1, Table D",
                     "claim": "The easy-hard difference of DI is larger for explicit heatmap models than for "
                              "integral regression (T05.4, T05.7)",
                     "published": "DI +3.58 to +4.03 (explicit) vs +2.68 (integral)",
                     "ours": f"{ours}; family means (T05.4): " + ", ".join(f"{f} {v:+.2f}" for f, v in gap.items()),
                     "verdict": outcome, "test": test})
        li = frame.groupby("model", sort=False)["li"].mean()
        by_family = li.groupby(pd.Series(families)).mean()
        outcome, ours, test = pair_verdict(t057, "mean LI", alpha)
        rows.append({"source": "suppl. C.1, Fig. F",
                     "claim": "Explicit heatmap models have a larger mean LI than integral regression (C.1, T05.7)",
                     "published": "Fig. F (COCO): HRNet, SimpleBaseline, TransPose above Integral and RLE",
                     "ours": f"{ours}; family means: " + ", ".join(f"{f} {v:.2f}" for f, v in by_family.items()),
                     "verdict": outcome, "test": test})
    li_stronger = int((correlations["LI vs EPE (Spearman)"].abs() > correlations["FI vs EPE (Spearman)"].abs()).sum())
    rows.append({"source": "suppl. B.2, Fig. E",
                 "claim": "Accuracy of human pose models relates more to LI than to FI (Fig. E)",
                 "published": "qualitative (scatter plots, COCO)",
                 "ours": f"|rho(LI, EPE)| > |rho(FI, EPE)| for {li_stronger} of {len(correlations)} models; "
                         f"median rho: LI {correlations['LI vs EPE (Spearman)'].median():+.2f}, "
                         f"FI {correlations['FI vs EPE (Spearman)'].median():+.2f}",
                 "verdict": verdict(li_stronger == len(correlations), li_stronger > len(correlations) / 2),
                 "test": "|rho(LI, EPE)| > |rho(FI, EPE)| over the joints for every model; partly if for most"})
    if baselines is not None:
        baselines = baselines.pivot(index="person", columns="method", values="FI")
        own = {"black": "black baseline", "white": "white baseline"}
        cases = [(p, baselines.loc[p, own[p]], baselines.loc[p, "blur path"]) for p in own if p in baselines.index]
        lower = sum(fi_solid < fi_blur for _, fi_solid, fi_blur in cases)
        rows.append({"source": "suppl. A.1, Fig. A",
                     "claim": "A solid-colour baseline overlooks pixels of its own colour: a person painted in it "
                              "loses attribution (F05.1)",
                     "published": "qualitative (Fig. A)",
                     "ours": "; ".join(f"{p} person: FI {a:.2f} with the {p} baseline vs {b:.2f} on the blur path"
                                       for p, a, b in cases),
                     "verdict": verdict(lower == len(cases), lower > 0),
                     "test": "FI lower with the same-colour baseline than on the blur path for each paint; partly "
                             "if for one"})
    return [Finding(r["claim"], cite("he2023", r["source"]), r["published"], r["ours"], r["verdict"], r["test"])
            for r in rows]


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
