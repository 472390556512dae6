"""PoseIG in the authors' own setting: COCO val2017 people and the official COCO checkpoints (SimpleBaseline-ResNet50
and HRNet-W32 at 256x192), used by notebook 05 whenever both are on disk (``data_manifest.yaml``: ``coco_keypoints``
and the ``checkpoints`` trained on it).

The people are those SimpleBaseline and HRNet evaluate (``poselab.data.coco.person_instances``), cropped as their
pipelines crop them with the ground-truth boxes; each crop is the network's input itself, so the attribution runs on
exactly the pixels the network sees.  Before any attribution the checkpoints' keypoint AP (pycocotools' OKS) on the
same pipeline is set beside the published figure, so that a broken checkpoint or crop shows before its maps do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from poselab.data import coco
from poselab.data.joints import COCO17
from poselab.data.manifest import check_dataset, load_manifest
from poselab.data.pretrained import Checkpoint, present
from poselab.heatmaps import decode_argmax, heatmap_to_input
from poselab.models.complexity import count_parameters
from poselab.models.pretrained import load_pretrained
from poselab.studies.poseig.attribute import Samples
from poselab.studies.poseig.experiment import EXPLICIT, Compared
from poselab.studies.poseig.settings import PoseIGStudy

SPLIT = "val2017"


@dataclass
class COCOSetting:
    """The COCO folder, its annotations (a pycocotools ``COCO``) and the official COCO checkpoints on disk."""

    root: Path
    annotations: object
    checkpoints: dict[str, Checkpoint]

    @property
    def images(self) -> Path:
        return self.root / SPLIT


def setting(place) -> COCOSetting | None:
    """The COCO setting when COCO val2017 and at least one official COCO checkpoint are on disk, else None."""
    ds = load_manifest()["coco_keypoints"]
    if check_dataset(ds, place.data_dir, verify=False).state not in ("present", "verified"):
        return None
    checkpoints = present(place.data_dir, notebook="05", dataset="coco_keypoints")
    if not checkpoints:
        return None
    root = ds.folder(place.data_dir)
    return COCOSetting(root, coco.load_annotations(root / "annotations" / f"person_keypoints_{SPLIT}.json"),
                       checkpoints)


def people(place, study: PoseIGStudy, cs: COCOSetting) -> tuple[Samples, coco.Crops, coco.Selection]:
    """``study.coco_images`` people drawn (seeded) from val2017's evaluated people, cropped to ``study.coco_size``:
    the samples PoseIG explains (joints in crop pixels, COCO's visibility as the annotation), the crops (with their
    matrices back to the image) and the selection with its counts.  Keypoint inversion's radius is the authors' fixed
    10 crop pixels (COCO has no head boxes), given as a head size of 10 / ``inversion_alpha``."""
    selection = coco.person_instances(cs.annotations)
    if not selection.people:
        raise ValueError(f"{cs.root}: no person with keypoints in {SPLIT} ({selection.counts})")
    rng = np.random.default_rng(place.seed)
    idx = np.sort(rng.choice(len(selection.people), min(study.coco_images, len(selection.people)), replace=False))
    chosen = [selection.people[i] for i in idx]
    crops = coco.crop_people(cs.annotations, cs.images, chosen, study.coco_size, study.coco_mask)
    head = np.full(len(chosen), 10.0 / study.inversion_alpha)
    samples = Samples(crops.images, crops.masks, crops.joints, crops.annotated, head, idx, COCO17)
    return samples, crops, selection


def models(place, cs: COCOSetting, study: PoseIGStudy) -> dict[str, Compared]:
    """The official COCO checkpoints as compared models (explicit heatmaps), labelled with where they came from."""
    out = {}
    for ck in cs.checkpoints.values():
        model = load_pretrained(ck, place.data_dir, place.device)
        label = ck.label(place.data_dir)
        out[label] = Compared(label, EXPLICIT, model, tuple(study.coco_size), f"{ck.file} ({ck.source.split(' (')[0]})",
                              ck.name)
    return out


@torch.no_grad()
def predict_image_joints(model: torch.nn.Module, crops: coco.Crops, device: str = "cpu",
                         batch_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Joints (N, 17, 2) in image pixels and their heatmap peaks (N, 17): argmax with the quarter-pixel shift, mapped
    back through each crop's matrix (no flip test)."""
    joints, peaks = [], []
    for i in range(0, len(crops.images), batch_size):
        out = model(crops.images[i : i + batch_size].to(device))
        out = out[-1] if isinstance(out, list | tuple) else out
        xy, peak = decode_argmax(out.float().cpu())
        joints.append(heatmap_to_input(xy, crops.images.shape[-1] // out.shape[-1]).numpy())
        peaks.append(peak.numpy())
    joints_crop, peaks = np.concatenate(joints), np.concatenate(peaks)
    image = np.stack([coco.crop_to_image(j, m) for j, m in zip(joints_crop, crops.matrices, strict=True)])
    return image, peaks


def accuracy_table(place, cs: COCOSetting, study: PoseIGStudy, compared: dict[str, Compared]) -> pd.DataFrame:
    """Keypoint AP and AR (pycocotools, OKS) of every checkpoint on the people of the first ``study.coco_ap_images``
    images of val2017 (all when None), with the ground-truth boxes and no flip test, beside the published figures
    (detected boxes, flip test)."""
    ids = sorted(cs.annotations.getImgIds())
    ids = ids if study.coco_ap_images is None else ids[: study.coco_ap_images]
    selection = coco.person_instances(cs.annotations, ids)
    crops = coco.crop_people(cs.annotations, cs.images, selection.people, study.coco_size)
    by_label = {ck.label(place.data_dir): ck for ck in cs.checkpoints.values()}
    rows = {}
    for label, c in compared.items():
        joints, peaks = predict_image_joints(c.model, crops, place.device)
        stats = coco.keypoint_ap(cs.annotations, coco.keypoint_results(selection.people, joints, peaks), ids)
        rows[label] = {"images": len(ids), "people": len(selection.people), **stats,
                       "parameters (M)": count_parameters(c.model) / 1e6, "published": by_label[label].published}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("checkpoint")


SOURCE = "ours (COCO val2017, official checkpoints)"


def with_main(study: PoseIGStudy, compared: dict[str, Compared]) -> PoseIGStudy:
    """``study`` with the model of the sanity tests on COCO: ``study.main`` when it is one of the checkpoints, else the
    SimpleBaseline (the authors' main model), else the first checkpoint."""
    if study.main in compared:
        return study
    labels = {c.run: label for label, c in compared.items()}  # checkpoint name -> label
    return replace(study, main=labels.get("simplebaseline_r50_coco", next(iter(compared))))


def describe(cs: COCOSetting, selection: coco.Selection, samples: Samples, study: PoseIGStudy) -> str:
    """A paragraph for the notebook: which people and which models this run explains."""
    c = selection.counts
    mask = ("her own segmentation" if study.coco_mask == "person" else
            "every person of the image (the authors' choice)")
    from poselab.data.fixtures import is_fixture

    data = ("a fixture in COCO's layout (synthetic people), not COCO val2017" if is_fixture(cs.root) else
            "COCO val2017")
    return (f"**This run: {data}, with the official checkpoints** ({', '.join(cs.checkpoints)}). Of "
            f"{c['person annotations']} person annotations, {c['crowd']} crowd regions, {c['empty box']} empty boxes "
            f"and {c['no annotated keypoint']} people without an annotated keypoint are left out, as SimpleBaseline "
            f"and HRNet leave them out; {len(samples)} of the {c['kept']} people are explained, each cropped to "
            f"{study.coco_size[0]}x{study.coco_size[1]} from her ground-truth box (aspect 0.75, enlarged 1.25) and "
            f"masked by {mask}.")
