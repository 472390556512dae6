"""COCO keypoints (Lin et al. 2014) through pycocotools: person instances, their crops and masks, and OKS AP.

The people are selected as the SimpleBaseline and HRNet code selects them from the ground truth
(``COCODataset._load_coco_keypoint_annotation_kernal``): non-crowd person annotations of an image, the box clipped
to the image and kept only with a positive area, and only people with at least one annotated keypoint.  Their crop
follows the same codebases' box convention: the box is widened or heightened to the crop's aspect (0.75 for
256x192, width over height), then enlarged 1.25 times (``_box2cs``), and resampled to the crop as the network that
reads it was trained (``poselab.data.feeding``: for the official checkpoints HRNet's ``get_affine_transform``, the box
centre at crop pixel (W / 2, H / 2)).  Coordinates are taken as pixel centres (x = j is the centre of column j), as
everywhere in poselab and in those codebases.

The person's mask is its own segmentation (polygon or RLE) rasterised by pycocotools' ``annToMask`` and warped
into the crop with the same affine map (nearest neighbour).  The authors of PoseIG mask every person in the crop;
``mask="all"`` gives that (every person annotation of the image, crowds included).

Keypoint AP is pycocotools' own ``COCOeval`` with the OKS, on the predictions given in image pixels.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from poselab.data.feeding import OWN, Feeding
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
    or not a COCO keypoint file, and naming the file and the annotation for one that is not valid
    (``check_annotations``)."""
    COCO, _ = _pycocotools()
    path = Path(path)
    if not path.is_file():
        raise COCOError(f"{path}: not found (COCO keypoint annotations, e.g. person_keypoints_val2017.json)")
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise COCOError(f"{path}: not JSON ({e})") from None
    try:
        check_annotations(data)  # before pycocotools reads a box, a keypoint or a mask of it
    except ValueError as e:
        raise COCOError(f"{path}: {e}") from None
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress lines
        coco.createIndex()
    if not coco.getCatIds(catNms=["person"]):
        raise COCOError(f"{path}: has no 'person' category")
    return coco


def _numbers(values, n: int | None = None) -> bool:
    """A list of (``n``) finite numbers (JSON readers accept NaN and Infinity: an annotation must not hold them)."""
    return isinstance(values, list) and (n is None or len(values) == n) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def rle_counts(counts: str) -> list[int]:
    """The run lengths of a compressed COCO RLE string (``rleFrString`` of pycocotools' maskApi.c: 6-bit groups from
    '0', five bits of value each and a continuation bit, each run after the second stored as the difference to the
    run two before); ``ValueError`` for a string that is not one."""
    runs, p = [], 0
    while p < len(counts):
        x = k = 0
        more = True
        while more:
            c = ord(counts[p]) - 48 if p < len(counts) else -1
            if not 0 <= c < 64:
                raise ValueError("its counts string is not a compressed RLE")
            x |= (c & 0x1F) << 5 * k
            more = bool(c & 0x20)
            p, k = p + 1, k + 1
            if not more and c & 0x10:
                x |= -1 << 5 * k
        runs.append(x + runs[-2] if len(runs) > 2 else x)
    return runs


def _segmentation_problem(segm, height: int, width: int) -> str | None:
    """What is wrong with a segmentation for an image of ``height`` x ``width``, or None: polygons (a list of lists of
    at least three x, y pairs, finite and within one image size of the image: pycocotools rasterises them at their
    size) or an RLE of the image's size (uncompressed counts or a compressed string) whose runs cover the image."""
    if isinstance(segm, list):
        if not segm:
            return "no polygon"
        for poly in segm:
            if not _numbers(poly) or len(poly) < 6 or len(poly) % 2:
                return "a polygon that is not a list of at least three x, y pairs of finite numbers"
            xs, ys = poly[0::2], poly[1::2]
            if min(xs) < -width or max(xs) > 2 * width or min(ys) < -height or max(ys) > 2 * height:
                return "a polygon far outside the image"
        return None
    if not isinstance(segm, dict):
        return "neither a list of polygons nor an RLE"
    if segm.get("size") != [height, width]:
        return f"an RLE of size {segm.get('size')!r}, not the image's [height, width] [{height}, {width}]"
    counts = segm.get("counts")
    try:
        runs = rle_counts(counts) if isinstance(counts, str) else counts
    except ValueError as e:
        return f"an RLE: {e}"
    if not (isinstance(runs, list) and all(isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in runs)
            and sum(runs) == height * width):
        return f"an RLE whose runs are not whole numbers >= 0 adding up to {height} x {width} pixels"
    return None


def check_annotations(data) -> int:
    """The number of annotations in a parsed COCO annotation file, every image and annotation checked before
    pycocotools reads them: ``ValueError`` naming the first bad one by its id and what it must be.  An annotation
    needs an image and a category of the file, a bbox [x, y, width, height] of finite numbers with x, y >= 0 and a
    positive width and height, keypoints (where given) of 3 finite numbers (x, y, visibility 0/1/2) per joint of its
    category, and a segmentation that pycocotools can draw (``_segmentation_problem``)."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ("images", "annotations", "categories")):
        raise ValueError("not a COCO annotation file (no 'images', 'annotations' and 'categories' lists)")
    sizes = {}
    for im in data["images"]:
        size = [im.get(k) for k in ("height", "width")] if isinstance(im, dict) else []
        if not (size and all(isinstance(v, int) and v > 0 for v in size) and isinstance(im.get("file_name"), str)
                and isinstance(im.get("id"), int)):
            raise ValueError(f"image {im.get('id') if isinstance(im, dict) else im!r}: needs an id, a file_name and "
                             "a positive width and height")
        sizes[im["id"]] = size
    joints = {c["id"]: len(c.get("keypoints") or []) for c in data["categories"]
              if isinstance(c, dict) and isinstance(c.get("id"), int)}
    for ann in data["annotations"]:
        if not isinstance(ann, dict) or not isinstance(ann.get("id"), int):
            raise ValueError(f"annotation {str(ann)[:60]}: not an annotation with an id")
        where = f"annotation {ann['id']} (image {ann.get('image_id')!r})"
        if not (isinstance(ann.get("image_id"), int) and ann["image_id"] in sizes
                and isinstance(ann.get("category_id"), int) and ann["category_id"] in joints):
            raise ValueError(f"{where}: its image_id or category_id is not one of the file's images or categories")
        box = ann.get("bbox")
        if not (_numbers(box, 4) and box[0] >= 0 and box[1] >= 0 and box[2] > 0 and box[3] > 0):
            raise ValueError(f"{where}: bbox {box!r} must be [x, y, width, height] of finite numbers, x and y >= 0, "
                             "width and height > 0")
        n, kp = joints[ann["category_id"]], ann.get("keypoints")
        if n and kp is not None and not (_numbers(kp, 3 * n) and all(v in (0, 1, 2) for v in kp[2::3])):
            shown = f"{len(kp)} values" if isinstance(kp, list) else repr(kp)[:40]
            raise ValueError(f"{where}: keypoints must be {3 * n} finite numbers, x, y and a visibility 0, 1 or 2 for "
                             f"each of {n} joints (it has {shown})")
        if "area" in ann and not (_numbers([ann["area"]]) and ann["area"] >= 0):
            raise ValueError(f"{where}: area {ann['area']!r} must be a finite number >= 0")
        if (why := _segmentation_problem(ann.get("segmentation"), *sizes[ann["image_id"]])) is not None:
            raise ValueError(f"{where}: its segmentation is {why}")
    return len(data["annotations"])


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
    out = F.grid_sample(image[None].double(), grid[None], mode=mode, padding_mode="zeros", align_corners=True)  # exact
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
    (N, 17), the crop matrices (N, 3, 3) image -> crop, the people, and how the crops were cut (``feeding``)."""

    images: torch.Tensor
    masks: torch.Tensor
    joints: torch.Tensor
    annotated: np.ndarray
    matrices: np.ndarray
    people: list[Person]
    feeding: Feeding = OWN


def crop_people(coco, image_dir: Path, people: list[Person], out_hw: tuple[int, int] = (256, 192),
                mask: str = "person", feeding: Feeding = OWN) -> Crops:
    """Every person's crop (bilinear), mask (nearest) and joints in crop pixels, cut as ``feeding`` says; the box
    brought to the crop's aspect (0.75 for the codebases' 256x192, where it is the person's ``center`` and
    ``crop_size``)."""
    if feeding.crop == "window-resize":
        raise ValueError("COCO people are cropped by an affine warp; the window-resize crop is the MPII hourglass's")
    images, masks, joints, matrices = [], [], [], []
    for p in people:
        center, size = crop_box(p.box, out_hw[1] / out_hw[0])
        m, _, _ = feeding.crop_maps(center, float(size[0]), out_hw)
        image = torch.from_numpy(read_image(Path(image_dir) / p.file_name)).permute(2, 0, 1).float() / 255
        images.append(warp(image, m, out_hw))
        full = torch.from_numpy(person_mask(coco, p, mask)).float()[None]
        masks.append(warp(full, m, out_hw, mode="nearest")[0] > 0.5)
        joints.append(image_to_crop(p.joints, m))
        matrices.append(m)
    return Crops(torch.stack(images), torch.stack(masks), torch.as_tensor(np.stack(joints), dtype=torch.float32),
                 np.stack([p.visibility > 0 for p in people]), np.stack(matrices), list(people), feeding)


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
