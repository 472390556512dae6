"""Figures of notebook 01: sample grid, visibility and action statistics, the lifting rig."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from poselab.data.dataset import ImageSet
from poselab.data.joints import H36M17, JointSet, get_convention
from poselab.data.synthetic.camera import Camera
from poselab.figures import SIDE_COLOURS, STATUS_COLOURS, colour, draw_skeleton, limb_side, show_image


def sample_grid(s: ImageSet, indices: np.ndarray, convention: str = "coco17", cols: int = 6) -> plt.Figure:
    """Images with skeleton overlays (hollow = annotated but hidden) and person-mask outlines."""
    js = get_convention(convention)
    rows = int(np.ceil(len(indices) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 2.45 * rows))
    joints, status = s.joints(js), s.status(js)
    for ax, i in zip(np.ravel(axes), indices, strict=False):
        show_image(ax, s.images[i], s.mask(i),
                   f"{s.subjects[i]} · {s.actions[i]} · {int((status[i] >= 2).sum())}/{js.n_joints} ann.")
        draw_skeleton(ax, joints[i], js, status[i] >= 2, status[i] == 3, lw=1.2, ms=7)
    for ax in np.ravel(axes)[len(indices):]:
        ax.axis("off")
    fig.suptitle(f"Synthetic training samples ({js.name}; filled = visible, hollow = hidden but annotated; "
                 "white outline = person mask)", y=1.0)
    fig.tight_layout()
    return fig


def visibility_and_actions(breakdown: pd.DataFrame, actions: pd.DataFrame, n_annotated: dict) -> plt.Figure:
    """(a) joint status per joint, (b) samples per action and split, (c) annotated joints per sample."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 5), gridspec_kw={"width_ratios": [1.2, 1, 1]})
    ax = axes[0]
    left = np.zeros(len(breakdown))
    for name in breakdown.columns:
        ax.barh(breakdown.index, breakdown[name], left=left, color=STATUS_COLOURS[name], label=name)
        left += breakdown[name].to_numpy()
    ax.invert_yaxis()
    ax.set_xlabel("fraction of training samples")
    ax.set_title("(a) joint status, train (COCO-17)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8, frameon=False)
    ax.set_xlim(0, 1)
    ax = axes[1]
    share = actions / actions.sum()
    share.plot.bar(ax=ax, color=[colour(c) for c in share.columns], width=0.8)
    ax.set_ylabel("fraction of samples in the split")
    ax.set_title("(b) actions per split")
    ax.tick_params(axis="x", rotation=35)
    ax = axes[2]
    for split, counts in n_annotated.items():
        k = int(counts.max())
        ax.hist(counts, bins=np.arange(-0.5, k + 1.5), density=True, alpha=0.55, color=colour(split), label=split)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlabel("annotated joints per sample (MPII-16)")
    ax.set_ylabel("fraction of samples")
    ax.set_title("(c) annotation completeness")
    ax.legend()
    fig.tight_layout()
    return fig


def _crop_around(image: np.ndarray, uv: np.ndarray, margin: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """A square crop of image around the points uv (with a relative margin); the shifted points."""
    lo, hi = uv.min(0), uv.max(0)
    half = (1 + margin) * max(hi - lo) / 2
    cx, cy = (lo + hi) / 2
    x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
    x1, y1 = int(min(cx + half, image.shape[1])), int(min(cy + half, image.shape[0]))
    return image[y0:y1, x0:x1], uv - [x0, y0]


def lifting_views(world17: np.ndarray, cameras: list[Camera], views: list[np.ndarray], points2d: list[np.ndarray],
                  title: str) -> plt.Figure:
    """One 3D pose (17, 3) with the cameras around it, and each camera's rendered view (cropped
    around the person) with the stored 2D projection drawn on top."""
    js: JointSet = H36M17
    fig = plt.figure(figsize=(17, 4.6))
    grid = fig.add_gridspec(1, 1 + len(views), width_ratios=[1.7] + [1] * len(views), wspace=0.08)
    ax = fig.add_subplot(grid[0], projection="3d")
    for (a, b), (ia, ib) in zip(js.limbs, js.limb_index, strict=True):
        # Plot with z (depth) on the horizontal axis and y up.
        ax.plot(world17[[ia, ib], 0], world17[[ia, ib], 2], world17[[ia, ib], 1], lw=2.5,
                color=SIDE_COLOURS[limb_side(js, a, b)])
    for k, cam in enumerate(cameras):
        c = cam.center
        look = cam.R[2] * 1.2
        ax.scatter(c[0], c[2], c[1], color="k", s=25)
        ax.quiver(c[0], c[2], c[1], look[0], look[2], look[1], color="k", lw=1)
        ax.text(c[0], c[2], c[1] + 0.25, f"cam {k + 1}", fontsize=9)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("z (m)")
    ax.set_zlabel("height (m)")
    ax.set_box_aspect((1, 1, 0.45))
    ax.set_title("3D pose and the cameras")
    for k, (img, uv) in enumerate(zip(views, points2d, strict=True)):
        crop, shifted = _crop_around(img, uv)
        ax = fig.add_subplot(grid[k + 1])
        show_image(ax, crop, title=f"camera {k + 1}")
        draw_skeleton(ax, shifted, js, lw=1.5, ms=10)
    fig.suptitle(title + " (views: render with the stored 2D projection on top)")
    return fig
