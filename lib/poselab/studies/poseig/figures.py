"""Notebook 05's figures (F05.1-F05.6): attribution maps, the sanity tests and the index statistics.

Maps are drawn on a square-root scale over the dimmed grey image (the largest attributions are a few pixels;
a linear scale would show little else), with the person's outline and the explained joint.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats

from poselab.data.joints import JointSet
from poselab.figures import colour
from poselab.studies.poseig.joints import GROUP_ORDER, joint_groups
from poselab.studies.poseig.tables import SEED_RANDOMIZATION

GROUP_COLOURS = {"trunk": "#c44e52", "branch": "#dd8452", "leaf": "#ccb974"}  # the source's red, orange, yellow


def person_box(mask: np.ndarray, margin: float = 0.2) -> tuple[float, float, float, float]:
    """A square view (x0, x1, y0, y1) around the person's mask with ``margin`` of its size on each side, inside
    the image: the figures zoom in on her (she fills only part of the image)."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return -0.5, w - 0.5, h - 0.5, -0.5
    side = max(np.ptp(xs), np.ptp(ys)) * (1 + 2 * margin) + 8
    side = min(side, max(h, w))
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    x0 = float(np.clip(cx - side / 2, -0.5, w - 0.5 - side))
    y0 = float(np.clip(cy - side / 2, -0.5, h - 0.5 - side))
    return x0, x0 + side, y0 + side, y0


def _frame(ax: plt.Axes, box: tuple[float, float, float, float] | None, title: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if box is not None:
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
    if title:
        ax.set_title(title, fontsize=8, fontweight="normal")


def show_map(ax: plt.Axes, image: np.ndarray, amap: np.ndarray, mask: np.ndarray | None = None,
             joint: np.ndarray | None = None, title: str = "",
             box: tuple[float, float, float, float] | None = None) -> None:
    """An attribution map (H, W) in [0, 1] over the dimmed grey image (H, W, 3) in [0, 1], opaque where the
    attribution is high, with the person's outline, the explained joint (2,) pixels and an optional zoom box."""
    ax.imshow(image.mean(-1), cmap="gray", vmin=-0.3, vmax=1.6)
    level = np.sqrt(np.clip(amap, 0, 1))
    rgba = plt.get_cmap("inferno")(level)
    rgba[..., 3] = np.clip(1.6 * level, 0, 1)
    ax.imshow(rgba)
    if mask is not None and mask.any():
        ax.contour(mask.astype(float), levels=[0.5], colors="#7fdbff", linewidths=0.6)
    if joint is not None:
        ax.plot(*joint, marker="+", color="#39cccc", ms=9, mew=1.6)
    _frame(ax, box, title)


def show_input(ax: plt.Axes, image: np.ndarray, joints: np.ndarray | None = None, title: str = "",
               box: tuple[float, float, float, float] | None = None) -> None:
    ax.imshow(image)
    if joints is not None:
        ax.scatter(joints[:, 0], joints[:, 1], s=8, c="#39cccc", edgecolors="k", linewidths=0.3)
    _frame(ax, box, title)


def baseline_grid(images: dict[str, np.ndarray], maps: dict[str, dict[str, np.ndarray]], table: pd.DataFrame,
                  mask: np.ndarray, joints: np.ndarray) -> plt.Figure:
    """F05.1 (the source's Fig. A): per painted person (rows), the input and each method's map (columns), with FI.

    images: paint -> (H, W, 3); maps: paint -> method -> (H, W); table: this person's rows with paint, method, FI,
    DI, delta (``sanity.baseline_comparison``)."""
    methods = list(next(iter(maps.values())))
    fi = table.set_index(["paint", "method"])
    fig, axes = plt.subplots(len(images), len(methods) + 1, figsize=(2.3 * (len(methods) + 1), 3.0 * len(images)),
                             squeeze=False)
    box = person_box(mask)
    for r, (paint, image) in enumerate(images.items()):
        show_input(axes[r, 0], image, joints, f"person painted {paint}", box)
        for c, m in enumerate(methods, 1):
            row = fi.loc[(paint, m)]
            show_map(axes[r, c], image, maps[paint][m], mask, title=f"{m}\nFI {row['FI']:.2f}, DI {row['DI']:.1f}",
                     box=box)
    fig.suptitle("Solid-colour baselines against the blur path (the sum of all joints' targets)", y=1.0)
    fig.tight_layout()
    return fig


def variant_grid(image: np.ndarray, mask: np.ndarray, joint: np.ndarray, maps: dict[str, np.ndarray],
                 titles: dict[str, str], joint_name: str) -> plt.Figure:
    """F05.2: one joint's map under several output spaces and likelihoods (columns)."""
    fig, axes = plt.subplots(1, len(maps) + 1, figsize=(2.4 * (len(maps) + 1), 2.9))
    box = person_box(mask)
    show_input(axes[0], image, joint[None], f"input, target: {joint_name}", box)
    for ax, (name, m) in zip(axes[1:], maps.items(), strict=True):
        show_map(ax, image, m, mask, joint, f"{name}\n{titles[name]}", box)
    fig.tight_layout()
    return fig


def randomization_figure(image: np.ndarray, mask: np.ndarray, joint: np.ndarray, maps: list[np.ndarray],
                         table: pd.DataFrame, joint_name: str, main: str) -> plt.Figure:
    """F05.3: one joint's map as more layers are randomised (top), mean DI and FI against the fraction of
    randomised layers, ours and the source's Table B (bottom)."""
    n = len(maps)
    fig = plt.figure(figsize=(max(2.0 * n, 9), 6.4))
    grid = fig.add_gridspec(2, n, height_ratios=[1, 1.25])
    for k, (m, (count, row)) in enumerate(zip(maps, table.iterrows(), strict=True)):
        ax = fig.add_subplot(grid[0, k])
        show_map(ax, image, m, mask, joint, f"{count} layers\nDI {row['DI']:.1f}, FI {row['FI']:.2f}",
                 person_box(mask))
    seed_x = np.array(SEED_RANDOMIZATION["layers"]) / 54
    for idx, metric in enumerate(("DI", "FI")):
        ax = fig.add_subplot(grid[1, idx * (n // 2) : (idx + 1) * (n // 2)])
        ax.plot(table["fraction of layers"], table[metric], "-o", color=colour(main), label=f"ours ({main})")
        ax.plot(seed_x, SEED_RANDOMIZATION[metric], "--s", color="#7f7f7f", label="He et al. 2023 (ResNet-50, COCO)")
        ax.set_xlabel("fraction of convolution layers randomised (from the output back)")
        ax.set_ylabel(f"mean {metric}")
        ax.set_title(f"{metric} as the model is destroyed")
        ax.legend(fontsize=8)
    fig.suptitle(f"Model randomisation test: the map of the {joint_name}", y=1.0)
    fig.tight_layout()
    return fig


def joint_group_figure(js: JointSet, examples: dict[str, dict[str, np.ndarray]], image: np.ndarray,
                       mask: np.ndarray, joints: np.ndarray, annotated: np.ndarray,
                       picked: dict[str, int]) -> plt.Figure:
    """F05.4: the joint groups on one person (left), and her maps of a trunk, a branch and a leaf joint (rows) for
    every model (columns).  examples: model -> group -> map (H, W); picked: group -> joint index."""
    groups = joint_groups(js)
    n_models = len(examples)
    fig = plt.figure(figsize=(3.6 + 1.9 * n_models, 6.6))
    grid = fig.add_gridspec(len(GROUP_ORDER), 1 + n_models, width_ratios=[1.9] + [1] * n_models)
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(image.mean(-1), cmap="gray", vmin=0, vmax=1.6)
    for ia, ib in js.limb_index:
        if annotated[ia] and annotated[ib]:
            ax.plot(joints[[ia, ib], 0], joints[[ia, ib], 1], "-", color="#555555", lw=1.5)
    for g in GROUP_ORDER:
        sel = (groups == g) & annotated
        ax.scatter(joints[sel, 0], joints[sel, 1], s=45, c=GROUP_COLOURS[g], edgecolors="k", zorder=3, label=g)
    _frame(ax, person_box(mask), "Joint groups (He et al. 2023, Fig. D)")
    ax.legend(loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, -0.12))
    for c, (model, maps) in enumerate(examples.items(), 1):
        for r, g in enumerate(GROUP_ORDER):
            a = fig.add_subplot(grid[r, c])
            j = picked[g]
            show_map(a, image, maps[g], mask, joints[j], model if r == 0 else "", person_box(mask))
            if c == 1:
                a.set_ylabel(f"{g}: {js.labels[j]}", fontsize=9)
    fig.tight_layout()
    return fig


def index_vs_error(frame: pd.DataFrame) -> plt.Figure:
    """F05.5 (the source's Fig. E): mean FI and mean LI of each joint against its mean EPE, one point per model and
    joint, with the rank correlation per model."""
    per = frame.groupby(["model", "joint", "group"], sort=False)[["epe", "fi", "li"]].mean().reset_index()
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.6))
    markers = {"trunk": "s", "branch": "^", "leaf": "o"}
    for ax, m, name in ((axes[0], "fi", "FI"), (axes[1], "li", "LI")):
        for model, g in per.groupby("model", sort=False):
            rho = stats.spearmanr(g[m], g["epe"]).statistic
            for grp, gg in g.groupby("group"):
                ax.scatter(gg[m], gg["epe"], marker=markers[grp], s=30, color=colour(model), alpha=0.85,
                           edgecolors="white", linewidths=0.4)
            ax.plot([], [], "o", color=colour(model), label=f"{model} (rho {rho:+.2f})")
        for grp, mk in markers.items():
            ax.plot([], [], mk, color="#555555", label=grp, ls="none")
        ax.set_xlabel(f"mean {name} of the joint")
        ax.set_ylabel("mean EPE of the joint (pixels)")
        ax.set_title(f"{name} against the error (rho: Spearman over the joints)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.16), ncol=3, frameon=False)
    fig.tight_layout()
    return fig


def index_distributions(frame: pd.DataFrame) -> plt.Figure:
    """F05.6 (the source's Fig. F): DI, FI and LI per joint group, one box per model."""
    models = list(dict.fromkeys(frame["model"]))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    for ax, m, name in zip(axes, ("di", "fi", "li"), ("DI", "FI", "LI"), strict=True):
        sns.boxplot(data=frame, x="group", y=m, hue="model", order=list(GROUP_ORDER), hue_order=models, ax=ax,
                    palette={k: colour(k) for k in models}, showfliers=False, linewidth=0.8)
        ax.set_xlabel("joint group")
        ax.set_ylabel(name)
        ax.set_title(f"{name} per joint group")
        if m == "li":
            ax.set_yscale("log")
        if ax is not axes[-1]:
            ax.get_legend().remove()
        else:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig
