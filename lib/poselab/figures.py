"""One look for every figure (a seaborn theme, one colour per side, model and experiment, kept across the report) and
the drawing helpers the studies' figures share: images, masks and skeletons."""

from __future__ import annotations

import re

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from poselab.data.joints import JointSet

SIDE_COLOURS = {"left": "#1f77b4", "right": "#ff7f0e", "centre": "#2ca02c"}
# One colour per model / experiment, kept across the whole report.
COLOURS = {
    "hourglass-1": "#64b5cd",
    "hourglass-2": "#4c72b0",
    "hourglass-4": "#55a868",
    "hourglass-8": "#c44e52",
    "skips on": "#4c72b0",
    "skips off": "#c44e52",
    "as designed": "#4c72b0",
    "no batchnorm": "#dd8452",
    "no batchnorm + identity": "#c44e52",
    # notebook 05's models: the HRNet variants in their notebook-06 colours, the models trained there apart
    "hrnet as designed": "#55a868",
    "hrnet no batchnorm": "#dd8452",
    "hrnet no batchnorm + identity": "#c44e52",
    "integral (hourglass-1)": "#8172b3",
    "integral (hourglass-2)": "#8172b3",
    "simplebaseline": "#937860",
    "vae-gan ZV": "#8172b3",
    "vae-gan BH": "#937860",
    "supervised": "#55a868",
    "supervised BH": "#8fd19e",
    "train": "#4c72b0",
    "val": "#dd8452",
}
STATUS_COLOURS = {
    "visible": "#55a868",
    "self-occluded": "#dd8452",
    "occluded by object": "#c44e52",
    "truncated": "#8c8c8c",
}


def colour(name: str) -> str:
    """The report-wide colour of a model, experiment or split (a neutral grey if unknown); a run of another seed
    (``hourglass-2-seed1``) has its model's colour."""
    return COLOURS.get(name, COLOURS.get(re.sub(r"-seed\d+$", "", name), "#7f7f7f"))


def use_style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    mpl.rcParams.update({"figure.dpi": 100, "savefig.dpi": 150, "axes.titleweight": "bold",
                         "axes.titlesize": 11, "figure.titlesize": 13, "image.interpolation": "nearest"})



def as_image(tensor, uint8: bool = False) -> np.ndarray:
    """A network input (3, H, W) in [0, 1] (a torch tensor or array) as an (H, W, 3) image for matplotlib: floats, or
    bytes with ``uint8``."""
    image = np.asarray(tensor.detach().cpu() if hasattr(tensor, "detach") else tensor).transpose(1, 2, 0)
    return (image * 255).astype(np.uint8) if uint8 else image


def limb_side(js: JointSet, a: str, b: str) -> str:
    sides = {js.side(a), js.side(b)}
    return "left" if sides == {"left"} else "right" if sides == {"right"} else "centre"


def draw_skeleton(
    ax: plt.Axes,
    joints: np.ndarray,
    js: JointSet,
    annotated: np.ndarray | None = None,
    visible: np.ndarray | None = None,
    lw: float = 1.6,
    ms: float = 9.0,
) -> None:
    """Limbs coloured by side; joints filled if visible, hollow if annotated but hidden,
    left out if unannotated.  joints (J, 2) pixels; annotated / visible (J,) bool."""
    j = len(joints)
    annotated = np.ones(j, bool) if annotated is None else np.asarray(annotated, bool)
    visible = annotated if visible is None else np.asarray(visible, bool)
    for (a, b), (ia, ib) in zip(js.limbs, js.limb_index, strict=True):
        if annotated[ia] and annotated[ib]:
            ax.plot(joints[[ia, ib], 0], joints[[ia, ib], 1], "-", lw=lw,
                    color=SIDE_COLOURS[limb_side(js, a, b)], alpha=0.9, solid_capstyle="round")
    colours = np.array([SIDE_COLOURS[js.side(n)] for n in js.names])
    seen = annotated & visible
    hidden = annotated & ~visible
    ax.scatter(joints[seen, 0], joints[seen, 1], s=ms, c=colours[seen], edgecolors="white", linewidths=0.4, zorder=3)
    ax.scatter(joints[hidden, 0], joints[hidden, 1], s=ms, facecolors="none", edgecolors=colours[hidden],
               linewidths=1.0, zorder=3)


def show_image(ax: plt.Axes, image: np.ndarray, mask: np.ndarray | None = None, title: str = "") -> None:
    """An image with an optional person-mask outline; no axes."""
    ax.imshow(image)
    if mask is not None and mask.any():
        ax.contour(mask.astype(float), levels=[0.5], colors="white", linewidths=0.7, alpha=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlim(-0.5, image.shape[1] - 0.5)
    ax.set_ylim(image.shape[0] - 0.5, -0.5)
    if title:
        ax.set_title(title, fontsize=8, fontweight="normal")
