"""The official MPII HRNet-W32 (``pose_hrnet_w32_256x256.pth``) scored by this report's MPII pipeline, beside the
published per-joint PCKh@0.5 (Sun et al. 2019; the HRNet repository's README): notebook 06 adds it whenever the
checkpoint and real MPII are both on disk.

The crops follow the official code (its centre shifted 15 x scale down, the box enlarged 1.25, the box centre on
crop pixel (W / 2, H / 2)), and the network is fed and decoded as it was trained (``Checkpoint.feeding``: RGB with the
ImageNet mean and standard deviation, heatmap cell k at input pixel 4k).  The published numbers add a flip test, which
this row does not, so a gap of a point or so is the flip test's.  A checkpoint under ``GATE`` of its published mean
fails the accuracy gate (``Checkpoint.gate``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from poselab.data.fixtures import is_fixture
from poselab.data.joints import MPII16
from poselab.data.manifest import check_dataset, load_manifest
from poselab.data.pose2d import sources_for
from poselab.data.pose_dataset import HeatmapDataset
from poselab.data.pretrained import Checkpoint, present
from poselab.evaluation.pck import evaluate
from poselab.metrics import correct_mask, pck, scored
from poselab.models.pretrained import load_pretrained
from poselab.training.jobs import data_choice

NAME = "hrnet_w32_mpii"
# The HRNet repository's README, "Results on MPII val" (flip test, 256x256): pose_hrnet_w32.
PUBLISHED = {"Head": 97.1, "Shoulder": 95.9, "Elbow": 90.3, "Wrist": 86.4, "Hip": 89.1, "Knee": 87.1, "Ankle": 83.3,
             "Mean": 90.3, "Mean@0.1": 37.7}
PARTS = {"Head": ("head_top", "upper_neck"), "Shoulder": ("l_shoulder", "r_shoulder"),
         "Elbow": ("l_elbow", "r_elbow"), "Wrist": ("l_wrist", "r_wrist"), "Hip": ("l_hip", "r_hip"),
         "Knee": ("l_knee", "r_knee"), "Ankle": ("l_ankle", "r_ankle")}


def available(place) -> Checkpoint | None:
    """The official MPII HRNet-W32 when it and real MPII (or its fixture) are on disk, else None."""
    mpii = load_manifest()["mpii"]
    if check_dataset(mpii, place.data_dir, verify=False).state not in ("present", "verified"):
        return None
    return present(place.data_dir, notebook="06").get(NAME)


def _part_means(per_joint_correct: np.ndarray, annotated: np.ndarray) -> dict[str, float]:
    """PCKh per MPII part (left and right pooled, as the published table), in percent."""
    out = {}
    for part, names in PARTS.items():
        idx = [MPII16.index(n) for n in names]
        out[part] = 100 * per_joint_correct[:, idx].sum() / max(annotated[:, idx].sum(), 1)
    return out


def official_row(place, ck: Checkpoint) -> tuple[pd.DataFrame, str | None]:
    """(table, gate): PCKh@0.5 per part, the mean (pelvis and thorax left out, as the official mean) and the mean
    PCKh@0.1 of the checkpoint on MPII validation at 256x256, the published row below it; and None when the mean
    passes the accuracy gate, else why no verdict may rest on the checkpoint."""
    _, val, _, _ = sources_for(data_choice(place, use_real=True), "mpii16")
    model = load_pretrained(ck, place.data_dir, place.device)
    ev = evaluate(model, HeatmapDataset(val, ck.input[0], feeding=ck.feeding), val, "mpii16", place.device)
    idx = ev.predictions.indices
    head = val.norm_sizes()["head"][idx]
    gt, ann = val.joints()[idx], val.annotated()[idx]
    ok = correct_mask(ev.predictions.joints, gt, ann, head, 0.5)
    excl = tuple(MPII16.index(n) for n in ("pelvis", "thorax"))
    _, mean01 = pck(ev.predictions.joints, gt, ann, head, 0.1, excl)
    fixture = " (fixture: random weights in the official layout, on an MPII-layout fixture)" if is_fixture(
        ck.path(place.data_dir).parent) or is_fixture(load_manifest()["mpii"].folder(place.data_dir)) else ""
    ours = {**_part_means(ok, scored(ann, head)), "Mean": 100 * ev.pckh, "Mean@0.1": 100 * mean01}
    rows = {f"official checkpoint, fed as trained, no flip test{fixture}": ours,
            "published (Sun et al. 2019, flip test)": PUBLISHED}
    t = pd.DataFrame.from_dict(rows, orient="index")[list(PUBLISHED)]
    t.index.name = f"HRNet-W32 on MPII validation ({len(idx)} people)"
    return t, ck.gate(ev.pckh, "PCKh@0.5 mean")
