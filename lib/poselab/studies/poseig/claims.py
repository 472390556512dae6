"""The decisions on He et al.'s (2023) claims, one function per claim, each called in the notebook cell that makes the
claim's table and shown under it.  An interval bound within one unit of the last digit shown (0.01 for R_E, DI and
the correlations, 0.001 for FI and the ratios) of its threshold is a tie: not resolved, since rounding could flip it.

A claim about people (R_E, the randomisation trend, the joint groups, easy and hard cases, the correlation with the
error) is judged on the bootstrap 95 % interval over the people explained (``poselab.evaluation.stats``: SciPy's
bootstrap, resampling people with every one of their joints); a claim about a kind of model (heatmap against integral
regression) on the Student's t interval over the training seeds of the controlled pairs.  A claim "for every model"
(or mask) is decided per member and combined by ``poselab.findings.every``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from poselab.data.joints import JointSet
from poselab.evaluation.stats import bootstrap_interval, seed_interval
from poselab.findings import DOES_NOT, SUPPORTS, UNRESOLVED, Finding, Interval, decide, every
from poselab.references import cite
from poselab.studies.poseig.attribute import DI, EPE, FI, GROUP, JOINT, LI, MODEL, SAMPLE
from poselab.studies.poseig.joints import GROUP_ORDER, joint_groups
from poselab.studies.poseig.perturbation import MASKS
from poselab.studies.poseig.sanity import PERSON, PerturbationErrors, Randomization

MORE_PEOPLE = "more people explained (the images knob), or real data (COCO with the official checkpoints)"
MORE_PAIRS = "more seeds of notebook 02's hourglasses, hence more controlled pairs"
SEED_RE_RANGE = (1.57, 5.17)  # He et al. 2023, suppl. Table A (SimpleBaseline-ResNet50, COCO)


def _source(where: str) -> str:
    return cite("he2023", where)


def _both(verdicts: list[str]) -> str:
    """A member's verdict on a claim made of two parts that must both hold."""
    if all(v == SUPPORTS for v in verdicts):
        return SUPPORTS
    return DOES_NOT if DOES_NOT in verdicts else UNRESOLVED


def _resolve(verdict: str, what: str = MORE_PEOPLE) -> str:
    return what if verdict == UNRESOLVED else ""


# --- A.3, Table A: the perturbation test --------------------------------------------------------------------------


def re_above_one(errors: PerturbationErrors, annotated: np.ndarray, js: JointSet, seed: int = 0) -> Finding:
    """“R_E > 1 for every joint and mask”: for every mask and kinematic group (trunk, branch, leaf), R_E pooled over
    the group's annotated joints and its bootstrap interval over the people must lie above 1."""
    w = np.asarray(annotated, float)[:, None, :]
    num = np.abs(errors.attr - errors.origin[:, None]) * w  # (N, M, J)
    den = np.abs(errors.rand - errors.origin[:, None]) * w
    groups = joint_groups(js)
    cells, verdicts = [], []
    for m, mask in enumerate(MASKS):
        for g in GROUP_ORDER:
            jj = groups == g
            n_p, d_p = num[:, m][:, jj].sum(1), den[:, m][:, jj].sum(1)  # per person

            def ratio(idx, n_p=n_p, d_p=d_p):
                return n_p[idx].sum() / d_p[idx].sum() if d_p[idx].sum() > 0 else np.nan

            iv = bootstrap_interval(ratio, len(n_p), "people", seed)
            cells.append(f"{mask} {g} {iv.text('{:.2f}')}")
            verdicts.append(decide(iv, 1.0, tie=0.01))
    verdict = every(verdicts)
    return Finding("R_E > 1 for every mask and joint (perturbation test, T05.1)", _source("suppl. A.3, Table A"),
                   f"{SEED_RE_RANGE[0]}–{SEED_RE_RANGE[1]} (SimpleBaseline-ResNet50, COCO)", "; ".join(cells), verdict,
                   "for every mask and kinematic group, the bootstrap 95 % interval over the people of R_E (pooled "
                   "over the group's joints) above 1", resolve=_resolve(verdict))


# --- A.4, Table B: the randomisation test -------------------------------------------------------------------------


def _stage_change(rnd: Randomization, annotated: np.ndarray, index: str, seed: int) -> Interval:
    """The people's mean ``index`` with every layer randomised minus with none, and its interval over the people
    (people whose maps all lack attribution at either end left out)."""
    ann = np.asarray(annotated, bool)
    first, last = (np.where(ann, getattr(s, index), np.nan) for s in (rnd.stages[0], rnd.stages[-1]))
    with warnings.catch_warnings():  # a person without any attributable map has no mean: left out below
        warnings.simplefilter("ignore", RuntimeWarning)
        change = np.nanmean(last, 1) - np.nanmean(first, 1)
    change = change[np.isfinite(change)]
    return bootstrap_interval(lambda idx: change[idx].mean(), len(change), "people", seed)


def di_rises(rnd: Randomization, annotated: np.ndarray, seed: int = 0) -> Finding:
    """“DI rises as more layers are randomised”: the people's mean DI with every convolution randomised minus the
    trained model's, its interval over the people above 0."""
    iv = _stage_change(rnd, annotated, DI, seed)
    verdict = decide(iv, 0.0, tie=0.01)
    return Finding("DI rises as more layers are randomised (T05.2)", _source("suppl. A.4, Table B"),
                   "13.58 → 21.06", f"DI all layers randomised minus trained {iv.text('{:+.2f}')}", verdict,
                   "bootstrap 95 % interval over the people of the change of their mean DI above 0",
                   resolve=_resolve(verdict))


def fi_falls(rnd: Randomization, annotated: np.ndarray, seed: int = 0) -> Finding:
    """“FI falls as more layers are randomised”: the change of the people's mean FI, its interval below 0."""
    iv = _stage_change(rnd, annotated, FI, seed)
    verdict = decide(iv, 0.0, above=False, tie=0.001)
    return Finding("FI falls as more layers are randomised (T05.2)", _source("suppl. A.4, Table B"),
                   "1.375 → 0.884", f"FI all layers randomised minus trained {iv.text('{:+.3f}')}", verdict,
                   "bootstrap 95 % interval over the people of the change of their mean FI below 0",
                   resolve=_resolve(verdict))


# --- B.2, Table C: trunk, branch and leaf ---------------------------------------------------------------------------


def _per_person(frame: pd.DataFrame, metric: str, people: int) -> tuple[np.ndarray, np.ndarray]:
    """(sums, counts) of ``metric`` per person and joint group, (people, 3), over the cases that have it."""
    f = frame.dropna(subset=[metric])
    sums, counts = np.zeros((people, len(GROUP_ORDER))), np.zeros((people, len(GROUP_ORDER)))
    g = f[GROUP].map({name: k for k, name in enumerate(GROUP_ORDER)}).to_numpy(int)
    p = f[SAMPLE].to_numpy(int)  # (an empty frame, every map without attribution, is an empty int array)
    np.add.at(sums, (p, g), f[metric].to_numpy(float))
    np.add.at(counts, (p, g), 1)
    return sums, counts


@dataclass(frozen=True)
class ChainResult:
    """One model's steps along the kinematic chain: branch / ideal minus trunk / ideal, leaf / ideal minus branch /
    ideal, each with its interval over the people, and the model's verdict (both above 0)."""

    model: str
    steps: tuple[Interval, Interval]
    verdict: str


def chain(frame: pd.DataFrame, control: pd.DataFrame, metric: str, people: int, seed: int = 0) -> list[ChainResult]:
    """Per model, ``metric``'s group means relative to the ideal map's on the same people (the geometry control:
    ``attribute.geometry_control``), and whether they grow from trunk to branch to leaf."""
    ideal_s, ideal_c = _per_person(control, metric, people)
    out = []
    for model, f in frame.groupby(MODEL, sort=False):
        s, c = _per_person(f, metric, people)

        def relative(idx, s=s, c=c):
            with np.errstate(all="ignore"):
                return (s[idx].sum(0) / c[idx].sum(0)) / (ideal_s[idx].sum(0) / ideal_c[idx].sum(0))

        steps = tuple(bootstrap_interval(lambda idx, k=k, relative=relative: float(np.diff(relative(idx))[k]), people,
                                         "people", seed) for k in (0, 1))
        out.append(ChainResult(str(model), steps, _both([decide(iv, 0.0, tie=0.001) for iv in steps])))
    return out


def grows_along_chain(results: list[ChainResult], metric: str, claim: str, where: str, published: str) -> Finding:
    """“``metric`` grows from trunk to branch to leaf for every model”, relative to the ideal map (the geometry
    control: a perfectly local map's own order comes from the silhouettes, not from the network)."""
    verdict = every(r.verdict for r in results)
    ours = "; ".join(f"{r.model}: branch - trunk {r.steps[0].text('{:+.3f}')}, leaf - branch "
                     f"{r.steps[1].text('{:+.3f}')} ({r.verdict})" for r in results)
    return Finding(claim, _source(where), published, f"relative to the ideal map: {ours}", verdict,
                   f"for every model, the bootstrap 95 % intervals over the people of both steps of its "
                   f"{metric.upper()} relative to the ideal map's above 0", resolve=_resolve(verdict))


# --- C.1, Table D: easy and hard cases ------------------------------------------------------------------------------


def hard_minus_easy(frame: pd.DataFrame, people: int, fraction: float = 0.1, seed: int = 0) -> Finding:
    """“Hard cases have a higher DI and a lower FI”: per model, the cases in the lowest and highest EPE deciles (fixed
    on all people, as T05.4), the hard - easy difference of mean DI (above 0) and of mean FI (below 0), each with its
    interval over the people (a resample keeps each drawn person's cases)."""
    verdicts, parts = [], []
    for model, f in frame.groupby(MODEL, sort=False):
        lo, hi = f[EPE].quantile([fraction, 1 - fraction])
        easy, hard = (f[EPE] <= lo).to_numpy(), (f[EPE] >= hi).to_numpy()
        who = f[SAMPLE].to_numpy(int)
        ivs = []
        for metric in (DI, FI):
            v = f[metric].to_numpy(float)
            per = {name: (np.bincount(who[sel & np.isfinite(v)], v[sel & np.isfinite(v)], people),
                          np.bincount(who[sel & np.isfinite(v)], minlength=people))
                   for name, sel in (("easy", easy), ("hard", hard))}

            def diff(idx, per=per):
                (es, ec), (hs, hc) = per["easy"], per["hard"]
                return hs[idx].sum() / hc[idx].sum() - es[idx].sum() / ec[idx].sum()

            ivs.append(bootstrap_interval(diff, people, "people", seed))
        v = _both([decide(ivs[0], 0.0, tie=0.01), decide(ivs[1], 0.0, above=False, tie=0.001)])
        verdicts.append(v)
        parts.append(f"{model}: DI {ivs[0].text('{:+.2f}')}, FI {ivs[1].text('{:+.3f}')} ({v})")
    verdict = every(verdicts)
    return Finding("Hard cases (highest-EPE decile) have higher DI and lower FI than easy ones (T05.4)",
                   _source("suppl. C.1, Table D"), "DI +2.2 to +4.0, FI −0.41 to −0.52 for all 6 models",
                   "hard - easy: " + "; ".join(parts), verdict,
                   "for every model, the bootstrap 95 % intervals over the people of hard - easy DI above 0 and of "
                   "hard - easy FI below 0", resolve=_resolve(verdict))


# --- C.1: heatmap against integral regression, over the seeds' controlled pairs -------------------------------------


def heatmap_exceeds_integral(differences: np.ndarray, name: str, claim: str, where: str, published: str,
                             per_pair: str) -> Finding:
    """“The heatmap model's ``name`` exceeds its integral-regression twin's”: the per-seed pair differences (heatmap -
    integral) and their Student's t interval over the seeds, above 0."""
    iv = seed_interval(differences)
    verdict = decide(iv, 0.0, tie=0.01)
    return Finding(claim, _source(where), published, f"heatmap - integral {name} {iv.text('{:+.2f}')}; {per_pair}",
                   verdict, f"{iv.method} 95 % interval of the paired differences above 0",
                   resolve=_resolve(verdict, MORE_PAIRS))


# --- B.2, Fig. E: the indices against the error ---------------------------------------------------------------------


def _joint_means(frame: pd.DataFrame, js: JointSet, people: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(sums, counts) per person and joint, (people, J), of the error and the two indices."""
    order = {name: k for k, name in enumerate(js.labels)}
    j = frame[JOINT].map(order).to_numpy(int)
    p = frame[SAMPLE].to_numpy(int)
    out = {}
    for metric in (EPE, FI, LI):
        v = frame[metric].to_numpy(float)
        ok = np.isfinite(v)
        s, c = np.zeros((people, js.n_joints)), np.zeros((people, js.n_joints))
        np.add.at(s, (p[ok], j[ok]), v[ok])
        np.add.at(c, (p[ok], j[ok]), 1)
        out[metric] = (s, c)
    return out


def li_beats_fi(frame: pd.DataFrame, js: JointSet, people: int, seed: int = 0) -> Finding:
    """“Accuracy relates more to LI than to FI”: per model, |Spearman(LI, EPE)| - |Spearman(FI, EPE)| over the joints'
    means, with its interval over the people (the joints' means recomputed from each resample), above 0."""
    verdicts, parts = [], []
    for model, f in frame.groupby(MODEL, sort=False):
        sums = _joint_means(f, js, people)

        def gap(idx, sums=sums):
            means = {}
            with np.errstate(all="ignore"):
                for k, (s, c) in sums.items():
                    means[k] = s[idx].sum(0) / c[idx].sum(0)
            ok = np.isfinite(means[EPE]) & np.isfinite(means[FI]) & np.isfinite(means[LI])
            if ok.sum() < 3:
                return np.nan
            rho = {k: stats.spearmanr(means[k][ok], means[EPE][ok]).statistic for k in (FI, LI)}
            return abs(rho[LI]) - abs(rho[FI])

        iv = bootstrap_interval(gap, people, "people", seed)
        v = decide(iv, 0.0, tie=0.01)
        verdicts.append(v)
        parts.append(f"{model} {iv.text('{:+.2f}')}")
    verdict = every(verdicts)
    return Finding("Accuracy of human pose models relates more to LI than to FI (Fig. E)",
                   _source("suppl. B.2, Fig. E"), "qualitative (scatter plots, COCO)",
                   "|rho(LI, EPE)| - |rho(FI, EPE)| over the joints: " + "; ".join(parts), verdict,
                   "for every model, the bootstrap 95 % interval over the people of |Spearman(LI, EPE)| - "
                   "|Spearman(FI, EPE)| (over the joints' means) above 0", resolve=_resolve(verdict))


# --- A.1, Fig. A: solid-colour baselines ----------------------------------------------------------------------------


def solid_baselines_overlook(table: pd.DataFrame, alpha: float = 0.05) -> Finding:
    """“A solid-colour baseline overlooks pixels of its own colour”: over every (person, paint) case of F05.1's table
    (``sanity.baseline_comparison``: FI per person, paint and method), whether the same-colour baseline's FI is below
    the blur path's; decided by SciPy's exact binomial test against chance (one-sided, ``alpha``): supports when the
    cases are lower more often than chance allows, does not support when higher more often, else not resolved."""
    own = {"black": "black baseline", "white": "white baseline"}
    fi = table.pivot_table(index=[PERSON, "paint"], columns="method", values="FI")
    lower = np.array([fi.loc[(p, paint), own[paint]] < fi.loc[(p, paint), "blur path"] for p, paint in fi.index])
    n, k = len(lower), int(lower.sum())
    p_lower = stats.binomtest(k, n, 0.5, alternative="greater").pvalue
    p_higher = stats.binomtest(k, n, 0.5, alternative="less").pvalue
    verdict = SUPPORTS if p_lower < alpha else DOES_NOT if p_higher < alpha else UNRESOLVED
    return Finding("A solid-colour baseline overlooks pixels of its own colour: a person painted in it loses "
                   "attribution (F05.1)", _source("suppl. A.1, Fig. A"), "qualitative (Fig. A)",
                   f"FI lower with the same-colour baseline than on the blur path in {k} of {n} (person, paint) cases "
                   f"(binomial p = {p_lower:.3f})", verdict,
                   f"exact one-sided binomial test of the cases against chance at p < {alpha}",
                   resolve=_resolve(verdict, "more painted people (F05.1's people knob)"))
