"""Descriptive statistics of the data sets (notebook 01)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from poselab.data.dataset import ImageSet
from poselab.data.joints import get_convention
from poselab.data.synthetic.render import STATUS_NAMES


def image_set_summary(sets: dict[str, ImageSet], convention: str = "mpii16") -> pd.DataFrame:
    """One row per split: size, subjects, actions, completeness and per-joint annotation rate."""
    js = get_convention(convention)
    rows = {}
    for split, s in sets.items():
        ann = s.annotated(js)
        row = {
            "samples": len(s),
            "image size": f"{s.image_size}x{s.image_size}",
            "subjects": " ".join(sorted(set(s.subjects), key=lambda x: int(x[1:]))),
            "actions": len(set(s.actions)),
            "sequences": len(np.unique(s.ann["sequence"])),
            f"fully annotated ({js.name})": ann.all(1).mean(),
            "fully annotated (coco17)": s.fully_annotated("coco17").mean(),
            "mean annotated joints": ann.sum(1).mean(),
            "visible joints (fraction)": (s.status(js) == 3).mean(),
        }
        for j, label in enumerate(js.labels):
            row[f"annotated: {label}"] = ann[:, j].mean()
        rows[split] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def lifting_summary(pos3d: dict, subjects_by_split: dict[str, tuple[str, ...]], n_cameras: int,
                    fps: int) -> pd.DataFrame:
    """One row per lifting split: frames, sequences, subjects, actions."""
    rows = {}
    for split, subjects in subjects_by_split.items():
        seqs = [(s, a, v) for s in subjects for a, v in pos3d.get(s, {}).items()]
        frames = sum(len(v) for _, _, v in seqs)
        rows[split] = {
            "samples": frames * n_cameras,
            "image size": "2D/3D poses only",
            "subjects": " ".join(subjects),
            "actions": len({a.split(" ")[0] for _, a, _ in seqs}),
            "sequences": len(seqs),
            "frames (3D)": frames,
            "cameras": n_cameras,
            "hours of motion": frames / fps / 3600,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def visibility_breakdown(s: ImageSet, convention: str = "coco17") -> pd.DataFrame:
    """Fraction of samples per joint (rows) in each status (columns)."""
    js = get_convention(convention)
    st = s.status(js)
    return pd.DataFrame(
        {name: (st == code).mean(0) for code, name in sorted(STATUS_NAMES.items(), reverse=True)},
        index=list(js.labels),
    )


def action_counts(sets: dict[str, ImageSet]) -> pd.DataFrame:
    """Samples per action (rows) and split (columns)."""
    return pd.DataFrame({split: pd.Series(s.actions).value_counts() for split, s in sets.items()}).fillna(0).astype(int)
