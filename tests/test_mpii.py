"""The MPII loader on fixture files written here in the real layout (never downloads)."""

import json

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from poselab.data.mpii import MPIISource
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
               "joints_vis": [0] * 8 + [1] * 8}]  # fmt: skip
    for split in ("train", "valid"):
        (tmp_path / "annot" / f"{split}.json").write_text(json.dumps(people))
    boxes = np.zeros((2, 2, 2))  # (corner, xy, person)
    boxes[:, :, 0] = [[10, 10], [40, 50]]  # diagonal 50 -> head size 30
    boxes[:, :, 1] = [[0, 0], [30, 40]]
    savemat(tmp_path / "annot" / "gt_valid.mat", {"headboxes_src": boxes})
    return tmp_path


def test_loader_reads_the_hrnet_json_layout(mpii_root):
    src = MPIISource(mpii_root, "valid")
    assert len(src) == 2 and src.image(0).shape == (300, 400, 3)
    assert src.joints()[0, 15].tolist() == [250.0, 150.0]  # 1-based -> 0-based
    assert src.annotated()[1].tolist() == [False] * 8 + [True] * 8
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
    assert item["weight"].sum() == 16


def test_missing_annotations_name_the_manifest_entry(tmp_path):
    with pytest.raises(FileNotFoundError, match="'mpii' entry of data_manifest.yaml"):
        MPIISource(tmp_path, "valid")
