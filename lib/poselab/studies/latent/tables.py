"""Notebook 04's tables (T04.1 silhouette per K, T04.2 what the clusters mean, T04.4 which K and how much structure),
the decisions on the claims of “Understanding the Model” §1.3-1.4, and the front-page numbers.

The claims are about a trained hourglass, so each is judged over the training seeds of notebook 02's main model
(``SeedClusters``, one per seed, all on the same samples) and, within a seed, over the samples.  Two intervals, each
on one side of the claim's threshold or not: every replicate's (one sample set of one seed) bootstrap interval over
the samples (``poselab.evaluation.stats.bootstrap_interval``, the clusterings held fixed), and each sample set's
Student's t interval over the seeds of the per-seed values (``seed_interval``: the samples are the same for every
seed, so only this one sees how much another training would move the number).  The claim is supported (or not) when
every one of them agrees, else not resolved (``poselab.findings.agree``): one seed's model clustering differently from
the others' is no finding either way.

Which K wins is read only after the silhouette's size (Kaufman and Rousseeuw 1990): at or below 0.25 there is no
substantial cluster structure to count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score

from poselab.data.synthetic.motion import DYNAMIC_ACTIONS
from poselab.evaluation.stats import bootstrap_interval, seed_interval
from poselab.findings import UNRESOLVED, Finding, Interval, agree, decide
from poselab.references import cite
from poselab.studies.latent.experiment import COMPLETENESS, ClusterResult, SeedClusters

Seeds = dict[int, SeedClusters]
CLAIMED_K = 2
TIE = 0.001  # a bound within one unit of the third decimal shown of its threshold is a tie (not resolved)
NO_STRUCTURE = 0.25  # Kaufman and Rousseeuw 1990: an average silhouette of at most 0.25 means no substantial structure
KR_SCALE = ((0.70, "strong structure"), (0.50, "reasonable structure"), (NO_STRUCTURE, "weak structure, could be "
            "artificial"), (-1.0, "no substantial structure"))
AMI_VISIBLE = 0.1  # an association between clusters and a label counts as visible from this adjusted MI on
AMI_RESAMPLES = 1000  # each adjusted MI costs milliseconds: fewer resamples than the silhouettes'
MOTION = "action or dynamic vs stationary (the larger)"
MORE = "more training seeds, or more samples per seed (the samples knob)"

# T04.4's columns
BEST_K, BEST_S, READING, GAP = "best K", "best silhouette [95 % interval]", "Kaufman-Rousseeuw reading", \
    f"K = {CLAIMED_K} minus the best other K [95 % interval]"


def kaufman_rousseeuw(s: float) -> str:
    """The reading of an average silhouette width on Kaufman and Rousseeuw's (1990) scale."""
    return next(text for bound, text in KR_SCALE if s > bound)


def silhouette_table(seeds: Seeds) -> pd.DataFrame:
    """T04.1: per K (rows), each sample set's best silhouette over the restarts for every seed, their mean over the
    seeds, and the mean and std over the first seed's restarts."""
    first = next(iter(seeds.values()))
    parts = {}
    for k, r in enumerate(first.sets):
        cols = {f"seed {s}: best": c.sets[k].sweep.table["best"] for s, c in seeds.items()}
        t = pd.DataFrame(cols)
        t["best, mean over seeds"] = t.mean(axis=1)
        t[f"seed {first.seed}: restarts mean"] = r.sweep.table["mean"]
        t[f"seed {first.seed}: restarts std"] = r.sweep.table["std"]
        parts[r.name] = t
    return pd.concat(parts, axis=1)


def meaning_table(results: list[ClusterResult]) -> pd.DataFrame:
    """T04.2: per cluster of each set's best K, what its samples have in common; after each set's
    clusters, one row with the adjusted mutual information of the whole clustering."""
    parts = {}
    for r in results:
        ami = pd.DataFrame([{f"AMI with {k}": v for k, v in r.ami.items()}], index=["whole clustering"])
        parts[r.name] = pd.concat([r.meaning, ami])
    return pd.concat(parts, names=["sample set", "cluster"])


# --- the intervals, per replicate (one sample set of one seed) ----------------------------------------------------


def _silhouettes(r: ClusterResult) -> tuple[list[int], np.ndarray]:
    ks = sorted(r.sweep.samples)
    return ks, np.stack([r.sweep.samples[k] for k in ks])  # (K, N) per-sample silhouettes of each K's best restart


def best_interval(r: ClusterResult, seed: int = 0) -> Interval:
    """The best K's silhouette and its interval over the samples."""
    ks, s = _silhouettes(r)
    best = s[ks.index(r.sweep.best_k)]
    return bootstrap_interval(lambda i: best[i].mean(), len(best), "samples", seed)


def gap_interval(r: ClusterResult, seed: int = 0, k: int = CLAIMED_K) -> Interval | None:
    """Silhouette(K = ``k``) minus the best silhouette of any other K, and its interval over the samples (the same
    resample for every K); None when the sweep has no K = ``k``."""
    ks, s = _silhouettes(r)
    if k not in ks or len(ks) < 2:
        return None
    i = ks.index(k)
    rest = np.delete(np.arange(len(ks)), i)
    return bootstrap_interval(lambda idx: s[i, idx].mean() - s[rest][:, idx].mean(1).max(), s.shape[1], "samples",
                              seed)


def ami_interval(r: ClusterResult, partitions: dict[str, np.ndarray], seed: int = 0) -> Interval:
    """The largest adjusted mutual information of the set's best clustering with any of ``partitions`` (label arrays
    over the set's samples), and its interval over the samples."""
    labels = r.sweep.labels

    def statistic(idx):
        return max(adjusted_mutual_info_score(p[idx], labels[idx]) for p in partitions.values())

    return bootstrap_interval(statistic, len(labels), "samples", seed, AMI_RESAMPLES)


def _completeness(c: SeedClusters) -> dict[str, np.ndarray]:
    return {COMPLETENESS: c.features.annotated[c.random.members].all(1).astype(int)}


def _motion(c: SeedClusters) -> dict[str, np.ndarray]:
    act = c.actions[c.full.members]
    return {"action": act, "dynamic vs stationary action": np.isin(act, list(DYNAMIC_ACTIONS)).astype(int)}


def structure_table(seeds: Seeds) -> pd.DataFrame:
    """T04.4: per sample set and seed, the best K, its silhouette with its interval and its reading on Kaufman and
    Rousseeuw's scale, and K = 2's lead over the best other K with its interval."""
    rows = {}
    for s, c in seeds.items():
        for r in c.sets:
            best, gap = best_interval(r, s), gap_interval(r, s)
            rows[(r.name, f"seed {s}")] = {BEST_K: r.sweep.best_k, BEST_S: best.text(),
                                           READING: kaufman_rousseeuw(best.high), GAP: gap.text() if gap else "-"}
    t = pd.DataFrame.from_dict(rows, orient="index")
    t.index.names = ["sample set", "seed"]
    return t


AMIs = dict[tuple[str, int], Interval]  # (COMPLETENESS or MOTION, seed) -> the AMI and its interval


def ami_intervals(seeds: Seeds) -> AMIs:
    """The adjusted mutual information the two association claims rest on, per seed, with its interval over the
    samples: the random samples' clusters with completeness, the fully annotated samples' with the kind of motion."""
    out = {}
    for s, c in seeds.items():
        out[(COMPLETENESS, s)] = ami_interval(c.random, _completeness(c), s)
        out[(MOTION, s)] = ami_interval(c.full, _motion(c), s)
    return out


def ami_table(amis: AMIs) -> pd.DataFrame:
    """``ami_intervals`` as a table: one row per seed."""
    rows: dict[str, dict[str, str]] = {}
    for (what, s), iv in amis.items():
        where = "random samples" if what == COMPLETENESS else "fully annotated samples"
        rows.setdefault(f"seed {s}", {})[f"{where}: {what}"] = iv.text()
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("AMI [95 % interval]")


# --- the decisions --------------------------------------------------------------------------------------------------


def _replicates(seeds: Seeds) -> str:
    return f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} x 2 sample sets"


def over_seeds(per_replicate: dict[tuple[str, int], Interval | None]) -> dict[str, Interval]:
    """Per sample set (or association), the mean of the seeds' estimates and its Student's t interval over the seeds
    (no interval with fewer than two; a replicate without an estimate leaves its set without one)."""
    sets: dict[str, list[float]] = {}
    for (name, _), iv in per_replicate.items():
        sets.setdefault(name, []).append(float("nan") if iv is None else iv.estimate)
    return {name: seed_interval(np.array(v)) if np.isfinite(v).all() else Interval(float("nan"), float("nan"),
            float("nan"), "a seed without an estimate") for name, v in sets.items()}


def _judged(per_replicate: dict[tuple[str, int], Interval | None], threshold: float) -> tuple[dict[str, Interval], str]:
    """``over_seeds`` of the replicates, and the claim's verdict: ``agree`` over every replicate's interval and every
    sample set's interval over the seeds against ``threshold`` (a replicate without an estimate: not resolved)."""
    means = over_seeds(per_replicate)
    ivs = [*per_replicate.values(), *means.values()]
    return means, agree(decide(iv, threshold, tie=TIE) if iv is not None else UNRESOLVED for iv in ivs)


def _seeds_text(ivs: dict[str, Interval], fmt: str = "{:.3f}") -> str:
    return "; ".join(f"{name} {iv.text(fmt)}" for name, iv in ivs.items())


def picks_two(seeds: Seeds) -> Finding:
    """“The silhouette picks K = 2”: K = 2's lead over the best other K above 0 in every replicate (its interval over
    the samples) and in each sample set over the seeds; not supported when all of them lie below 0; else not
    resolved."""
    gaps = {(r.name, s): gap_interval(r, s) for s, c in seeds.items() for r in c.sets}
    means, verdict = _judged(gaps, 0.0)
    best = "; ".join(f"{name} seed {s}: K = {c.sets[k].sweep.best_k}" for s, c in seeds.items()
                     for k, name in enumerate(("random", "fully annotated")))
    leads = "; ".join(f"{name} seed {s}: {g.text()}" for (name, s), g in gaps.items() if g is not None)
    return Finding("The silhouette picks K = 2 clusters", cite("understanding", "§1.3"),
                   "K = 2 on random and fully annotated samples",
                   f"best K: {best}. K = 2's lead over the best other K: {leads or 'K = 2 not in the sweep'}; "
                   f"mean over the seeds: {_seeds_text(means)}", verdict,
                   f"K = 2's silhouette minus the best other K's above 0 in every replicate ({_replicates(seeds)}: "
                   "bootstrap 95 % interval over the samples) and in each sample set over the seeds (Student's t 95 % "
                   "interval); below 0 in every one: does not support",
                   "The silhouettes of neighbouring K differ by less than their sampling spread wherever the verdict "
                   "is not resolved: the argmax of near-ties is not a finding.", MORE)


def has_structure(seeds: Seeds) -> Finding:
    """“The bottleneck shows cluster structure” on Kaufman and Rousseeuw's scale: supported when every replicate's best
    silhouette and each sample set's mean over the seeds have their intervals above 0.25, not supported when all lie
    at or below it (no substantial structure), else not resolved."""
    ivs = {(r.name, s): best_interval(r, s) for s, c in seeds.items() for r in c.sets}
    means, verdict = _judged(ivs, NO_STRUCTURE)
    ours = "; ".join(f"{name} seed {s}: {iv.text()} ({kaufman_rousseeuw(iv.high)})" for (name, s), iv in ivs.items())
    ours += f"; mean over the seeds: {_seeds_text(means)}"
    return Finding("The bottleneck shows cluster structure (similar samples lie together)",
                   cite("understanding", "§1.3"), "structure visible in the PCA plane (qualitative)",
                   f"best silhouette: {ours}", verdict,
                   f"{cite('kaufman1990')}: average silhouette above {NO_STRUCTURE} in every replicate "
                   f"({_replicates(seeds)}, bootstrap 95 % interval over the samples) and in each sample set over the "
                   "seeds (Student's t 95 % interval); at or below it in every one: no substantial structure", "", MORE)


def _follows(amis: AMIs, what: str, claim: str, published: str) -> Finding:
    ivs = {s: iv for (w, s), iv in amis.items() if w == what}
    means, verdict = _judged({(what, s): iv for s, iv in ivs.items()}, AMI_VISIBLE)
    mean = means[what]
    return Finding(claim, cite("understanding", "§1.4"), published,
                   f"AMI with {what}: " + "; ".join(f"seed {s} {iv.text()}" for s, iv in ivs.items())
                   + f"; mean over the seeds {mean.text()}", verdict,
                   f"the AMI above {AMI_VISIBLE} for every seed ({len(ivs)}: bootstrap 95 % interval over the samples) "
                   "and over the seeds (Student's t 95 % interval of the seeds' AMIs); below it in every one: does not "
                   "support", "", MORE)


def follows_completeness(amis: AMIs) -> Finding:
    """“Clusters of random samples follow annotation completeness”: every seed's AMI interval over the samples and the
    seeds' interval (Student's t) above ``AMI_VISIBLE`` support it, all of them below it do not, else not resolved."""
    return _follows(amis, COMPLETENESS, "Clusters of random samples follow annotation completeness",
                    "one cluster of nearly complete people, one with many missing joints")


def follows_motion(amis: AMIs) -> Finding:
    """“Clusters of fully annotated samples follow motion”: the larger AMI with the action or with dynamic vs
    stationary, judged as ``follows_completeness``."""
    return _follows(amis, MOTION, "Clusters of fully annotated samples follow motion", "stationary vs moving poses")


def headline_numbers(seeds: Seeds) -> list[tuple[str, float, str, str]]:
    """Notebook 04's front-page numbers (the first seed's, and the best silhouettes' range over the seeds)."""
    first = next(iter(seeds.values()))
    best = [r.sweep.table["best"].max() for c in seeds.values() for r in c.sets]
    return [("best K, random samples", first.random.sweep.best_k, "", f"seed {first.seed}"),
            ("best K, fully annotated samples", first.full.sweep.best_k, "", f"seed {first.seed}"),
            ("largest silhouette, any seed and set", max(best), "", f"smallest {min(best):.3f}; at most "
             f"{NO_STRUCTURE}: no substantial structure (Kaufman and Rousseeuw 1990)"),
            ("AMI clusters vs completeness (random)", first.random.ami[COMPLETENESS], "", f"seed {first.seed}"),
            ("AMI clusters vs action (fully annotated)", first.full.ami["action"], "", f"seed {first.seed}"),
            ("PCA variance explained (2 components)", first.explained, "fraction", "“Understanding the Model”: ~0.37")]

