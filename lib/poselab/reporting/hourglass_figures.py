"""Figures of notebooks 02 and 03: training curves, PCK curves, predictions, the skip ablation."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from poselab.data.joints import JointSet
from poselab.reporting.figures import draw_skeleton, show_image
from poselab.reporting.style import colour


def training_curves(histories: dict[str, pd.DataFrame],
                    other_seeds: dict[str, list[pd.DataFrame]] | None = None) -> plt.Figure:  # fmt: skip
    """F02.1: training loss of every stack's output, and validation PCKh, per epoch; ``other_seeds`` (label ->
    histories of the same model from other seeds) adds their validation curves as thin lines."""
    fig, (ax_loss, ax_pck) = plt.subplots(1, 2, figsize=(13, 4.4))
    for label, runs in (other_seeds or {}).items():
        for k, h in enumerate(runs):
            ax_pck.plot(h["epoch"], h["val_pckh"], "-", color=colour(label), lw=1, alpha=0.45,
                        label=f"{label}, other seeds" if k == 0 else None)  # fmt: skip
    for label, h in histories.items():
        c = colour(label)
        stacks = sorted(int(k.removeprefix("loss_stack")) for k in h.columns if k.startswith("loss_stack"))
        for s in stacks:
            style = "-" if s == stacks[-1] else ":"
            ax_loss.plot(h["epoch"], h[f"loss_stack{s}"], style, color=c, marker="o", ms=3,
                         label=f"{label}, stack {s}" + (" (output)" if s == stacks[-1] else ""))  # fmt: skip
        ax_pck.plot(h["epoch"], h["val_pckh"], "-o", color=c, ms=4, label=label)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("heatmap MSE (training)")
    ax_loss.set_title("Loss of every stack's heatmaps")
    ax_loss.legend(fontsize=8)
    ax_pck.set_xlabel("epoch")
    for ax in (ax_loss, ax_pck):
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax_pck.set_ylabel("validation PCKh@0.5")
    ax_pck.set_ylim(0, 1)
    ax_pck.set_title("Validation accuracy")
    ax_pck.legend()
    fig.tight_layout()
    return fig


def threshold_curves(alphas: np.ndarray, curves: dict[str, dict[str, np.ndarray]]) -> plt.Figure:
    """F02.2: mean accuracy against the normalised threshold, head- and torso-normalised."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.3), sharey=True)
    for ax, kind, title, mark in ((axes[0], "head", "PCKh (head-normalised, MPII)", 0.5),
                                  (axes[1], "torso", "PCK (torso-normalised, FLIC)", 0.2)):  # fmt: skip
        for label, c in curves.items():
            ax.plot(alphas, c[kind], color=colour(label), lw=2, label=label)
        ax.axvline(mark, color="k", lw=0.8, ls="--")
        ax.set_xlabel(f"threshold alpha (fraction of {kind} size)")
        ax.set_title(title)
        ax.set_xlim(0, alphas[-1])
    axes[0].set_ylabel("fraction of joints correct")
    axes[0].set_ylim(0, 1)
    axes[0].legend()
    fig.tight_layout()
    return fig


def heatmap_overlay(ax: plt.Axes, image: np.ndarray, heatmaps: np.ndarray, title: str = "") -> None:
    """All joints' heatmaps (max over joints) upsampled over a dimmed image."""
    show_image(ax, (image * 0.45).astype(np.uint8), title=title)
    hm = np.clip(heatmaps.max(0), 0, 1)
    h, w = image.shape[:2]
    ax.imshow(hm, extent=(-0.5, w - 0.5, h - 0.5, -0.5), cmap="magma", alpha=0.75, vmin=0, vmax=1,
              interpolation="bilinear")  # fmt: skip


def prediction_grid(images: np.ndarray, preds: np.ndarray, gts: np.ndarray, annotated: np.ndarray,
                    heatmaps: np.ndarray, js: JointSet, titles: list[str]) -> plt.Figure:  # fmt: skip
    """F02.3: per sample, the predicted skeleton (ground truth dashed) and the predicted heatmaps."""
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5.6))
    for k in range(n):
        ax = axes[0, k]
        show_image(ax, images[k], title=titles[k])
        for (ia, ib) in js.limb_index:
            if annotated[k, ia] and annotated[k, ib]:
                ax.plot(gts[k, [ia, ib], 0], gts[k, [ia, ib], 1], "--", color="white", lw=0.8, alpha=0.8)
        draw_skeleton(ax, preds[k], js, lw=1.6, ms=8)
        heatmap_overlay(axes[1, k], images[k], heatmaps[k], "predicted heatmaps")
    fig.suptitle("Predictions on validation samples (top: predicted skeleton, white dashes: ground truth)")
    fig.tight_layout()
    return fig


def pck_histograms(per_sample: dict[str, np.ndarray]) -> plt.Figure:
    """F03.1: distribution of per-sample PCKh on the training set, skips on vs off (seed 000, Fig. 1)."""
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
                 per_row: int = 4) -> plt.Figure:  # fmt: skip
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
                         fontsize=7, fontweight="normal")  # fmt: skip
    fig.suptitle("Training samples the model gets right with its skips: ground truth and predicted heatmaps "
                 "(each panel scaled to its own peak)")
    fig.tight_layout()
    return fig


def per_scale(labels: list[str], values: list[float], reference: dict[str, float]) -> plt.Figure:
    """F03.3: mean PCKh with the skip at one scale switched off, against all on / all off."""
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(labels, values, color="#8172b3")
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

