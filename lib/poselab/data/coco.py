"""COCO keypoints (Lin et al. 2014) through pycocotools: person instances, their crops and masks, and OKS AP.

The people are selected as the SimpleBaseline and HRNet code selects them from the ground truth
(``COCODataset._load_coco_keypoint_annotation_kernal``): non-crowd person annotations of an image, the box clipped
to the image and kept only with a positive area, and only people with at least one annotated keypoint.  Their crop
follows the same codebases' box convention: the box is widened or heightened to the crop's aspect (0.75 for
256x192, width over height), then enlarged 1.25 times, and resampled to the crop, its centre at the crop's centre.
Coordinates are taken as pixel centres (x = j is the centre of column j), as everywhere in poselab.

The person's mask is its own segmentation (polygon or RLE) rasterised by pycocotools' ``annToMask`` and warped
into the crop with the same affine map (nearest neighbour).  The authors of PoseIG mask every person in the crop;
``mask="all"`` gives that (every person annotation of the image, crowds included).

Keypoint AP is pycocotools' own ``COCOeval`` with the OKS, on the predictions given in image pixels.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from poselab.data.transforms import transform_points

ASPECT = 192 / 256  # crop width over height (SimpleBaseline and HRNet at 256x192)
ENLARGE = 1.25  # the box is enlarged by this factor before cropping (both codebases)
MASKS = ("person", "all")  # the person's own segmentation, or every person in the image (the PoseIG authors')


class COCOError(ValueError):
    """A COCO file that is missing or cannot be read; the message names it."""


def _pycocotools():
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError as e:  # pragma: no cover - pinned in pyproject.toml
        raise COCOError("pycocotools is not installed (pip install -e . installs the pinned version)") from e
    return COCO, COCOeval


def load_annotations(path: str | Path):
    """A ``pycocotools.coco.COCO`` of an annotation file; ``COCOError`` naming the file if it is missing, not JSON,
    or not a COCO keypoint file."""
    COCO, _ = _pycocotools()
    path = Path(path)
    if not path.is_file():
        raise COCOError(f"{path}: not found (COCO keypoint annotations, e.g. person_keypoints_val2017.json)")
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise COCOError(f"{path}: not JSON ({e})") from None
    missing = [k for k in ("images", "annotations", "categories") if k not in data]
    if missing:
        raise COCOError(f"{path}: not a COCO annotation file (no {', '.join(missing)})")
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress lines
        coco.createIndex()
    if not coco.getCatIds(catNms=["person"]):
        raise COCOError(f"{path}: has no 'person' category")
    return coco


@dataclass
class Person:
    """One person instance: annotation and image ids, the image file name, the clipped box (x, y, w, h), the crop's
    centre (2,) and size (w, h) in image pixels, joints (17, 2) and visibility flags (17,) 0/1/2 as COCO stores
    them, and the annotation's area."""

    ann_id: int
    image_id: int
    file_name: str
    box: np.ndarray
    center: np.ndarray
    crop_size: np.ndarray
    joints: np.ndarray
    visibility: np.ndarray
    area: float


@dataclass
class Selection:
    """The people kept and how many annotations each filter left out."""

    people: list[Person]
    counts: dict[str, int] = field(default_factory=dict)

    def table(self):
        import pandas as pd

        return pd.Series(self.counts, name="count").rename_axis("person annotations").to_frame()


def crop_box(box: np.ndarray, aspect: float = ASPECT, enlarge: float = ENLARGE) -> tuple[np.ndarray, np.ndarray]:
    """(centre, (w, h)) of a box (x, y, w, h) brought to ``aspect`` (width / height) by growing its short side, then
    enlarged ``enlarge`` times (the ``_box2cs`` of SimpleBaseline and HRNet)."""
    x, y, w, h = (float(v) for v in box)
    center = np.array([x + 0.5 * w, y + 0.5 * h])
    if w > aspect * h:
        h = w / aspect
    else:
        w = h * aspect
    return center, np.array([w, h]) * enlarge


def crop_matrix(center: np.ndarray, size: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """3x3 affine from image pixels to crop pixels: the box of ``size`` (w, h) around ``center`` onto an
    ``out_hw`` (height, width) crop, box centre on crop centre ((W - 1) / 2, (H - 1) / 2)."""
    out_h, out_w = out_hw
    s = out_w / float(size[0])
    m = np.eye(3)
    m[0, 0] = m[1, 1] = s
    m[:2, 2] = np.array([(out_w - 1) / 2, (out_h - 1) / 2]) - s * np.asarray(center, float)
    return m


def warp(image: torch.Tensor, matrix: np.ndarray, out_hw: tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Resample (C, H, W) through ``matrix`` (image -> crop) into (C, out_h, out_w); zero outside the image."""
    c, h, w = image.shape
    out_h, out_w = out_hw
    inv = np.linalg.inv(np.asarray(matrix, float))
    v, u = torch.meshgrid(torch.arange(out_h, dtype=torch.float64), torch.arange(out_w, dtype=torch.float64),
                          indexing="ij")
    src = torch.stack([u, v, torch.ones_like(u)], -1) @ torch.from_numpy(inv[:2].T)  # (out_h, out_w, 2) image px
    grid = torch.stack([2 * src[..., 0] / (w - 1) - 1 if w > 1 else src[..., 0] * 0,
                        2 * src[..., 1] / (h - 1) - 1 if h > 1 else src[..., 1] * 0], -1)
    out = F.grid_sample(image[None].float(), grid[None].float(), mode=mode, padding_mode="zeros", align_corners=True)
    return out[0].to(image.dtype)


def person_instances(coco, image_ids: list[int] | None = None) -> Selection:
    """Every person SimpleBaseline and HRNet would train or test on, in the order of the images (then annotations),
    with the counts of the annotations left out: crowds, boxes without area once clipped to the image, and people
    without an annotated keypoint."""
    person = coco.getCatIds(catNms=["person"])[0]
    ids = sorted(coco.getImgIds()) if image_ids is None else list(image_ids)
    counts = {"person annotations": 0, "crowd": 0, "empty box": 0, "no annotated keypoint": 0}
    people = []
    for image_id in ids:
        info = coco.loadImgs(image_id)[0]
        width, height = info["width"], info["height"]
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image_id, catIds=[person])):
            counts["person annotations"] += 1
            if ann.get("iscrowd", 0):
                counts["crowd"] += 1
                continue
            x, y, w, h = ann["bbox"]
            x1, y1 = max(0.0, x), max(0.0, y)
            x2, y2 = min(width - 1.0, x1 + max(0.0, w - 1)), min(height - 1.0, y1 + max(0.0, h - 1))
            if not (ann.get("area", 0) > 0 and x2 >= x1 and y2 >= y1):
                counts["empty box"] += 1
                continue
            kp = np.asarray(ann.get("keypoints") or [0] * 51, float).reshape(-1, 3)
            if kp[:, 2].max() <= 0:
                counts["no annotated keypoint"] += 1
                continue
            box = np.array([x1, y1, x2 - x1, y2 - y1])
            center, size = crop_box(box)
            people.append(Person(ann["id"], image_id, info["file_name"], box, center, size, kp[:, :2].copy(),
                                 kp[:, 2].astype(int), float(ann["area"])))
    counts["kept"] = len(people)
    return Selection(people, counts)


def person_mask(coco, person: Person, mask: str = "person") -> np.ndarray:
    """The mask (H, W) bool in image pixels: the person's own segmentation, or (``"all"``) every person in the image."""
    if mask not in MASKS:
        raise ValueError(f"mask must be one of {MASKS}, got {mask!r}")
    if mask == "person":
        return coco.annToMask(coco.loadAnns(person.ann_id)[0]).astype(bool)
    anns = coco.loadAnns(coco.getAnnIds(imgIds=person.image_id, catIds=coco.getCatIds(catNms=["person"]),
                                        iscrowd=None))
    return np.any([coco.annToMask(a).astype(bool) for a in anns], axis=0)


def read_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB; ``COCOError`` naming a missing or unreadable file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.array(im.convert("RGB"))
    except FileNotFoundError:
        raise COCOError(f"{path}: image not found") from None
    except (UnidentifiedImageError, OSError) as e:
        raise COCOError(f"{path}: not a readable image ({e})") from None


@dataclass
class Crops:
    """People cropped: images (N, 3, H, W) in [0, 1], masks (N, H, W) bool, joints (N, 17, 2) crop pixels, annotated
    (N, 17), the crop matrices (N, 3, 3) image -> crop, and the people."""

    images: torch.Tensor
    masks: torch.Tensor
    joints: torch.Tensor
    annotated: np.ndarray
    matrices: np.ndarray
    people: list[Person]


def crop_people(coco, image_dir: Path, people: list[Person], out_hw: tuple[int, int] = (256, 192),
                mask: str = "person") -> Crops:
    """Every person's crop (bilinear), mask (nearest) and joints in crop pixels; the box brought to the crop's aspect
    (0.75 for the codebases' 256x192, where it is the person's ``center`` and ``crop_size``)."""
    images, masks, joints, matrices = [], [], [], []
    for p in people:
        m = crop_matrix(*crop_box(p.box, out_hw[1] / out_hw[0]), out_hw)
        image = torch.from_numpy(read_image(Path(image_dir) / p.file_name)).permute(2, 0, 1).float() / 255
        images.append(warp(image, m, out_hw))
        full = torch.from_numpy(person_mask(coco, p, mask)).float()[None]
        masks.append(warp(full, m, out_hw, mode="nearest")[0] > 0.5)
        joints.append(image_to_crop(p.joints, m))
        matrices.append(m)
    return Crops(torch.stack(images), torch.stack(masks), torch.as_tensor(np.stack(joints), dtype=torch.float32),
                 np.stack([p.visibility > 0 for p in people]), np.stack(matrices), list(people))


def keypoint_results(people: list[Person], joints: np.ndarray, scores: np.ndarray | None = None) -> list[dict]:
    """COCO result entries for predictions ``joints`` (N, 17, 2) in image pixels (score 1 per joint unless given
    (N, 17)); the instance score is the mean joint score."""
    scores = np.ones(joints.shape[:2]) if scores is None else np.asarray(scores, float)
    return [{"image_id": int(p.image_id), "category_id": 1,
             "keypoints": np.concatenate([j, s[:, None]], 1).ravel().round(3).tolist(), "score": float(s.mean())}
            for p, j, s in zip(people, np.asarray(joints, float), scores, strict=True)]


AP_NAMES = ("AP", "AP50", "AP75", "AP (medium)", "AP (large)", "AR", "AR50", "AR75", "AR (medium)", "AR (large)")


def keypoint_ap(coco, results: list[dict], image_ids: list[int] | None = None) -> dict[str, float]:
    """pycocotools' OKS keypoint AP and AR of ``results`` (``keypoint_results``) against ``coco``'s ground truth,
    over ``image_ids`` (default: the images predicted)."""
    _, COCOeval = _pycocotools()
    if not results:
        raise ValueError("no predictions to evaluate")
    with contextlib.redirect_stdout(io.StringIO()):
        detections = coco.loadRes(results)
        ev = COCOeval(coco, detections, "keypoints")
        ev.params.imgIds = sorted({r["image_id"] for r in results} if image_ids is None else set(image_ids))
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(zip(AP_NAMES, (float(v) for v in ev.stats), strict=True))


def image_to_crop(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return transform_points(points, matrix)


def crop_to_image(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return transform_points(points, np.linalg.inv(matrix))
