"""MPII Human Pose in the JSON layout used by HRNet and SimpleBaseline, scored as the official evaluation.

``annot/{train,valid}.json``: a list of people, each ``{"image": "015601864.jpg", "center":
[x, y], "scale": s, "joints": [[x, y] x 16], "joints_vis": [0/1 x 16]}`` with 1-based pixel
coordinates and the person's size as ``scale * 200`` pixels; images in ``images/``.  The crop
follows the convention of those code bases: the centre is moved 15 * scale pixels down and the
box enlarged by 25 %.

The ground truth that validation is *scored* against is the official one, ``annot/gt_valid.mat``:
``pos_gt_src`` (16 x 2 x N, 1-based), ``jnt_missing`` (16 x N) and ``headboxes_src`` (2 x 2 x N),
the PCKh normaliser being 0.6 x the head box diagonal.  Training people get their head boxes from
the original MPII annotation file (``mpii_human_pose_v1_u12_1.mat``, ``RELEASE.annolist(i).annorect(r)``
with ``x1, y1, x2, y2``), matched to the JSON by image name and person centre, so that PCKh can be
measured on the training split (notebook 03).  The torso size (FLIC's normaliser) is defined only
where both the left shoulder and the right hip are annotated; other people are left out of PCK@torso.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from poselab.data.joints import MPII16
from poselab.metrics import mpii_head_size, segment_size

PIXEL_STD = 200.0
GT_VALID = "annot/gt_valid.mat"
RELEASE = "mpii_human_pose_v1_u12_2/mpii_human_pose_v1_u12_1.mat"  # as unpacked from mpii_human_pose_v1_u12_2.zip
FIX = "see the 'mpii' entry of data_manifest.yaml (python -m poselab.data status)"


@lru_cache(maxsize=256)
def _load_image(path: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError) as e:  # empty, truncated, not an image
        raise ValueError(f"{path} cannot be read as an image ({' '.join(str(e).split())[:120]}); fetch that image "
                         f"again: {FIX}") from None


@dataclass
class ValidationTruth:
    """The official validation ground truth: joints (N, 16, 2) 0-based pixels, annotated (N, 16), head boxes
    (N, 2, 2) as [[x1, y1], [x2, y2]]."""

    joints: np.ndarray
    annotated: np.ndarray
    head_boxes: np.ndarray


def read_gt_valid(path: Path) -> ValidationTruth:
    """``gt_valid.mat`` as distributed with HRNet/SimpleBaseline; an error names the file and what is wrong."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the official MPII validation ground truth; {FIX}")
    mat = loadmat(str(path))
    missing = [k for k in ("pos_gt_src", "jnt_missing", "headboxes_src") if k not in mat]
    if missing:
        raise ValueError(f"{path} lacks {missing}: not the official gt_valid.mat")
    pos, miss, boxes = mat["pos_gt_src"], mat["jnt_missing"], mat["headboxes_src"]
    n = pos.shape[-1]
    if pos.shape != (16, 2, n) or miss.shape != (16, n) or boxes.shape != (2, 2, n):
        raise ValueError(f"{path}: shapes pos_gt_src {pos.shape}, jnt_missing {miss.shape}, headboxes_src "
                         f"{boxes.shape}; expected (16, 2, N), (16, N), (2, 2, N)")
    truth = ValidationTruth(np.transpose(pos, (2, 0, 1)).astype(float) - 1.0, np.transpose(miss) == 0,
                            np.transpose(boxes, (2, 0, 1)).astype(float))
    # NaN or Inf would drop a person or a joint from PCKh without a word (an infinite head size scores nothing)
    bad_joint = ~np.isfinite(truth.joints).all(-1) & truth.annotated
    bad_box = ~np.isfinite(truth.head_boxes).all((1, 2))
    bad_box[~bad_box] = mpii_head_size(truth.head_boxes[~bad_box]) <= 0
    bad_miss = ~np.isin(miss, (0, 1)).all(0)
    for name, bad, must in (("jnt_missing", bad_miss, "0 or 1 for each joint"),
                            ("pos_gt_src", bad_joint.any(1), "finite coordinates for each annotated joint"),
                            ("headboxes_src", bad_box, "a finite head box of positive size")):
        if bad.any():
            raise ValueError(f"{path}: {name} of person {int(np.argmax(bad))} (of {n}; {int(bad.sum())} in all) "
                             f"must be {must}: not the official gt_valid.mat, or damaged; {FIX}")
    return truth


def _items(value) -> list:
    """A MATLAB struct array as loaded with ``squeeze_me``: one element, an array of them, or empty."""
    if isinstance(value, np.ndarray):
        return list(value.ravel())
    return [value]


def read_release_head_boxes(path: Path) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Head boxes of every annotated person in the original MPII annotation file: image name -> [(objpos (2,)
    1-based pixels, head box (2, 2) [[x1, y1], [x2, y2]])] for the rectangles that have both."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the original MPII annotations (training head boxes); {FIX}")
    mat = loadmat(str(path), struct_as_record=False, squeeze_me=True)
    if "RELEASE" not in mat or not hasattr(mat["RELEASE"], "annolist"):
        raise ValueError(f"{path} has no RELEASE.annolist: not mpii_human_pose_v1_u12_1.mat")
    out: dict[str, list] = {}
    for entry in _items(mat["RELEASE"].annolist):
        name = getattr(getattr(entry, "image", None), "name", None)
        if not isinstance(name, str):
            continue
        for rect in _items(getattr(entry, "annorect", [])):
            fields = getattr(rect, "_fieldnames", [])
            if not {"x1", "y1", "x2", "y2", "objpos"} <= set(fields):
                continue
            pos = rect.objpos
            if not hasattr(pos, "x"):
                continue
            box = np.array([[rect.x1, rect.y1], [rect.x2, rect.y2]], float)
            out.setdefault(name, []).append((np.array([pos.x, pos.y], float), box))
    return out


@lru_cache(maxsize=2)
def _release_head_boxes(path: str, size: int, mtime_ns: int) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    return read_release_head_boxes(Path(path))


def release_head_boxes(path: Path) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """``read_release_head_boxes`` once per process for a given file (size and modification time): every training
    job builds the MPII training source, and the original annotation file is slow to parse.  Read-only."""
    if not Path(path).is_file():
        return read_release_head_boxes(Path(path))  # its error says where the file comes from
    st = Path(path).stat()
    return _release_head_boxes(str(path), st.st_size, st.st_mtime_ns)


def match_head_boxes(people: list[dict], boxes: dict[str, list], tolerance: float = 2.0) -> np.ndarray:
    """The head box of each JSON person (N, 2, 2): the release's rectangle in the same image whose centre is
    nearest the person's (within ``tolerance`` pixels); NaN where there is none."""
    out = np.full((len(people), 2, 2), np.nan)
    for i, p in enumerate(people):
        candidates = boxes.get(p["image"], [])
        if not candidates:
            continue
        d = [np.linalg.norm(c - np.asarray(p["center"], float)) for c, _ in candidates]
        k = int(np.argmin(d))
        if d[k] <= tolerance:
            out[i] = candidates[k][1]
    return out


def check_people(items) -> int:
    """The number of people in a parsed MPII JSON list (the layout of the public PyTorch reference), every record
    checked: ``ValueError`` names the first bad one."""
    if not isinstance(items, list) or not items:
        raise ValueError("expected a non-empty JSON list of people")
    for i, person in enumerate(items):
        if not isinstance(person, dict):
            raise ValueError(f"item {i} is a {type(person).__name__}, not a person record")
        missing = {"image", "center", "scale", "joints", "joints_vis"} - set(person)
        if missing:
            raise ValueError(f"person {i} lacks the keys {sorted(missing)}")
        joints, vis, center = person["joints"], person["joints_vis"], person["center"]
        if not (isinstance(joints, list) and len(joints) == 16 and all(_is_point(p) for p in joints)):
            raise ValueError(f"person {i}: 'joints' must be 16 [x, y] pairs of finite numbers")
        if not (isinstance(vis, list) and len(vis) == 16 and all(_is_number(v) for v in vis)):
            raise ValueError(f"person {i}: 'joints_vis' must be 16 finite numbers")
        if not _is_point(center) or not _is_number(person["scale"]) or person["scale"] <= 0:
            raise ValueError(f"person {i}: 'center' must be [x, y] and 'scale' a positive number (finite, not NaN)")
        if not isinstance(person["image"], str):
            raise ValueError(f"person {i}: 'image' must be a file name")
    return len(items)


def _is_number(value) -> bool:
    """A finite int or float (JSON readers accept NaN and Infinity: an annotation must not hold them)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_point(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)


class MPIISource:
    """A split of MPII ('train' or 'valid') as a pose source in the MPII-16 convention.

    Validation joints, annotation flags and head sizes are the official ground truth (``gt_valid.mat``);
    training head sizes come from the original annotation file.  ``unscored``: people without a head size
    (left out of PCKh) and without a torso size (left out of PCK@torso).
    """

    convention = MPII16
    annotation_origin = 1  # the files' coordinates are 1-based (0-based here): ``poselab.data.feeding``

    def __init__(self, root: Path, split: str = "valid"):
        self.root, self.split = Path(root), split
        annot = self.root / "annot" / f"{split}.json"
        if not annot.exists():
            raise FileNotFoundError(f"{annot} is missing: {FIX}")
        try:
            self.people = json.loads(annot.read_text())
            check_people(self.people)  # every record checked: a bad one is named here, not a TypeError later
        except ValueError as e:
            raise ValueError(f"{annot}: {e}; {FIX}") from None
        self._joints = np.array([p["joints"] for p in self.people], float) - 1.0  # to 0-based pixels
        self._vis = np.array([p["joints_vis"] for p in self.people]) > 0
        scale = np.array([p["scale"] for p in self.people], float)
        center = np.array([p["center"] for p in self.people], float) - 1.0
        center[:, 1] += 15 * scale  # the annotated centre sits high on the body
        self._centers, self._sides = center, scale * 1.25 * PIXEL_STD
        if split == "valid":
            truth = read_gt_valid(self.root / GT_VALID)
            if len(truth.joints) != len(self):
                raise ValueError(f"{self.root / GT_VALID} has {len(truth.joints)} people for {len(self)} in {annot}")
            self._joints, self._vis, head_boxes = truth.joints, truth.annotated, truth.head_boxes
        else:
            head_boxes = match_head_boxes(self.people, release_head_boxes(self.root / RELEASE))
        self._head = mpii_head_size(head_boxes)

    def __len__(self) -> int:
        return len(self.people)

    def image(self, i: int) -> np.ndarray:
        return _load_image(str(self.root / "images" / self.people[i]["image"]))

    def joints(self) -> np.ndarray:
        return self._joints.copy()

    def annotated(self) -> np.ndarray:
        return self._vis.copy()

    def boxes(self) -> tuple[np.ndarray, np.ndarray]:
        return self._centers.copy(), self._sides.copy()

    def norm_sizes(self) -> dict[str, np.ndarray]:
        """Official PCKh head sizes and FLIC-style torso sizes (N,) pixels; NaN where undefined (no head box;
        the left shoulder or the right hip not annotated), which leaves the person out of that metric."""
        ls, rh = MPII16.index("l_shoulder"), MPII16.index("r_hip")
        torso = segment_size(self._joints, ls, rh)
        torso[~(self._vis[:, ls] & self._vis[:, rh])] = np.nan
        return {"head": self._head.copy(), "torso": torso}

    def unscored(self) -> dict[str, int]:
        """How many people have no head size and no torso size (left out of PCKh / PCK@torso)."""
        return {k: int(np.isnan(v).sum()) for k, v in self.norm_sizes().items()}
