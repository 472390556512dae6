"""The hourglass's latent space (“Understanding the Model”, §1.3–1.4): bottleneck features, silhouettes, K-means.

* :func:`extract_features` streams a dataset through the model and collects, with a forward
  hook, the output of the third residual module at the lowest resolution of the first
  hourglass, flattened (4x4x256 -> 4,096 at full scale), into a preallocated array.
* :func:`silhouette` is the source's Algorithm 1.  All the silhouettes of a K sweep come from
  one pairwise-distance matrix (:func:`pairwise_distances`), computed once in chunks, so
  each (K, restart) costs a single (N x N) @ (N x K) product.
* :func:`k_sweep` runs scikit-learn's K-means for K = 2..10 with several restarts each.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_mutual_info_score
from torch.utils.data import DataLoader
from tqdm.auto import tqdm


@dataclass
class Features:
    """Bottleneck features and what is known about each sample."""

    x: np.ndarray  # (N, D) float32, flattened C x h x w
    shape: tuple[int, int, int]  # (C, h, w) of one sample's bottleneck output
    indices: np.ndarray  # (N,) source indices
    heatmaps: np.ndarray  # (N, hm, hm) float16: ground-truth heatmaps, max over joints (thumbnails)
    annotated: np.ndarray  # (N, J) bool
    visible: np.ndarray  # (N, J) bool


@torch.no_grad()
def extract_features(model: torch.nn.Module, dataset, device: str = "cpu", batch_size: int = 64,
                     module: torch.nn.Module | None = None, progress: bool = True) -> Features:
    """Run ``dataset`` (items with "image", "heatmaps", "weight", "index") through ``model`` in eval
    mode and keep the output of ``module`` (default: ``model.bottleneck()``) for every sample."""
    module = module if module is not None else model.bottleneck()
    n = len(dataset)
    captured: list[torch.Tensor] = []
    hook = module.register_forward_hook(lambda m, inputs, output: captured.append(output))
    was_training = model.training
    model.eval()
    x = shape = heat = None
    indices = np.zeros(n, np.int64)
    row = 0
    try:
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
        for batch in tqdm(loader, desc="bottleneck features", disable=not progress, leave=False):
            captured.clear()
            model(batch["image"].to(device))
            out = captured[0].float().cpu()
            b = len(out)
            if x is None:  # preallocate once the feature size is known
                shape = tuple(out.shape[1:])
                x = np.empty((n, int(np.prod(shape))), np.float32)
                heat = np.empty((n, *batch["heatmaps"].shape[-2:]), np.float16)
            x[row : row + b] = out.reshape(b, -1).numpy()
            heat[row : row + b] = batch["heatmaps"].amax(1).numpy().astype(np.float16)
            indices[row : row + b] = batch["index"].numpy()
            row += b
    finally:
        hook.remove()
        model.train(was_training)
    source = dataset.source
    annotated = source.annotated()[indices]
    visible = source.visible()[indices] if hasattr(source, "visible") else annotated
    return Features(x, shape, indices, heat, annotated, visible)


def pairwise_distances(x: np.ndarray | torch.Tensor, device: str = "cpu", chunk: int = 1024,
                       dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Euclidean distance matrix (N, N), computed ``chunk`` rows at a time (GPU when given).

    Small problems use the exact difference formula; large ones the matrix-product form, whose
    rounding is negligible against the distances between distinct high-dimensional points.
    """
    x = torch.as_tensor(np.asarray(x), dtype=dtype, device=device)
    n, d = x.shape
    exact = n * n * d <= 2e8
    out = torch.empty((n, n), dtype=dtype, device=device)
    for start in range(0, n, chunk):
        block = x[start : start + chunk]
        mode = "donot_use_mm_for_euclid_dist" if exact else "use_mm_for_euclid_dist"
        out[start : start + chunk] = torch.cdist(block, x, compute_mode=mode)
    out.fill_diagonal_(0.0)
    return out


def silhouette_samples(distances: torch.Tensor, labels: np.ndarray) -> np.ndarray:
    """Per-sample silhouettes by the source's Algorithm 1, from a precomputed distance matrix.

    a(x): mean distance to the other members of x's cluster; b(x): the smallest mean distance to
    the members of another cluster; s(x) = 1 - a/b if a < b, 0 if a = b or x is alone in its
    cluster, b/a - 1 if a > b.  Empty label values are ignored; with fewer than two non-empty
    clusters every silhouette is 0.
    """
    labels = np.asarray(labels)
    present, dense = np.unique(labels, return_inverse=True)
    k = len(present)
    n = len(labels)
    if k < 2:
        return np.zeros(n)
    onehot = torch.zeros((n, k), dtype=distances.dtype, device=distances.device)
    onehot[torch.arange(n), torch.as_tensor(dense, device=distances.device)] = 1
    sums = distances @ onehot  # (N, K): total distance from each sample to each cluster
    sizes = onehot.sum(0)
    own = torch.as_tensor(dense, device=distances.device)
    own_size = sizes[own]
    a = sums[torch.arange(n), own] / (own_size - 1).clamp(min=1)
    means = sums / sizes
    means[torch.arange(n), own] = float("inf")
    b = means.min(1).values
    s = torch.where(a < b, 1 - a / b, torch.where(a > b, b / a - 1, torch.zeros_like(a)))
    s = torch.where(own_size == 1, torch.zeros_like(s), s)
    return s.cpu().numpy()


def silhouette(distances: torch.Tensor, labels: np.ndarray) -> float:
    """Mean silhouette (Algorithm 1 of “Understanding the Model”) of a labelling."""
    return float(silhouette_samples(distances, labels).mean())


@dataclass
class Sweep:
    table: pd.DataFrame  # per K: best, mean, std of the silhouette over restarts
    scores: pd.DataFrame  # every (K, restart) silhouette
    best_k: int
    labels: np.ndarray  # labels of the best restart at best_k
    centroids: np.ndarray  # (best_k, D)
    samples: dict[int, np.ndarray]  # K -> per-sample silhouettes (N,) of that K's best restart (their mean: "best")


def k_sweep(x: np.ndarray, ks: range = range(2, 11), restarts: int = 10, seed: int = 0, device: str = "cpu",
            distances: torch.Tensor | None = None, progress: bool = True) -> Sweep:
    """K-means (scikit-learn, one initialisation per restart, a different seed each) for every K,
    scored by the silhouette on one shared distance matrix."""
    distances = pairwise_distances(x, device) if distances is None else distances
    rows, best, per_k = [], (-np.inf, None, None, None), {}
    jobs = [(k, r) for k in ks for r in range(restarts)]
    for k, r in tqdm(jobs, desc="K-means sweep", disable=not progress, leave=False):
        with warnings.catch_warnings():
            # K above the number of distinct points leaves clusters empty; the silhouette handles that.
            warnings.simplefilter("ignore", ConvergenceWarning)
            km = KMeans(n_clusters=k, n_init=1, random_state=seed * 1000 + r).fit(x)
        values = silhouette_samples(distances, km.labels_)
        s = float(values.mean())
        rows.append({"K": k, "restart": r, "silhouette": s})
        if k not in per_k or s > per_k[k].mean():
            per_k[k] = values
        if s > best[0]:
            best = (s, k, km.labels_.copy(), km.cluster_centers_.copy())
    scores = pd.DataFrame(rows)
    table = scores.groupby("K")["silhouette"].agg(best="max", mean="mean", std="std")
    # The best K is the one whose best restart scores highest (as in the source's Fig. 4): the overall best restart.
    return Sweep(table, scores, best[1], best[2], best[3], per_k)


def closest_to_centroids(x: np.ndarray, labels: np.ndarray, centroids: np.ndarray, n: int = 1) -> list[np.ndarray]:
    """For each cluster, the indices (into x) of the n members closest to its centroid."""
    out = []
    for c, centre in enumerate(centroids):
        members = np.flatnonzero(labels == c)
        d = np.linalg.norm(x[members] - centre, axis=1)
        out.append(members[np.argsort(d)[:n]])
    return out


def cluster_table(labels: np.ndarray, annotated: np.ndarray, visible: np.ndarray, actions: np.ndarray,
                  action_names: list[str]) -> pd.DataFrame:
    """T04.2: per cluster, size, fraction fully annotated, mean visible joints and the action mix."""
    rows = {}
    for c in np.unique(labels):
        m = labels == c
        row = {"samples": int(m.sum()), "fully annotated": annotated[m].all(1).mean(),
               "mean annotated joints": annotated[m].sum(1).mean(), "mean visible joints": visible[m].sum(1).mean()}
        for a in action_names:
            row[f"action: {a}"] = float(np.mean(actions[m] == a))
        rows[f"cluster {c}"] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def mutual_information(labels: np.ndarray, **partitions: np.ndarray) -> dict[str, float]:
    """Adjusted mutual information of the clustering with each named partition."""
    return {name: float(adjusted_mutual_info_score(p, labels)) for name, p in partitions.items()}
