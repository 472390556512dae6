"""Figures of notebook 07: per-action error violins, qualitative lifts, latent embedding, training curves."""

from __future__ import annotations

import importlib.util

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from poselab.data.joints import H36M17
from poselab.figures import SIDE_COLOURS, colour, draw_skeleton, limb_side

MODEL_LABELS = {("vae-gan", "ZV"): "VAE-GAN ZV", ("vae-gan", "BH"): "VAE-GAN BH",
                ("supervised", "ZV"): "supervised ZV", ("supervised", "BH"): "supervised BH"}
MODEL_COLOURS = {"VAE-GAN ZV": colour("vae-gan ZV"), "VAE-GAN BH": colour("vae-gan BH"),
                 "supervised ZV": colour("supervised"), "supervised BH": colour("supervised BH")}
GT_COLOUR = "#444444"


def action_violins(errors: pd.DataFrame, kinds: tuple[str, ...] = ("VAE-GAN ZV", "VAE-GAN BH", "supervised ZV")
                   ) -> plt.Figure:
    """F07.1: distribution of per-pose P-MPJPE per action (Fig. 4.1.1), one violin per model.

    errors: long table with columns model ("vae-gan" / "supervised"), kind ("ZV" / "BH"), action, error (mm).
    """
    df = errors.assign(label=[MODEL_LABELS[(m, k)] for m, k in zip(errors["model"], errors["kind"], strict=True)])
    df = df[df["label"].isin(kinds)]
    first = df[df["label"] == kinds[0]]
    order = first.groupby("action")["error"].median().sort_values().index.tolist()
    fig, ax = plt.subplots(figsize=(max(8.0, 1.3 * len(order)), 4.2))
    sns.violinplot(df, x="action", y="error", hue="label", order=order, hue_order=list(kinds), cut=0,
                   density_norm="width", inner="quartile", linewidth=0.7, palette=MODEL_COLOURS, ax=ax)
    ax.set_xlabel("action (sorted by the median error of " + kinds[0] + ")")
    ax.set_ylabel("P-MPJPE per pose (mm)")
    ax.set_ylim(0, df["error"].max() * 1.03)
    ax.set_title("Per-action error distribution on the test subjects (Protocol #2)")
    ax.legend(title=None, ncols=len(kinds), loc="upper left", frameon=True)
    fig.tight_layout()
    return fig


def representative_samples(errors: np.ndarray, actions: np.ndarray) -> dict[str, int]:
    """Per action, the index of the pose whose error is closest to that action's mean error (Fig. 4.2.1)."""
    out = {}
    for a in sorted(set(actions)):
        idx = np.where(actions == a)[0]
        out[a] = int(idx[np.argmin(np.abs(errors[idx] - errors[idx].mean()))])
    return out


def render_input(subject: str, take: str, frame: int, camera, lifting_cfg, pixels: np.ndarray,
                 scale: float = 0.4, margin: float = 0.15) -> tuple[np.ndarray, np.ndarray, float]:
    """The synthetic person of one test sample rendered by its camera and cropped around its 2D joints.

    Returns (crop (h, w, 3) uint8, (2,) origin of the crop in the scaled render, scale); the
    skeleton drawn at ``pixels * scale - origin`` lies on the person.
    """
    from poselab.data.synthetic.generate import lifting_sequence, render_view, take_name
    from poselab.data.synthetic.motion import ACTION_NAMES

    names = {take_name(a, k): (a, k) for a in ACTION_NAMES for k in range(lifting_cfg.takes)}
    action, k = names[take]
    world27 = lifting_sequence(subject, action, k, lifting_cfg)[frame]
    img = render_view(world27, subject, camera.scaled(scale))
    p = pixels * scale
    lo, hi = p.min(0), p.max(0)
    half = (hi - lo).max() * (0.5 + margin)
    c = (lo + hi) / 2
    x0, y0 = (np.clip(np.floor(c - half), 0, None)).astype(int)
    x1, y1 = np.ceil(c + half).astype(int)
    return img[y0:y1, x0:x1], np.array([x0, y0], float), scale


def _to_plot(p: np.ndarray) -> np.ndarray:
    """Camera frame (x right, y down, z forward) -> plot frame (x right, depth, up)."""
    return np.stack([p[:, 0], p[:, 2], -p[:, 1]], -1)


def draw_skeleton_3d(ax, joints: np.ndarray, colour_: str | None = None, lw: float = 1.8) -> None:
    """H36M-17 joints (17, 3), camera frame, as limbs coloured by side (or in one colour)."""
    p = _to_plot(joints)
    for (a, b), (ia, ib) in zip(H36M17.limbs, H36M17.limb_index, strict=True):
        c = colour_ or SIDE_COLOURS[limb_side(H36M17, a, b)]
        ax.plot(*p[[ia, ib]].T, "-", color=c, lw=lw, solid_capstyle="round")
    ax.scatter(*p.T, s=6, c=colour_ or "k", depthshade=False)


def _frame_3d(ax, poses: list[np.ndarray], title: str) -> None:
    pts = np.concatenate([_to_plot(p) for p in poses])
    centre, half = (pts.max(0) + pts.min(0)) / 2, (pts.max(0) - pts.min(0)).max() / 2 * 1.05
    for set_lim, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre, strict=True):
        set_lim(c - half, c + half)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=12, azim=-70)
    ax.set_xticks([]), ax.set_yticks([]), ax.set_zticks([])
    ax.set_title(title, fontsize=8, fontweight="normal", pad=0)


def qualitative_grid(samples: dict[str, int], pixels: np.ndarray, aligned: np.ndarray, gt_mm: np.ndarray,
                     errors: np.ndarray, images: dict[str, np.ndarray] | None = None,
                     per_row: int = 2, pred_colour: str | None = None) -> plt.Figure:
    """F07.2 (Fig. 4.2.1): per action, the 2D input, the aligned 3D prediction and the 3D ground truth.

    samples: action -> test index; pixels (N, 17, 2); aligned, gt_mm (N, 17, 3) mm; errors (N,) mm;
    images: action -> (RGB crop, (2,) crop origin in the scaled image, scale of the render), see render_input.
    """
    pred_colour = pred_colour or colour("vae-gan ZV")
    n = len(samples)
    rows = -(-n // per_row)
    fig = plt.figure(figsize=(3.3 * 3 * per_row / 1.35, 2.9 * rows))
    for k, (action, i) in enumerate(samples.items()):
        r, c = divmod(k, per_row)
        ax2d = fig.add_subplot(rows, 3 * per_row, r * 3 * per_row + 3 * c + 1)
        if images and action in images:
            img, origin, s = images[action]
            ax2d.imshow(img)
            draw_skeleton(ax2d, pixels[i] * s - origin, H36M17, ms=8, lw=1.4)
        else:
            draw_skeleton(ax2d, pixels[i], H36M17, ms=8, lw=1.4)
            ax2d.invert_yaxis()
            ax2d.set_aspect("equal")
        ax2d.set_xticks([]), ax2d.set_yticks([])
        ax2d.set_title(f"{action}: 2D input", fontsize=8, fontweight="normal")
        axp = fig.add_subplot(rows, 3 * per_row, r * 3 * per_row + 3 * c + 2, projection="3d")
        axg = fig.add_subplot(rows, 3 * per_row, r * 3 * per_row + 3 * c + 3, projection="3d")
        draw_skeleton_3d(axp, aligned[i], pred_colour)
        draw_skeleton_3d(axg, gt_mm[i], GT_COLOUR)
        _frame_3d(axp, [aligned[i], gt_mm[i]], f"prediction, aligned ({errors[i]:.0f} mm)")
        _frame_3d(axg, [aligned[i], gt_mm[i]], "ground truth")
    fig.subplots_adjust(wspace=0.02, hspace=0.15, left=0.01, right=0.99, top=0.95, bottom=0.02)
    return fig


def embed_2d(features: np.ndarray, seed: int = 0, method: str = "auto") -> tuple[np.ndarray, str]:
    """(N, d) -> ((N, 2) embedding, method name): UMAP when umap-learn is installed, else t-SNE."""
    if method == "auto":
        method = "UMAP" if importlib.util.find_spec("umap") is not None else "t-SNE"
    if method == "UMAP":
        import umap

        return umap.UMAP(n_components=2, random_state=seed).fit_transform(features), method
    if method == "t-SNE":
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits

        perplexity = float(min(30, max(2, (len(features) - 1) // 3)))
        with threadpool_limits(1):  # OpenMP threads spin badly on a shared 2-core machine (15x slower)
            return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features), method
    if method == "PCA":
        from sklearn.decomposition import PCA

        return PCA(2, random_state=seed).fit_transform(features), method
    raise ValueError(f"unknown embedding {method!r}; use auto, UMAP, t-SNE or PCA")


def latent_embedding(coords: np.ndarray, actions: np.ndarray, method: str, title: str = "") -> plt.Figure:
    """F07.3 (Fig. 4.3): the 2D embedding of latent means, one colour per action."""
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    names = sorted(set(actions))
    palette = dict(zip(names, sns.color_palette("tab10", len(names)), strict=True))
    for a in names:
        m = actions == a
        ax.scatter(coords[m, 0], coords[m, 1], s=5, alpha=0.7, color=palette[a], label=a, linewidths=0)
    ax.set_xlabel(f"{method} 1")
    ax.set_ylabel(f"{method} 2")
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(title or f"Latent means of the test poses ({method})")
    ax.legend(markerscale=3, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def training_curves(gan_log: pd.DataFrame, gan_val: pd.DataFrame, sup_log: pd.DataFrame, sup_val: pd.DataFrame,
                    flat_error: float | None = None) -> plt.Figure:
    """F07.4: VAE-GAN loss terms, beta and the discriminator's outputs, and test P-MPJPE of both models."""
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    ax = axes[0]
    ax.plot(gan_log["epoch"], gan_log["recon"], color=colour("vae-gan ZV"), label="VAE-GAN: L1 reprojection (2D)")
    ax.plot(sup_log["epoch"], sup_log["l1_3d"], color=colour("supervised"), label="supervised: L1 3D")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="loss (normalised units)", title="(a) reconstruction")
    ax.legend(fontsize=8)
    ax = axes[1]
    twin = ax.twinx()  # beta behind the KL curve
    twin.plot(gan_log["epoch"], gan_log["beta"], color="#b0b0b0", lw=0.9, ls="--")
    twin.set_ylim(-0.05, 1.05)
    twin.set_ylabel("β / λ_KL (dashed, window mean)")
    twin.grid(False)
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot(gan_log["epoch"], gan_log["kl"], color=colour("vae-gan ZV"))
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="KL per latent dimension (nats)", title="(b) latent prior and cyclic β")
    ax = axes[2]
    ax.plot(gan_log["epoch"], gan_log["p_real"], color="#4c72b0", label="D(real 2D)")
    ax.plot(gan_log["epoch"], gan_log["p_fake"], color="#c44e52", label="D(novel view)")
    ax.set_ylim(-0.02, 1.02)
    ax.set(xlabel="epoch", ylabel="mean discriminator output", title="(c) adversarial game")
    ax.legend(fontsize=8)
    ax = axes[3]
    ax.plot(gan_val["epoch"], gan_val["p_mpjpe_zv"], "o-", ms=3, color=colour("vae-gan ZV"), label="VAE-GAN ZV")
    ax.plot(sup_val["epoch"], sup_val["p_mpjpe_zv"], "o-", ms=3, color=colour("supervised"), label="supervised ZV")
    if flat_error is not None:
        ax.axhline(flat_error, color="#7f7f7f", ls=":", label="no lifting (zero depth)")
    ax.set(xlabel="epoch", ylabel="test P-MPJPE (mm)", title="(d) error on the test subjects")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
