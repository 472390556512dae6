"""Small data sets in the real layouts, written from the synthetic world: what the tests and ``make check-full`` run the
real-data code paths on (no real data set can be downloaded on an offline machine).

* ``write_mpii``: MPII Human Pose as HRNet and SimpleBaseline distribute it (``images/*.jpg``, ``annot/train.json`` and
  ``valid.json``, the official ``annot/gt_valid.mat``) and the original annotation file with the training head boxes
  (``RELEASE.annolist(i).annorect(r)``), one synthetic person per image.
* ``write_coco``: COCO 2017 keypoints (``annotations/person_keypoints_<split>.json``, ``<split>/*.jpg``): one synthetic
  person per image with her 17 joints, visibility flags and exact mask (as an RLE, every third one as polygons), and,
  for the loaders' filters, a crowd region and a person without keypoints.
* ``write_h36m``: Human3.6M as VideoPose3D's ``prepare_data_h36m.py`` writes it (32-joint world poses, 17-joint 2D per
  camera, metadata), converted once to the pickle-free layout.

A folder written here holds ``FIXTURE.json``; the manifest check accepts it with fewer files than the real data set has
and says that it is a fixture (``poselab.data.manifest.check_dataset``), so its numbers are never mistaken for MPII's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from poselab.data.dataset import ImageSet
from poselab.data.joints import H36M17, H36M32_TO_17, INTERNAL_INDEX

FIXTURE = "FIXTURE.json"  # the marker of a fixture folder
MPII_HEAD_FACTOR = 0.6  # PCKh's head size is 0.6 x the head box diagonal (the official evaluation)


def mark(folder: Path, what: str) -> None:
    (Path(folder) / FIXTURE).write_text(json.dumps({"fixture": what, "written_by": "poselab.data.fixtures"}) + "\n")


def is_fixture(folder: Path) -> bool:
    return (Path(folder) / FIXTURE).is_file()


def _struct_array(rows: list[dict]) -> np.ndarray:
    """A 1 x N MATLAB struct array (as the real RELEASE file stores annolist and annorect)."""
    fields = list(rows[0]) if rows else ["x1"]
    arr = np.zeros((1, len(rows)), dtype=[(f, "O") for f in fields])
    for i, r in enumerate(rows):
        for f in fields:
            arr[0, i][f] = r[f]
    return arr


def write_release(path: Path, images: dict[str, list[tuple[tuple, tuple]]]) -> None:
    """The original MPII annotation file's layout: ``RELEASE.annolist(i).image.name`` and ``.annorect(r)`` with the head
    box x1, y1, x2, y2, ``objpos.x/.y`` and ``scale`` for each (centre, head box) of an image, plus one rectangle
    without a head box, as in the real file."""
    from scipy.io import savemat

    annolist = []
    for name, people in images.items():
        rects = [{"x1": float(b[0]), "y1": float(b[1]), "x2": float(b[2]), "y2": float(b[3]), "scale": 1.0,
                  "objpos": {"x": float(c[0]), "y": float(c[1])}} for c, b in people]
        annolist.append({"image": {"name": name}, "annorect": _struct_array(rects), "frame_sec": 0, "vididx": 1})
    annolist.append({"image": {"name": "unannotated.jpg"}, "annorect": _struct_array([{"scale": 1.0}]),
                     "frame_sec": 0, "vididx": 2})
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(path, {"RELEASE": {"annolist": _struct_array(annolist), "img_train": np.ones((1, len(annolist)))}})


def head_boxes(internal_joints: np.ndarray) -> np.ndarray:
    """(N, 2, 2) square head boxes [[x1, y1], [x2, y2]] around the head top and the upper neck, sized so that PCKh's
    head size (0.6 x the diagonal) equals the head segment's length, as the synthetic sets define it."""
    top, neck = internal_joints[:, INTERNAL_INDEX["head_top"]], internal_joints[:, INTERNAL_INDEX["upper_neck"]]
    half = np.linalg.norm(top - neck, axis=1) / MPII_HEAD_FACTOR / np.sqrt(2) / 2
    mid = (top + neck) / 2
    return np.stack([mid - half[:, None], mid + half[:, None]], axis=1)


def _mpii_people(iset: ImageSet, n: int, split: str) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    """MPII JSON records (1-based pixels; the centre set so that the loaders' 15 x scale shift lands it on the
    person), the 0-based joints, the annotation flags and the head boxes of the first ``n`` people of ``iset``."""
    joints, annotated = iset.joints("mpii16")[:n].astype(float), iset.annotated("mpii16")[:n]
    boxes = head_boxes(iset.ann["joints2d"][:n].astype(float))
    people = []
    for i in range(len(joints)):
        shown = joints[i][annotated[i]] if annotated[i].any() else joints[i]
        lo, hi = shown.min(0), shown.max(0)
        scale = max(float((hi - lo).max()) * 1.1, 16.0) / 200.0  # the person's height in units of 200 pixels
        center = (lo + hi) / 2 - [0.0, 15 * scale]
        pts = np.where(annotated[i][:, None], joints[i] + 1.0, -1.0)
        people.append({"image": f"{split}_{i:05d}.jpg", "center": (center + 1.0).round(2).tolist(),
                       "scale": round(scale, 4), "joints": pts.round(2).tolist(),
                       "joints_vis": annotated[i].astype(int).tolist()})
    return people, joints, annotated, boxes


def write_mpii(root: Path, train: ImageSet, val: ImageSet, n_train: int | None = None,
               n_val: int | None = None) -> Path:
    """MPII's layout under ``root`` from two synthetic image sets (their first ``n_train`` / ``n_val`` people, one per
    JPEG image): what the ``mpii`` entry of the manifest asks for, marked as a fixture."""
    from PIL import Image
    from scipy.io import savemat

    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "annot").mkdir(exist_ok=True)
    release: dict[str, list] = {}
    for split, iset, n in (("train", train, n_train), ("valid", val, n_val)):
        people, joints, annotated, boxes = _mpii_people(iset, len(iset) if n is None else n, split)
        for i, person in enumerate(people):
            Image.fromarray(np.asarray(iset.images[i])).save(root / "images" / person["image"], quality=95)
        (root / "annot" / f"{split}.json").write_text(json.dumps(people))
        if split == "valid":
            pos = np.where(annotated[..., None], joints + 1.0, 0.0)
            savemat(root / "annot" / "gt_valid.mat",
                    {"pos_gt_src": np.transpose(pos, (1, 2, 0)), "jnt_missing": (~annotated).T.astype(float),
                     "headboxes_src": np.transpose(boxes + 1.0, (1, 2, 0))})
        else:
            for person, box in zip(people, boxes, strict=True):
                release[person["image"]] = [(person["center"], (box + 1.0).ravel())]
    write_release(root / "mpii_human_pose_v1_u12_2" / "mpii_human_pose_v1_u12_1.mat", release)
    mark(root, f"MPII layout: {len(train) if n_train is None else n_train} training and "
               f"{len(val) if n_val is None else n_val} validation people from the synthetic world")
    return root


def mask_polygons(mask: np.ndarray) -> list[list[float]]:
    """A mask's outline as COCO polygons: one rectangle per run of set pixels in each row, corners at pixel edges
    (pycocotools rasterises a polygon's inside, so the union is the mask to within its edge pixels)."""
    polygons = []
    for y, row in enumerate(np.asarray(mask, bool)):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(int), [0]])))
        for x0, x1 in zip(edges[::2], edges[1::2], strict=True):
            x0, x1 = float(x0), float(x1)
            polygons.append([x0, float(y), x1, float(y), x1, y + 1.0, x0, y + 1.0])
    return polygons


def write_coco(root: Path, iset: ImageSet, split: str = "val2017", n: int | None = None) -> Path:
    """COCO's keypoint layout under ``root`` from a synthetic image set (its first ``n`` people, one per JPEG): every
    person with her COCO-17 joints (v = 2 visible, 1 self-occluded, 0 not annotated), box and area from her mask,
    and the mask as an RLE (every third person as polygons); the first image also holds a crowd region and a person
    without keypoints, which the loaders leave out.  Marked as a fixture."""
    from PIL import Image
    from pycocotools import mask as rle

    from poselab.data.synthetic.render import SELF_OCCLUDED, VISIBLE

    root = Path(root)
    n = len(iset) if n is None else min(n, len(iset))
    (root / split).mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(exist_ok=True)
    joints, status = iset.joints("coco17")[:n].astype(float), iset.status("coco17")[:n]
    images, anns = [], []
    size = iset.image_size
    for i in range(n):
        name = f"{i + 1:012d}.jpg"
        Image.fromarray(np.asarray(iset.images[i])).save(root / split / name, quality=95)
        images.append({"id": i + 1, "file_name": name, "width": size, "height": size})
        mask = iset.mask(i)
        ys, xs = np.nonzero(mask)
        v = np.where(status[i] == VISIBLE, 2, np.where(status[i] == SELF_OCCLUDED, 1, 0))
        kp = np.concatenate([np.where(v[:, None] > 0, joints[i], 0.0), v[:, None]], 1)
        if i % 3 == 2:
            segmentation = mask_polygons(mask)
        else:
            code = rle.encode(np.asfortranarray(mask.astype(np.uint8)))
            segmentation = {"size": code["size"], "counts": code["counts"].decode()}
        box = [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]
        anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 1, "iscrowd": 0, "area": float(mask.sum()),
                     "bbox": box, "segmentation": segmentation, "keypoints": kp.round(2).ravel().tolist(),
                     "num_keypoints": int((v > 0).sum())})
    corner = [[0.0, 0.0, 8.0, 0.0, 8.0, 8.0, 0.0, 8.0]]
    anns.append({"id": len(anns) + 1, "image_id": 1, "category_id": 1, "iscrowd": 1, "area": 64.0,
                 "bbox": [0.0, 0.0, 8.0, 8.0], "segmentation": corner, "keypoints": [0] * 51, "num_keypoints": 0})
    anns.append({"id": len(anns) + 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 64.0,
                 "bbox": [0.0, 0.0, 8.0, 8.0], "segmentation": corner, "keypoints": [0] * 51, "num_keypoints": 0})
    from poselab.data.joints import COCO17

    category = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO17.names),
                "skeleton": (COCO17.limb_index + 1).tolist()}
    (root / "annotations" / f"person_keypoints_{split}.json").write_text(json.dumps(
        {"info": {"description": "poselab fixture in the COCO layout (synthetic people)"}, "images": images,
         "annotations": anns, "categories": [category]}))
    mark(root, f"COCO layout: {n} synthetic people in {split}")
    return root


H36M_TAKES = (("S1", "walking"), ("S1", "sitting"), ("S9", "reaching"), ("S11", "boxing"))


def write_h36m(folder: Path, seconds: float = 0.6, takes: tuple[tuple[str, str], ...] = H36M_TAKES, seed: int = 5,
               extra_2d_frames: int = 3) -> tuple[dict, list]:
    """Human3.6M-layout files in ``folder``: 32-joint world poses (the 15 joints the 17-joint layout drops hold noise),
    17-joint 2D per camera (``extra_2d_frames`` longer than the 3D, as in the real files), metadata, and a subject
    (S5) without 2D; converted to the pickle-free layout.  Returns the 17-joint world truth per (subject, take) and
    the cameras."""
    from poselab.data.pose_files import convert_pickled
    from poselab.data.synthetic.camera import lifting_rig
    from poselab.data.synthetic.config import LiftingSetConfig
    from poselab.data.synthetic.generate import lifting_sequence

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cams, cfg = lifting_rig(), LiftingSetConfig(seconds=seconds, takes=1, seed=seed)
    rng = np.random.default_rng(0)
    pos3d, pos2d, truth = {}, {}, {}
    for subject, action in takes:
        world17 = H36M17.from_internal(lifting_sequence(subject, action, 0, cfg))
        world32 = rng.normal(size=(len(world17), 32, 3))
        world32[:, list(H36M32_TO_17)] = world17
        take = action.capitalize() + " 1"
        pos3d.setdefault(subject, {})[take] = world32.astype(np.float32)
        views = [c.project(world17) for c in cams]
        pos2d.setdefault(subject, {})[take] = [np.concatenate([v, v[:extra_2d_frames]]).astype(np.float32)
                                               for v in views]
        truth[(subject, take)] = world17
    pos3d.setdefault("S5", {})["Eating 1"] = rng.normal(size=(4, 32, 3)).astype(np.float32)  # no 2D: left out
    meta = {"layout_name": "h36m", "num_joints": 17, "keypoints_symmetry": [[4, 5, 6, 11, 12, 13],
                                                                           [1, 2, 3, 14, 15, 16]]}
    np.savez_compressed(folder / "data_3d_h36m.npz", positions_3d=np.array(pos3d, dtype=object))
    np.savez_compressed(folder / "data_2d_h36m_gt.npz", positions_2d=np.array(pos2d, dtype=object),
                        metadata=np.array(meta, dtype=object))
    convert_pickled(folder / "data_3d_h36m.npz", folder / "data_2d_h36m_gt.npz")  # the one-off conversion
    mark(folder, f"Human3.6M layout: {len(takes)} synthetic takes of {seconds} s")
    return truth, cams
