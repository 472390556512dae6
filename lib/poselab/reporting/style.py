"""One look for every figure: seaborn theme, fixed colours per side, model and experiment."""

from __future__ import annotations

import re

import matplotlib as mpl
import seaborn as sns

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
