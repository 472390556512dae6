"""Figures of notebook 06: validation accuracy per epoch for the three HRNet experiments."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from poselab.figures import colour


def ablation_curves(curves: pd.DataFrame, experiments: list[str]) -> plt.Figure:
    """F06.1: validation PCKh per epoch, one panel per experiment (thin: seeds; band: mean +- std over
    the seeds still running) and all three means on one chart (Henderson and Houser 2023, Figs. 2-5)."""
    fig, axes = plt.subplots(1, len(experiments) + 1, figsize=(4.6 * (len(experiments) + 1), 4), sharey=True)
    for ax, e in zip(axes, experiments, strict=False):
        part = curves[curves["experiment"] == e]
        for seed, run in part.groupby("seed"):
            ax.plot(run["epoch"], run["val_pckh"], "-", color=colour(e), lw=0.8, alpha=0.5)
            bad = run[run["status"] == "diverged"]
            if len(bad):
                ax.plot(bad["epoch"], np.zeros(len(bad)), "x", color="k", ms=8, label=f"seed {seed} diverged")
        stat = part.groupby("epoch")["val_pckh"].agg(["mean", "std"]).fillna({"std": 0.0})
        for target, alpha, label in ((ax, 0.2, None), (axes[-1], 0.15, e)):
            target.plot(stat.index, stat["mean"], "-o", color=colour(e), ms=4, lw=2, label=label)
            target.fill_between(stat.index, stat["mean"] - stat["std"], stat["mean"] + stat["std"], color=colour(e),
                                alpha=alpha)
        ax.set_title(e)
        ax.set_xlabel("epoch")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    for ax in axes:
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axes[0].set_ylabel("validation mean PCKh@0.5")
    axes[0].set_ylim(0, 1)
    axes[-1].set_title("all three (mean ± std over seeds)")
    axes[-1].set_xlabel("epoch")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    return fig
