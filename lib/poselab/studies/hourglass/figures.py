"""Figures of notebook 02: training curves (F02.1), accuracy against the threshold (F02.2), predictions (F02.3)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from poselab.data.joints import JointSet
from poselab.figures import colour, draw_skeleton, show_image


def training_curves(histories: dict[str, pd.DataFrame],
                    other_seeds: dict[str, list[pd.DataFrame]] | None = None) -> plt.Figure:
    """F02.1: training loss of every stack's output, and validation PCKh, per epoch; ``other_seeds`` (label ->
    histories of the same model from other seeds) adds their validation curves as thin lines."""
    fig, (ax_loss, ax_pck) = plt.subplots(1, 2, figsize=(13, 4.4))
    for label, runs in (other_seeds or {}).items():
        for k, h in enumerate(runs):
            ax_pck.plot(h["epoch"], h["val_pckh"], "-", color=colour(label), lw=1, alpha=0.45,
                        label=f"{label}, other seeds" if k == 0 else None)
    for label, h in histories.items():
        c = colour(label)
        stacks = sorted(int(k.removeprefix("loss_stack")) for k in h.columns if k.startswith("loss_stack"))
        for s in stacks:
            style = "-" if s == stacks[-1] else ":"
            ax_loss.plot(h["epoch"], h[f"loss_stack{s}"], style, color=c, marker="o", ms=3,
                         label=f"{label}, stack {s}" + (" (output)" if s == stacks[-1] else ""))
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
                                  (axes[1], "torso", "PCK (torso-normalised, FLIC)", 0.2)):
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
              interpolation="bilinear")


def prediction_grid(images: np.ndarray, preds: np.ndarray, gts: np.ndarray, annotated: np.ndarray,
                    heatmaps: np.ndarray, js: JointSet, titles: list[str]) -> plt.Figure:
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
