"""The latent-space experiment (notebook 04): one set of training samples clustered in the bottleneck (the K sweep
with the silhouette, the PCA plane) and what its clusters share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from poselab.data.synthetic.motion import DYNAMIC_ACTIONS
from poselab.studies.latent.features import (
    Features,
    Sweep,
    cluster_table,
    extract_features,
    k_sweep,
    mutual_information,
)

COMPLETENESS = "completeness (fully annotated or not)"


@dataclass
class ClusterResult:
    name: str  # "random" or "fully annotated"
    members: np.ndarray  # rows of the feature matrix in this set
    sweep: Sweep
    pca: np.ndarray  # (n, 2) projection of this set
    explained: float  # variance explained by the 2 components
    meaning: pd.DataFrame  # per-cluster table (T04.2)
    ami: dict[str, float]


def pca_plane(x: np.ndarray, seed: int = 0) -> tuple[np.ndarray, float]:
    """2D PCA projection and the fraction of variance its two components explain."""
    pca = PCA(n_components=2, random_state=seed).fit(x)
    return pca.transform(x), float(pca.explained_variance_ratio_.sum())


def cluster_set(name: str, feats: Features, members: np.ndarray, actions: np.ndarray, action_names: list[str],
                ks: range, restarts: int, seed: int, device: str = "cpu") -> ClusterResult:
    """K sweep, PCA plane and the meaning of the best clustering for a subset of the samples."""
    x = feats.x[members]
    sweep = k_sweep(x, ks, restarts, seed, device)
    plane, explained = pca_plane(x, seed)
    ann, vis, act = feats.annotated[members], feats.visible[members], actions[members]
    meaning = cluster_table(sweep.labels, ann, vis, act, action_names)
    ami = mutual_information(
        sweep.labels,
        **{COMPLETENESS: ann.all(1).astype(int),
           "number of annotated joints": ann.sum(1),
           "action": act,
           "dynamic vs stationary action": np.isin(act, list(DYNAMIC_ACTIONS)).astype(int)},
    )
    return ClusterResult(name, members, sweep, plane, explained, meaning, ami)


@dataclass
class SeedClusters:
    """One training seed's latent space: its bottleneck features, their PCA plane, and the clusterings of the random
    and the fully annotated samples."""

    seed: int
    features: Features
    actions: np.ndarray  # (N,) the samples' actions ("unknown" where the source has none)
    plane: np.ndarray  # (N, 2)
    explained: float
    random: ClusterResult
    full: ClusterResult

    @property
    def sets(self) -> tuple[ClusterResult, ClusterResult]:
        return self.random, self.full


def seed_clusters(seed: int, model, dataset, source, action_names: list[str], ks: range, restarts: int,
                  sample_seed: int, device: str = "cpu") -> SeedClusters:
    """Bottleneck features of ``dataset`` through one training seed's ``model``, their PCA plane, and the K sweep of
    the random and of the fully annotated samples (K-means seeded by ``sample_seed``, the same for every model)."""
    feats = extract_features(model, dataset, device)
    n = len(feats.indices)
    actions = source.set.actions[feats.indices] if hasattr(source, "set") else np.full(n, "unknown")
    plane, explained = pca_plane(feats.x, sample_seed)
    random_set = cluster_set("random", feats, np.arange(n), actions, action_names, ks, restarts, sample_seed, device)
    full_set = cluster_set("fully annotated", feats, np.flatnonzero(feats.annotated.all(1)), actions, action_names,
                           ks, restarts, sample_seed, device)
    return SeedClusters(seed, feats, actions, plane, explained, random_set, full_set)
