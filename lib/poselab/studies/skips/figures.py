"""Figures of notebook 03: per-sample accuracy with the skips on and off (F03.1), the samples the model gets right and
what is left of their heatmaps without skips (F03.2), one scale at a time (F03.3)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from poselab.figures import colour, show_image


def pck_histograms(per_sample: dict[str, np.ndarray]) -> plt.Figure:
    """F03.1: distribution of per-sample PCKh on the training set, skips on vs off (as the source's Fig. 1)."""
    fig, axes = plt.subplots(1, len(per_sample), figsize=(6 * len(per_sample), 4), sharey=True)
    bins = np.linspace(0, 1, 21)
    for ax, (label, values) in zip(np.atleast_1d(axes), per_sample.items(), strict=True):
        v = values[np.isfinite(values)]
        ax.hist(v, bins=bins, color=colour(label), edgecolor="white")
        ax.axvline(v.mean(), color="k", ls="--", lw=1)
        ax.set_title(f"{label}: mean {v.mean():.3f}, median {np.median(v):.3f}")
        ax.set_xlabel("per-sample PCKh@0.5 (training set)")
    np.atleast_1d(axes)[0].set_ylabel("samples")
    fig.tight_layout()
    return fig


def skip_samples(images: np.ndarray, gt_maps: np.ndarray, on_maps: np.ndarray, off_maps: np.ndarray,
                 per_row: int = 4) -> plt.Figure:
    """F03.2: samples the model gets fully right: image, ground truth, prediction with skips, without."""
    n = len(images)
    rows = int(np.ceil(n / per_row))
    fig, axes = plt.subplots(rows, 4 * per_row, figsize=(1.55 * 4 * per_row, 1.75 * rows))
    axes = np.atleast_2d(axes)
    names = ("image", "ground truth", "skips on", "skips off")
    for k in range(rows * per_row):
        r, c = divmod(k, per_row)
        cells = axes[r, 4 * c : 4 * c + 4]
        if k >= n:
            for ax in cells:
                ax.axis("off")
            continue
        show_image(cells[0], images[k], title=names[0] if r == 0 else "")
        for ax, maps, name in zip(cells[1:], (gt_maps[k], on_maps[k], off_maps[k]), names[1:], strict=True):
            peak = max(float(maps.max()), 1e-6)
            # Each panel on its own scale (its peak in the title): without skips the maps are faint.
            ax.imshow(np.clip(maps.max(0), 0, None) / peak, cmap="magma", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{name}, peak {peak:.2f}" if name != "ground truth" else (name if r == 0 else ""),
                         fontsize=7, fontweight="normal")
    fig.suptitle("Training samples the model gets right with its skips: ground truth and predicted heatmaps "
                 "(each panel scaled to its own peak)")
    fig.tight_layout()
    return fig


def per_scale(labels: list[str], values: list[float], reference: dict[str, float],
              errors: list[float] | None = None) -> plt.Figure:
    """F03.3: mean PCKh with the skip at one scale switched off (``errors``: the seed spread as error bars), against
    all on / all off."""
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(labels, values, color="#8172b3", yerr=errors, capsize=4 if errors is not None else 0)
    for name, v in reference.items():
        ax.axhline(v, color=colour(name), ls="--", label=f"{name}: {v:.3f}")
    for x, v in enumerate(values):
        ax.text(x, v + 0.01, f"{v:.3f}", ha="center", fontsize=9)
    ax.set_ylabel("mean PCKh@0.5 (training samples)")
    ax.set_ylim(0, 1.05)
    ax.set_title("Switching off the skip branch of one scale at a time")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig

