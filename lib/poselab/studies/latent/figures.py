"""Figures of notebook 04: the PCA plane with heatmap thumbnails, silhouettes, clusters, centroids."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.offsetbox import AnnotationBbox, OffsetImage

from poselab.reporting.figures import show_image


def spread_points(points: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Indices of n points spread over the cloud (greedy farthest-point sampling)."""
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(points)))]
    d = np.linalg.norm(points - points[chosen[0]], axis=1)
    for _ in range(min(n, len(points)) - 1):
        chosen.append(int(d.argmax()))
        d = np.minimum(d, np.linalg.norm(points - points[chosen[-1]], axis=1))
    return np.array(chosen)


def pca_thumbnails(plane: np.ndarray, heatmaps: np.ndarray, n_annotated: np.ndarray, explained: float,
                   n_thumbs: int, seed: int = 0) -> plt.Figure:
    """F04.1: every sample in the PCA plane (coloured by annotated joints) with ground-truth heatmap
    thumbnails of samples spread over the plane (“Understanding the Model”, Fig. 3)."""
    fig, ax = plt.subplots(figsize=(11, 9))
    sc = ax.scatter(plane[:, 0], plane[:, 1], c=n_annotated, cmap="viridis", s=6, alpha=0.6)
    zoom = 1.6 * 24 / heatmaps.shape[-1]  # thumbnails about 38 points wide whatever the heatmap size
    for i in spread_points(plane, n_thumbs, seed):
        img = OffsetImage(np.clip(heatmaps[i].astype(np.float32), 0, 1), cmap="magma", zoom=zoom)
        ax.add_artist(AnnotationBbox(img, plane[i], frameon=True, pad=0.1, bboxprops={"edgecolor": "0.6"}))
    fig.colorbar(sc, ax=ax, label="annotated joints", shrink=0.8)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.set_title(f"Bottleneck features of {len(plane)} training samples, PCA to 2D "
                 f"({explained:.1%} of the variance); thumbnails: ground-truth heatmaps")
    fig.tight_layout()
    return fig


def silhouettes(table, title: str) -> plt.Figure:
    """F04.2 / F04.3: best silhouette per K (error bars: mean +- std over restarts)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ks = table.index.to_numpy()
    ax.plot(ks, table["best"], "-o", color="#4c72b0", label="best of the restarts")
    ax.errorbar(ks, table["mean"], yerr=table["std"], fmt="s", color="0.5", ms=4, capsize=3, label="mean ± std")
    best = int(table["best"].idxmax())
    ax.plot([best], [table.loc[best, "best"]], "o", ms=14, mfc="none", mec="#c44e52", mew=2, label=f"best K = {best}")
    ax.set_xlabel("K (clusters)")
    ax.set_ylabel("silhouette")
    ax.set_xticks(ks)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def clusters_in_plane(results) -> plt.Figure:
    """F04.4: the best clustering of each sample set in its own PCA plane (“Understanding the Model”, Figs. 5 and 7)."""
    fig, axes = plt.subplots(1, len(results), figsize=(7 * len(results), 5.5))
    for ax, r in zip(np.atleast_1d(axes), results, strict=True):
        for c in np.unique(r.sweep.labels):
            m = r.sweep.labels == c
            ax.scatter(r.pca[m, 0], r.pca[m, 1], s=6, alpha=0.6, label=f"cluster {c} ({m.sum()})")
        ax.set_title(f"{r.name} samples ({len(r.members)}), K = {r.sweep.best_k}")
        ax.set_xlabel("principal component 1")
        ax.set_ylabel("principal component 2")
        ax.legend(markerscale=3)
    fig.tight_layout()
    return fig


def centroid_samples(rows: list[tuple[str, list[tuple[np.ndarray, np.ndarray, str]]]]) -> plt.Figure:
    """F04.5: per cluster, the samples closest to its centroid: image and ground-truth heatmaps.

    rows: (row label, [(image, heatmap, caption), ...]) per cluster."""
    n_cols = max(len(items) for _, items in rows) * 2
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(1.9 * n_cols, 2.2 * len(rows)), squeeze=False)
    for r, (label, items) in enumerate(rows):
        for k in range(n_cols // 2):
            ax_img, ax_hm = axes[r, 2 * k], axes[r, 2 * k + 1]
            if k >= len(items):
                ax_img.axis("off")
                ax_hm.axis("off")
                continue
            image, heat, caption = items[k]
            show_image(ax_img, image, title=caption)
            ax_hm.imshow(np.clip(heat.astype(np.float32), 0, 1), cmap="magma", vmin=0, vmax=1)
            ax_hm.set_xticks([])
            ax_hm.set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=9)
    fig.suptitle("Samples closest to each centroid (image, ground-truth heatmaps) (“Understanding the Model”, "
                 "Figs. 6 and 8)")
    fig.tight_layout()
    return fig
