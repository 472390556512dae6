"""Figures of notebook 04: the PCA plane with heatmap thumbnails, silhouettes, clusters, centroids."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.offsetbox import AnnotationBbox, OffsetImage

from poselab.figures import show_image


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


def silhouettes(tables: dict[int, pd.DataFrame], title: str, no_structure: float = 0.25) -> plt.Figure:
    """F04.2 / F04.3: best silhouette per K for every training seed (the first seed's mean +- std over its restarts
    as error bars), with Kaufman and Rousseeuw's "no substantial structure" band (at most ``no_structure``)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    first = next(iter(tables))
    top = max(float(t["best"].max()) for t in tables.values())
    ax.axhspan(min(0.0, top), no_structure, color="0.92", zorder=0,
               label=f"≤ {no_structure}: no substantial structure (Kaufman and Rousseeuw 1990)")
    for k, (seed, table) in enumerate(tables.items()):
        ks = table.index.to_numpy()
        ax.plot(ks, table["best"], "-o", color="#4c72b0", alpha=1.0 if k == 0 else 0.45, ms=5 if k == 0 else 3,
                label=f"seed {seed}: best of the restarts" if k < 2 else None)
        best = int(table["best"].idxmax())
        ax.plot([best], [table.loc[best, "best"]], "o", ms=12, mfc="none", mec="#c44e52", mew=1.5,
                label="each seed's best K" if k == 0 else None)
    t0 = tables[first]
    ax.errorbar(t0.index, t0["mean"], yerr=t0["std"], fmt="s", color="0.5", ms=4, capsize=3,
                label=f"seed {first}: mean ± std over restarts")
    ax.set_xlabel("K (clusters)")
    ax.set_ylabel("average silhouette width")
    ax.set_xticks(t0.index.to_numpy())
    ax.set_ylim(min(0.0, ax.get_ylim()[0]), max(top * 1.15, no_structure * 1.2))
    ax.set_title(title)
    ax.legend(fontsize=8)
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
