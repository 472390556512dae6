"""The MPII loader on fixture files written here in the real layout (never downloads)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat

from poselab.data.fixtures import write_release
from poselab.data.mpii import RELEASE, MPIISource, read_gt_valid
from poselab.data.pose_dataset import HeatmapDataset
from poselab.data.transforms import transform_points


@pytest.fixture
def mpii_root(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "annot").mkdir()
    img = np.zeros((300, 400, 3), np.uint8)
    img[150, 250] = 255  # a bright pixel where the left wrist is annotated (0-based x=250, y=150)
    Image.fromarray(img).save(tmp_path / "images" / "000000001.jpg", quality=100)
    joints = [[201.0 + k, 101.0 + 2 * k] for k in range(16)]
    joints[15] = [251.0, 151.0]  # left wrist, 1-based
    people = [{"image": "000000001.jpg", "center": [201.0, 136.0], "scale": 1.0, "joints": joints,
               "joints_vis": [1] * 15 + [1]},
              {"image": "000000001.jpg", "center": [101.0, 101.0], "scale": 0.5, "joints": joints,
               "joints_vis": [0] * 8 + [1] * 8}]
    for split in ("train", "valid"):
        (tmp_path / "annot" / f"{split}.json").write_text(json.dumps(people))
    boxes = np.zeros((2, 2, 2))  # (corner, xy, person)
    boxes[:, :, 0] = [[10, 10], [40, 50]]  # diagonal 50 -> head size 30
    boxes[:, :, 1] = [[0, 0], [30, 40]]
    pos = np.transpose(np.array([joints, joints]), (1, 2, 0))  # (16, 2, N), 1-based
    pos[0, :, 1] = [7.0, 9.0]  # the official ground truth differs from valid.json here: it is what is scored
    missing = np.zeros((16, 2))
    missing[:8, 1] = 1  # person 1: joints 0-7 missing
    missing[2, 0] = 1  # person 0: the right hip (joint 2) missing -> no torso size
    savemat(tmp_path / "annot" / "gt_valid.mat", {"pos_gt_src": pos, "jnt_missing": missing, "headboxes_src": boxes})
    # training head boxes: person 0's centre matches exactly, person 1's within a pixel
    write_release(tmp_path / RELEASE, {"000000001.jpg": [((101.5, 100.8), (0, 0, 60, 80)),
                                                          ((201.0, 136.0), (10, 10, 40, 50))]})
    return tmp_path


def test_loader_reads_the_hrnet_json_layout(mpii_root):
    src = MPIISource(mpii_root, "valid")
    assert len(src) == 2 and src.image(0).shape == (300, 400, 3)
    assert src.joints()[0, 15].tolist() == [250.0, 150.0]  # 1-based -> 0-based
    assert src.annotated()[1].tolist() == [False] * 8 + [True] * 8
    assert src.annotated()[0].sum() == 15
    centers, sides = src.boxes()
    # The usual MPII adjustment: centre 15 * scale pixels lower, box 1.25 * scale * 200 pixels.
    np.testing.assert_allclose(centers[0], [200.0, 135.0 + 15.0])
    np.testing.assert_allclose(sides, [250.0, 125.0])
    np.testing.assert_allclose(src.norm_sizes()["head"], [30.0, 30.0])


def test_crop_puts_a_known_joint_where_expected(mpii_root):
    src = MPIISource(mpii_root, "valid")
    ds = HeatmapDataset(src, 64)
    item = ds[0]
    # Box of 250 px around (200, 150) mapped to 64 px: the wrist (250, 150) lands at
    # 31.5 + 50 * 64 / 250 = 44.3 horizontally and 31.5 vertically.
    np.testing.assert_allclose(item["joints"][15].numpy(), [31.5 + 50 * 64 / 250, 31.5], atol=1e-4)
    u, v = transform_points([250.0, 150.0], item["matrix"].numpy())
    peak = np.unravel_index(item["image"][0].argmax().item(), (64, 64))
    assert abs(peak[1] - u) <= 1 and abs(peak[0] - v) <= 1
    assert item["weight"].sum() == 15  # all but the right hip, missing in gt_valid.mat


def test_missing_annotations_name_the_manifest_entry(tmp_path):
    with pytest.raises(FileNotFoundError, match="'mpii' entry of data_manifest.yaml"):
        MPIISource(tmp_path, "valid")


def test_validation_is_scored_against_the_official_ground_truth(mpii_root):
    src = MPIISource(mpii_root, "valid")
    assert src.joints()[1, 0].tolist() == [6.0, 8.0]  # pos_gt_src, not valid.json
    assert not src.annotated()[0, 2]  # jnt_missing
    truth = read_gt_valid(mpii_root / "annot" / "gt_valid.mat")
    assert truth.joints.shape == (2, 16, 2) and truth.head_boxes.shape == (2, 2, 2)


def test_gt_valid_must_be_there_and_complete(mpii_root):
    (mpii_root / "annot" / "gt_valid.mat").unlink()
    with pytest.raises(FileNotFoundError, match="gt_valid.mat is missing.*'mpii' entry"):
        MPIISource(mpii_root, "valid")
    savemat(mpii_root / "annot" / "gt_valid.mat", {"headboxes_src": np.zeros((2, 2, 2))})
    with pytest.raises(ValueError, match=r"lacks \['pos_gt_src', 'jnt_missing'\]"):
        MPIISource(mpii_root, "valid")


def test_training_head_sizes_come_from_the_original_annotation_file(mpii_root):
    src = MPIISource(mpii_root, "train")
    # person 0 (centre 201, 136): box 30 x 40 -> 0.6 x 50; person 1 (centre 101, 101): box 60 x 80 -> 0.6 x 100
    np.testing.assert_allclose(src.norm_sizes()["head"], [30.0, 60.0])
    (mpii_root / RELEASE).unlink()
    with pytest.raises(FileNotFoundError, match="original MPII annotations"):
        MPIISource(mpii_root, "train")


def test_a_person_without_both_torso_joints_has_no_torso_size(mpii_root):
    src = MPIISource(mpii_root, "valid")
    torso = src.norm_sizes()["torso"]
    assert np.isnan(torso).all()  # person 0's right hip is missing in gt_valid.mat, person 1's joints 0-7
    assert src.unscored() == {"head": 0, "torso": 2}
    train = MPIISource(mpii_root, "train")  # train.json: person 0 fully annotated
    assert np.isfinite(train.norm_sizes()["torso"][0]) and np.isnan(train.norm_sizes()["torso"][1])


def test_both_splits_evaluate_and_count_the_people_left_out(mpii_root):
    from poselab.evaluation.pck import evaluate
    from poselab.models import build_model

    torch.manual_seed(0)
    model = build_model({"arch": "hourglass", "n_stacks": 1, "width": 8, "depth": 1, "stem": [8, 8],
                         "n_joints": 16}).eval()
    for split in ("train", "valid"):
        src = MPIISource(mpii_root, split)
        ev = evaluate(model, HeatmapDataset(src, 32), src, "mpii16")
        assert 0 <= ev.pckh <= 1 and ev.unscored["head"] == 0
        assert ev.unscored["torso"] == (2 if split == "valid" else 1)
