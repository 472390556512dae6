"""Notebook 04's tables (T04.1 silhouette per K, T04.2 what the clusters mean), ``findings(...)`` on the claims of
“Understanding the Model” §1.3-1.4, and the front-page numbers."""

from __future__ import annotations

import pandas as pd

from poselab.data.synthetic.motion import DYNAMIC_ACTIONS
from poselab.findings import Finding, verdict
from poselab.references import cite
from poselab.studies.latent.experiment import ClusterResult


def silhouette_table(results: list[ClusterResult]) -> pd.DataFrame:
    """T04.1: best, mean and std of the silhouette per K for each sample set."""
    return pd.concat({r.name: r.sweep.table for r in results}, axis=1)


def meaning_table(results: list[ClusterResult]) -> pd.DataFrame:
    """T04.2: per cluster of each set's best K, what its samples have in common; after each set's
    clusters, one row with the adjusted mutual information of the whole clustering."""
    parts = {}
    for r in results:
        ami = pd.DataFrame([{f"AMI with {k}": v for k, v in r.ami.items()}], index=["whole clustering"])
        parts[r.name] = pd.concat([r.meaning, ami])
    return pd.concat(parts, names=["sample set", "cluster"])


def ami_table(results: list[ClusterResult]) -> pd.DataFrame:
    return pd.DataFrame({r.name: r.ami for r in results}).rename_axis("adjusted mutual information with")


AMI_VISIBLE = 0.1  # an association between clusters and a label counts as visible from this adjusted MI on


def _best_k(r: ClusterResult) -> str:
    t = r.sweep.table["best"]
    return f"K = {r.sweep.best_k} (silhouette {t.max():.3f}; runner-up K = {int(t.drop(r.sweep.best_k).idxmax())})"


def _shares(values: pd.Series) -> str:
    return ", ".join(f"{v:.0%}" for v in values)


def findings(random_set: ClusterResult, full_set: ClusterResult, explained: float) -> list[Finding]:
    """Notebook 04's findings on “Understanding the Model” §1.3-1.4: K = 2 clusters on random and on fully annotated
    samples; on random samples the clusters follow annotation completeness, on fully annotated ones stationary vs
    moving poses (an association is visible from an adjusted mutual information of ``AMI_VISIBLE``)."""
    ks = (random_set.sweep.best_k, full_set.sweep.best_k)
    completeness = float(random_set.ami["completeness (fully annotated or not)"])
    motion = float(max(full_set.ami["action"], full_set.ami["dynamic vs stationary action"]))
    dynamic = full_set.meaning[[c for c in full_set.meaning.columns
                                if c.removeprefix("action: ") in DYNAMIC_ACTIONS]].sum(axis=1)
    return [
        Finding("The silhouette picks K = 2 clusters", cite("understanding", "§1.3"),
                "K = 2 on random and fully annotated samples",
                f"K = {ks[0]} (random), K = {ks[1]} (fully annotated); PCA 2 components explain {explained:.1%}",
                verdict(ks == (2, 2), 2 in ks), "best K of the silhouette sweep equals 2 in both sets",
                f"Random samples: {_best_k(random_set)}; fully annotated: {_best_k(full_set)}. The source's two "
                "components explain about 37 % of 4,096 dimensions."),
        Finding("Clusters of random samples follow annotation completeness", cite("understanding", "§1.4"),
                "one cluster of nearly complete people, one with many missing joints",
                f"AMI with fully annotated or not {completeness:.3f}", verdict(completeness >= AMI_VISIBLE),
                f"AMI >= {AMI_VISIBLE}",
                f"AMI with the number of annotated joints {random_set.ami['number of annotated joints']:.3f}; fully "
                f"annotated samples per cluster: {_shares(random_set.meaning['fully annotated'])}."),
        Finding("Clusters of fully annotated samples follow motion", cite("understanding", "§1.4"),
                "stationary vs moving poses",
                f"AMI with the action or dynamic vs stationary {motion:.3f}", verdict(motion >= AMI_VISIBLE),
                f"AMI >= {AMI_VISIBLE}", f"AMI with the action {full_set.ami['action']:.3f}, with dynamic vs "
                f"stationary {full_set.ami['dynamic vs stationary action']:.3f}; dynamic actions per cluster: "
                f"{_shares(dynamic)}."),
    ]


def headline_numbers(random_set: ClusterResult, full_set: ClusterResult,
                     explained: float) -> list[tuple[str, float, str, str]]:
    """Notebook 04's front-page numbers: (name, value, unit, note)."""
    return [("best K, random samples", random_set.sweep.best_k, "", ""),
            ("best K, fully annotated samples", full_set.sweep.best_k, "", ""),
            ("AMI clusters vs completeness (random)", random_set.ami["completeness (fully annotated or not)"], "", ""),
            ("AMI clusters vs action (fully annotated)", full_set.ami["action"], "", ""),
            ("PCA variance explained (2 components)", explained, "fraction", "“Understanding the Model”: ~0.37")]
