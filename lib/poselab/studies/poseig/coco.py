"""PoseIG in the authors' own setting: COCO val2017 people and the official COCO checkpoints (SimpleBaseline-ResNet50
and HRNet-W32 at 256x192), used by notebook 05 whenever both are on disk (``data_manifest.yaml``: ``coco_keypoints``
and the ``checkpoints`` trained on it).

The people are those SimpleBaseline and HRNet evaluate (``poselab.data.coco.person_instances``), cropped as their
pipelines crop them with the ground-truth boxes (``Checkpoint.feeding``); each crop is the network's input itself, so
the attribution runs on exactly the pixels the network sees (its colour order and normalisation are the network's
first step, ``poselab.data.feeding.attach``).  Before any attribution the checkpoints' keypoint AP (pycocotools' OKS)
on the same pipeline is set beside the published figure, and a checkpoint under ``GATE`` of it fails the accuracy
gate: no verdict rests on it.

A part of val2017 is a legitimate use (the annotation file and some of its images): the study runs on the people
whose images are on disk and says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from poselab.data import coco
from poselab.data.feeding import CROP_WORDS, Feeding, feeding_of
from poselab.data.joints import COCO17
from poselab.data.manifest import load_manifest
from poselab.data.pretrained import Checkpoint, present
from poselab.heatmaps import decode_argmax
from poselab.models.complexity import count_parameters
from poselab.models.pretrained import load_pretrained
from poselab.studies.poseig.attribute import Samples
from poselab.studies.poseig.experiment import EXPLICIT, Compared
from poselab.studies.poseig.settings import PoseIGStudy

SPLIT = "val2017"


@dataclass
class COCOSetting:
    """The COCO folder, its annotations (a pycocotools ``COCO``), the official COCO checkpoints on disk, and the
    val2017 images on disk (file names)."""

    root: Path
    annotations: object
    checkpoints: dict[str, Checkpoint]
    on_disk: frozenset[str]

    @property
    def images(self) -> Path:
        return self.root / SPLIT

    @property
    def feeding(self) -> Feeding:
        """How the crops are cut: the checkpoints' codebase's convention (they must agree, as one crop feeds all)."""
        crops = {(ck.feeding.crop, ck.feeding.one_based) for ck in self.checkpoints.values()}
        if len(crops) > 1:
            raise ValueError(f"the COCO checkpoints {sorted(self.checkpoints)} were trained on differently cut crops "
                             f"{sorted(crops)}; one set of crops cannot feed them all")
        return next(iter(self.checkpoints.values())).feeding

    def image_ids(self) -> list[int]:
        """The val2017 images that are annotated and on disk."""
        return [i for i in sorted(self.annotations.getImgIds())
                if self.annotations.loadImgs(i)[0]["file_name"] in self.on_disk]


def availability(place) -> tuple[COCOSetting | None, str]:
    """(the COCO setting, a line saying what is used) when the val2017 keypoint annotations, at least one of their
    images and at least one official COCO checkpoint are on disk; else (None, a line saying what is missing)."""
    ds = load_manifest()["coco_keypoints"]
    root = ds.folder(place.data_dir)
    annotations = root / "annotations" / f"person_keypoints_{SPLIT}.json"
    checkpoints = present(place.data_dir, notebook="05", dataset="coco_keypoints")
    if not annotations.is_file():
        return None, f"the COCO setting needs {annotations} (python -m poselab.data fetch coco_keypoints)"
    if not checkpoints:
        return None, "the COCO setting needs an official COCO checkpoint on disk (python -m poselab.data status)"
    cs = COCOSetting(root, coco.load_annotations(annotations), checkpoints,
                     frozenset(p.name for p in (root / SPLIT).glob("*.jpg")))
    annotated = len(cs.annotations.getImgIds())
    present_ids = cs.image_ids()
    if not present_ids:
        return None, (f"COCO: {annotations.name} annotates {annotated} images, none of which is in {root / SPLIT}: "
                      "the study runs on synthetic people (python -m poselab.data fetch coco_keypoints)")
    share = ("every one of them" if len(present_ids) == annotated else
             f"only {len(present_ids)} of them on disk: the study runs on the people of those images")
    return cs, f"COCO: {annotations.name} annotates {annotated} images, {share}"


def setting(place) -> COCOSetting | None:
    """The COCO setting (``availability``), or None."""
    return availability(place)[0]


def people(place, study: PoseIGStudy, cs: COCOSetting) -> tuple[Samples, coco.Crops, coco.Selection]:
    """``study.coco_images`` people drawn (seeded) from val2017's evaluated people, cropped to ``study.coco_size``:
    the samples PoseIG explains (joints in crop pixels, COCO's visibility as the annotation), the crops (with their
    matrices back to the image) and the selection with its counts.  Keypoint inversion's radius is the authors' fixed
    10 crop pixels (COCO has no head boxes), given as a head size of 10 / ``inversion_alpha``."""
    selection = coco.person_instances(cs.annotations, cs.image_ids())
    if not selection.people:
        raise ValueError(f"{cs.root}: no person with keypoints in the {SPLIT} images on disk ({selection.counts})")
    rng = np.random.default_rng(place.seed)
    idx = np.sort(rng.choice(len(selection.people), min(study.coco_images, len(selection.people)), replace=False))
    chosen = [selection.people[i] for i in idx]
    crops = coco.crop_people(cs.annotations, cs.images, chosen, study.coco_size, study.coco_mask, cs.feeding)
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
    """Joints (N, 17, 2) in image pixels and their heatmap peaks (N, 17): argmax with the quarter-pixel shift, the cells
    placed in the crop as the model was trained (``feeding_of(model)``), mapped back through each crop's matrix (no
    flip test)."""
    feeding = feeding_of(model)
    if (crops.feeding.crop, crops.feeding.one_based) != (feeding.crop, feeding.one_based):
        raise ValueError(f"the crops were cut {crops.feeding.crop!r}, the model was trained on {feeding.crop!r} crops")
    joints, peaks = [], []
    for i in range(0, len(crops.images), batch_size):
        out = model(crops.images[i : i + batch_size].to(device))
        out = out[-1] if isinstance(out, list | tuple) else out
        xy, peak = decode_argmax(out.float().cpu())
        joints.append(feeding.heatmap_to_input(xy, crops.images.shape[-1] // out.shape[-1]).numpy())
        peaks.append(peak.numpy())
    joints_crop, peaks = np.concatenate(joints), np.concatenate(peaks)
    image = np.stack([coco.crop_to_image(j, m) for j, m in zip(joints_crop, crops.matrices, strict=True)])
    return image, peaks


def accuracy_table(place, cs: COCOSetting, study: PoseIGStudy, compared: dict[str, Compared]) -> pd.DataFrame:
    """Keypoint AP and AR (pycocotools, OKS) of every checkpoint on the people of the first ``study.coco_ap_images``
    val2017 images on disk (all when None), with the ground-truth boxes and no flip test, beside the published figures
    (detected boxes, flip test), and the accuracy gate (``Checkpoint.gate``): "passed", or why no verdict rests on
    the checkpoint."""
    ids = cs.image_ids()
    ids = ids if study.coco_ap_images is None else ids[: study.coco_ap_images]
    selection = coco.person_instances(cs.annotations, ids)
    if not selection.people:
        raise ValueError(f"{cs.root}: no person with keypoints in the first {len(ids)} {SPLIT} images on disk")
    crops = coco.crop_people(cs.annotations, cs.images, selection.people, study.coco_size, feeding=cs.feeding)
    by_label = {ck.label(place.data_dir): ck for ck in cs.checkpoints.values()}
    rows = {}
    for label, c in compared.items():
        joints, peaks = predict_image_joints(c.model, crops, place.device)
        stats = coco.keypoint_ap(cs.annotations, coco.keypoint_results(selection.people, joints, peaks), ids)
        ck = by_label[label]
        rows[label] = {"images": len(ids), "people": len(selection.people), **stats,
                       "parameters (M)": count_parameters(c.model) / 1e6, "published": ck.published,
                       GATE_COLUMN: ck.gate(stats["AP"], "keypoint AP") or "passed"}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("checkpoint")


GATE_COLUMN = "accuracy gate"


def gate_failures(t058: pd.DataFrame) -> dict[str, str]:
    """The checkpoints of T05.8 that failed the accuracy gate: label -> why."""
    return {label: why for label, why in t058[GATE_COLUMN].items() if why != "passed"}


SOURCE = "ours (COCO val2017, official checkpoints)"


def with_main(study: PoseIGStudy, compared: dict[str, Compared]) -> PoseIGStudy:
    """``study`` with the model of the sanity tests on COCO: ``study.main`` when it is one of the checkpoints (by label
    or by name), else the SimpleBaseline (the authors' main model), else the first checkpoint; a replacement is said."""
    if study.main in compared:
        return study
    labels = {c.run: label for label, c in compared.items()}  # checkpoint name -> label
    main = labels.get(study.main) or labels.get("simplebaseline_r50_coco", next(iter(compared)))
    if study.main not in labels:
        print(f"model {study.main!r} is not one of the COCO checkpoints ({', '.join(labels)}): the sanity tests use "
              f"{main}")
    return replace(study, main=main)


def describe(cs: COCOSetting, selection: coco.Selection, samples: Samples, study: PoseIGStudy) -> str:
    """A paragraph for the notebook: which people and which models this run explains, cut and fed how."""
    c = selection.counts
    mask = ("her own segmentation" if study.coco_mask == "person" else
            "every person of the image (the authors' choice)")
    from poselab.data.fixtures import is_fixture

    data = ("a fixture in COCO's layout (synthetic people), not COCO val2017" if is_fixture(cs.root) else
            "COCO val2017")
    return (f"**This run: {data}, with the official checkpoints** ({', '.join(cs.checkpoints)}). Of "
            f"{c['person annotations']} person annotations in the {len(cs.image_ids())} images on disk, {c['crowd']} "
            f"crowd regions, {c['empty box']} empty boxes "
            f"and {c['no annotated keypoint']} people without an annotated keypoint are left out, as SimpleBaseline "
            f"and HRNet leave them out; {len(samples)} of the {c['kept']} people are explained, each cropped to "
            f"{study.coco_size[0]}x{study.coco_size[1]} from her ground-truth box (aspect 0.75, enlarged 1.25) as "
            f"the checkpoints were trained ({CROP_WORDS[cs.feeding.crop]}) and masked by {mask}. Each checkpoint "
            f"takes the crop in its codebase's colour order and normalisation "
            f"({'; '.join(f'{n}: {feeding_text(ck.feeding)}' for n, ck in cs.checkpoints.items())}).")


def feeding_text(f: Feeding) -> str:
    """How a network is fed, in a few words."""
    norm = "no normalisation" if f.mean is None else f"ImageNet mean {list(f.mean)} and std {list(f.std)}"
    return f"{f.colour.upper()}, {norm}, heatmap cell k at input pixel {f.heatmap}"
