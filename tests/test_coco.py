"""COCO keypoints through pycocotools: the person filters, crops and masks, and OKS AP, on a tiny fixture in the real
layout (one RLE person, one polygon person, a crowd region, a person without keypoints)."""

import json
import re

import numpy as np
import pytest
import torch

from poselab.data import coco
from poselab.data.dataset import ImageSet
from poselab.data.feeding import OWN, Feeding
from poselab.data.fixtures import is_fixture, write_coco


@pytest.fixture(scope="module")
def coco_root(tiny_sets, tmp_path_factory):
    return write_coco(tmp_path_factory.mktemp("coco"), ImageSet(tiny_sets["pose2d"], "val"), n=3)


def _annotations(root):
    return coco.load_annotations(root / "annotations" / "person_keypoints_val2017.json")


def test_the_fixture_is_in_the_real_layout(coco_root):
    assert is_fixture(coco_root) and len(list((coco_root / "val2017").glob("*.jpg"))) == 3
    data = json.loads((coco_root / "annotations" / "person_keypoints_val2017.json").read_text())
    kinds = [type(a["segmentation"]).__name__ for a in data["annotations"]]
    assert kinds[:3] == ["dict", "dict", "list"]  # two RLE people, one polygon person
    assert [a["iscrowd"] for a in data["annotations"]][3:] == [1, 0]


def test_people_are_filtered_as_simplebaseline_and_hrnet_filter_them(coco_root):
    selection = coco.person_instances(_annotations(coco_root))
    assert selection.counts == {"person annotations": 5, "crowd": 1, "empty box": 0, "no annotated keypoint": 1,
                                "kept": 3}
    assert [p.image_id for p in selection.people] == [1, 2, 3]
    assert selection.table().loc["kept", "count"] == 3


def test_the_crop_box_convention():
    center, size = coco.crop_box(np.array([10.0, 20.0, 30.0, 80.0]))  # too narrow for 0.75: widened to 60, then x1.25
    assert np.allclose(center, [25.0, 60.0]) and np.allclose(size, [75.0, 100.0])
    center, size = coco.crop_box(np.array([0.0, 0.0, 90.0, 60.0]))  # too wide: heightened to 120
    assert np.allclose(size, [112.5, 150.0])
    m, _, _ = OWN.crop_maps(center, size[0], (256, 192))
    assert np.allclose(coco.image_to_crop(center, m), [95.5, 127.5])  # poselab's own: the centre pixel
    hrnet, _, _ = Feeding(crop="warp-affine").crop_maps(center, size[0], (256, 192))
    assert np.allclose(coco.image_to_crop(center, hrnet), [96.0, 128.0])  # HRNet's get_affine_transform: (W/2, H/2)
    assert np.allclose(coco.crop_to_image(coco.image_to_crop([[3.0, 4.0]], m), m), [[3.0, 4.0]])


@pytest.mark.parametrize("person", [0, 2], ids=["rle", "polygon"])
def test_a_scale_one_crop_of_the_mask_is_pycocotools_own_anntomask(coco_root, person):
    annotations = _annotations(coco_root)
    p = coco.person_instances(annotations).people[person]
    full = annotations.annToMask(annotations.loadAnns(p.ann_id)[0]).astype(bool)
    out_hw, shift = (20, 16), np.array([3, 5])
    m, _, _ = OWN.crop_maps(shift + [(16 - 1) / 2, (20 - 1) / 2], 16.0, out_hw)  # scale 1, offset 3, 5
    crop = coco.warp(torch.from_numpy(full).float()[None], m, out_hw, mode="nearest")[0] > 0.5
    assert np.array_equal(crop.numpy(), full[5:25, 3:19])
    assert np.array_equal(coco.person_mask(annotations, p), full)


def test_the_polygon_person_is_her_mask(coco_root, tiny_sets):
    annotations = _annotations(coco_root)
    p = coco.person_instances(annotations).people[2]
    exact = ImageSet(tiny_sets["pose2d"], "val").mask(2)
    drawn = annotations.annToMask(annotations.loadAnns(p.ann_id)[0]).astype(bool)
    assert (drawn & exact).sum() / (drawn | exact).sum() > 0.9


def test_crops_hold_the_person_her_mask_and_her_joints(coco_root):
    annotations = _annotations(coco_root)
    people = coco.person_instances(annotations).people
    crops = coco.crop_people(annotations, coco_root / "val2017", people, (64, 48))
    assert crops.images.shape == (3, 3, 64, 48) and crops.masks.shape == (3, 64, 48)
    assert crops.masks.any((1, 2)).all()
    inside = crops.joints[torch.as_tensor(crops.annotated)]
    assert (inside[:, 0] > -1).all() and (inside[:, 0] < 48).all() and (inside[:, 1] < 64).all()
    everyone = coco.crop_people(annotations, coco_root / "val2017", people[:1], (64, 48), mask="all")
    assert everyone.masks[0].sum() >= crops.masks[0].sum()  # the crowd corner and the keypoint-less person join in


def test_oks_ap_of_perfect_predictions_is_one_and_of_noised_ones_lower(coco_root):
    annotations = _annotations(coco_root)
    people = coco.person_instances(annotations).people
    truth = np.stack([p.joints for p in people])
    assert coco.keypoint_ap(annotations, coco.keypoint_results(people, truth))["AP"] == pytest.approx(1.0)
    noised = truth + np.random.default_rng(0).normal(0, 3.0, truth.shape)
    ap = coco.keypoint_ap(annotations, coco.keypoint_results(people, noised))["AP"]
    assert 0 <= ap < 1


def test_oks_ap_on_a_hand_computed_case(tmp_path):
    """One person, every joint off by the distance that gives exp(-d^2 / (2 s^2 k^2)) = 0.725: OKS 0.725 matches at
    the thresholds 0.50, 0.55, ..., 0.70 (5 of 10) with precision 1, and misses at the others: AP 0.5."""
    from pycocotools.cocoeval import Params

    area = 900.0
    kp = np.stack([np.linspace(10, 40, 17), np.linspace(5, 60, 17), np.full(17, 2.0)], 1)
    data = {"images": [{"id": 7, "file_name": "x.jpg", "width": 64, "height": 80}],
            "categories": [{"id": 1, "name": "person"}],
            "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": area,
                             "bbox": [5.0, 5.0, 40.0, 60.0], "keypoints": kp.ravel().tolist(), "num_keypoints": 17,
                             "segmentation": [[5.0, 5.0, 45.0, 5.0, 45.0, 65.0, 5.0, 65.0]]}]}
    (tmp_path / "gt.json").write_text(json.dumps(data))
    annotations = coco.load_annotations(tmp_path / "gt.json")
    k = 2 * Params(iouType="keypoints").kpt_oks_sigmas
    d = np.sqrt(-2 * np.log(0.725) * area * k**2)
    pred = kp[:, :2] + np.stack([d, np.zeros(17)], 1)
    person = coco.person_instances(annotations).people
    assert coco.keypoint_ap(annotations, coco.keypoint_results(person, pred[None]))["AP"] == pytest.approx(0.5)


def test_a_missing_or_malformed_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(coco.COCOError, match="person_keypoints_val2017.json: not found"):
        coco.load_annotations(tmp_path / "person_keypoints_val2017.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(coco.COCOError, match="bad.json: not JSON"):
        coco.load_annotations(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"images": []}))
    with pytest.raises(coco.COCOError, match="other.json: not a COCO annotation file"):
        coco.load_annotations(tmp_path / "other.json")
    (tmp_path / "broken.jpg").write_bytes(b"")
    with pytest.raises(coco.COCOError, match="broken.jpg: not a readable image"):
        coco.read_image(tmp_path / "broken.jpg")


# ----------------------------------------------------------------------------------------- issue 37: bad annotations


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("field, value, said", [
    ("bbox", [NAN, 5.0, 40.0, 60.0], "bbox [nan, 5.0, 40.0, 60.0] must be [x, y, width, height] of finite numbers"),
    ("bbox", [5.0, 5.0, INF, 60.0], "bbox [5.0, 5.0, inf, 60.0] must be"),
    ("bbox", [-10.0, -10.0, -5.0, -5.0], "x and y >= 0, width and height > 0"),  # was ZeroDivisionError in the crop
    ("keypoints", [NAN] * 51, "keypoints must be 51 finite numbers, x, y and a visibility 0, 1 or 2 for each of 17"),
    ("keypoints", [0.0] * 50, "for each of 17 joints (it has 50 values)"),  # was a bare reshape
    ("segmentation", {"size": [80, 64], "counts": "zzzz!!"}, "its segmentation is an RLE: its counts string is not"),
    ("segmentation", {"size": [80, 64], "counts": ""}, "its segmentation is an RLE whose runs are not whole numbers"),
    ("segmentation", {"size": [80, 64], "counts": [300, 4]}, "runs are not whole numbers >= 0 adding up to 80 x 64"),
    ("segmentation", {"size": [5, 5], "counts": [25]}, "RLE of size [5, 5], not the image's [height, width] [80, 64]"),
    ("segmentation", "garbage", "its segmentation is neither a list of polygons nor an RLE"),
    ("segmentation", [[1, 2, 3, 4]], "a polygon that is not a list of at least three x, y pairs"),
    ("segmentation", [[5.0, 5.0, NAN, 5.0, 45.0, 65.0]], "a polygon that is not a list of at least three x, y pairs"),
    ("segmentation", [[5.0, 5.0, 1e12, 5.0, 45.0, 65.0]], "a polygon far outside the image"),  # pycocotools: OOM
    ("image_id", 99, "its image_id or category_id is not one of the file's"),
], ids=["nan-box", "inf-box", "negative-box", "nan-keypoints", "50-keypoints", "rle-junk", "rle-empty", "rle-long",
        "rle-size", "segm-string", "short-polygon", "nan-polygon", "far-polygon", "no-image"])
def test_each_annotation_is_checked_and_a_bad_one_named_with_its_file(tmp_path, field, value, said):
    """Before pycocotools reads it (a NaN or far polygon makes it allocate without bound; a junk RLE string reads
    outside its buffer), every annotation is checked: one line naming the file, the annotation and the image."""
    from poselab.data.manifest import VALIDATORS

    kp = np.stack([np.linspace(10, 40, 17), np.linspace(5, 60, 17), np.full(17, 2.0)], 1)
    ann = {"id": 1, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 900.0, "bbox": [5.0, 5.0, 40.0, 60.0],
           "keypoints": kp.ravel().tolist(), "segmentation": [[5.0, 5.0, 45.0, 5.0, 45.0, 65.0, 5.0, 65.0]]}
    data = {"images": [{"id": 7, "file_name": "x.jpg", "width": 64, "height": 80}],
            "categories": [{"id": 1, "name": "person", "keypoints": [f"k{j}" for j in range(17)]}],
            "annotations": [ann]}
    path = tmp_path / "person_keypoints_val2017.json"
    path.write_text(json.dumps(data))
    assert coco.check_annotations(data) == 1 and coco.load_annotations(path).getAnnIds() == [1]
    path.write_text(json.dumps({**data, "annotations": [{**ann, field: value}]}))  # NaN and Infinity as JSON allows
    where = f"^{re.escape(str(path))}: annotation 1 \\(image (7|99)\\): "
    with pytest.raises(coco.COCOError, match=where + ".*" + re.escape(said)) as caught:
        coco.load_annotations(path)
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match=re.escape(said)):  # python -m poselab.data status: "corrupt", this line
        VALIDATORS["coco_keypoints_json"](path)


def test_compressed_rle_counts_are_read_as_pycocotools_writes_them():
    from pycocotools import mask as rle

    rng = np.random.default_rng(0)
    for _ in range(50):
        h, w = rng.integers(1, 30, 2)
        mask = rng.random((h, w)) < rng.random()
        runs = coco.rle_counts(rle.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode())
        flat = np.repeat(np.arange(len(runs)) % 2, runs).astype(bool)  # runs alternate 0, 1, 0, ... column-major
        assert np.array_equal(flat.reshape(w, h).T, mask)


def test_status_finds_an_image_that_the_annotations_name_missing(tiny_sets, tmp_path):
    from poselab.data.manifest import check_dataset, load_manifest

    root = write_coco(tmp_path / "coco", ImageSet(tiny_sets["pose2d"], "val"), n=3)
    entry = load_manifest()["coco_keypoints"]
    assert check_dataset(entry, tmp_path).state == "verified"
    (root / "val2017" / "000000000002.jpg").unlink()
    status = check_dataset(entry, tmp_path)  # a usable part of val2017 (notebook 05 runs on the others), not verified
    assert status.state == "partial"
    assert (f"1 of the 3 images it names are not in {root / 'val2017'} (e.g. 000000000002.jpg): the study runs on "
            "the people of the other 2") in status.detail
