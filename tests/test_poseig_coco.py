"""PoseIG in the authors' setting: COCO-layout people and official-layout checkpoints (fixtures), through the study's
functions: the setting is found only when both are present, people are cropped to the checkpoints' input, every model
is labelled with where it came from, and the keypoint AP is scored before any attribution."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from poselab.data.dataset import ImageSet
from poselab.data.feeding import attach
from poselab.data.fixtures import write_coco
from poselab.data.pretrained import load_checkpoints
from poselab.models.pretrained import write_fixture
from poselab.studies.poseig import attribute as ps
from poselab.studies.poseig import coco as on_coco
from poselab.studies.poseig import experiment as sp
from poselab.studies.poseig.settings import PoseIGStudy

STUDY = PoseIGStudy(images=2, steps=1, coco_images=2, coco_size=(128, 96), coco_ap_images=None)


@pytest.fixture(scope="module")
def place(tiny_sets, tmp_path_factory) -> SimpleNamespace:
    data = tmp_path_factory.mktemp("coco-data")
    write_coco(data / "coco", ImageSet(tiny_sets["pose2d"], "val"), n=3)
    return SimpleNamespace(data_dir=data, device="cpu", seed=0)


def test_the_setting_needs_coco_and_a_coco_checkpoint(place):
    assert on_coco.setting(place) is None  # COCO alone
    write_fixture(load_checkpoints()["simplebaseline_r50_coco"], place.data_dir)
    cs = on_coco.setting(place)
    assert cs is not None and list(cs.checkpoints) == ["simplebaseline_r50_coco"]
    assert on_coco.setting(SimpleNamespace(data_dir=Path(place.data_dir) / "nothing", device="cpu", seed=0)) is None


def test_coco_people_are_the_checkpoints_inputs_and_are_explained(place):
    write_fixture(load_checkpoints()["simplebaseline_r50_coco"], place.data_dir)
    cs = on_coco.setting(place)
    people, crops, selection = on_coco.people(place, STUDY, cs)
    assert people.images.shape == (2, 3, 128, 96) and people.size == 128 and people.convention.name == "coco17"
    assert selection.counts["crowd"] == 1 and selection.counts["no annotated keypoint"] == 1
    models = on_coco.models(place, cs, STUDY)
    (label, compared), = models.items()
    assert "fixture: random weights in the official layout" in label and compared.run == "simplebaseline_r50_coco"
    assert on_coco.with_main(STUDY, models).main == label
    explain = sp.attributors(models, people, STUDY, "cpu")
    assert np.allclose(explain[label].coordinates.matrix, np.eye(3))
    assert explain[label].unit == 2.0  # 128 / 64: the authors' heatmap pixel of a 256-pixel-high crop, halved
    r = ps.attribute_model(label, explain[label], people.subset(1), progress=False)
    assert r.maps.shape == (1, 17, 128, 96) and np.isfinite(r.di[people.annotated[:1]]).any()  # random weights
    t058 = on_coco.accuracy_table(place, cs, STUDY, models)
    assert t058.loc[label, "people"] == 3 and 0 <= t058.loc[label, "AP"] <= 1
    assert "0.704" in t058.loc[label, "published"]
    assert "COCO val2017" in on_coco.describe(cs, selection, people, STUDY)
    # random weights fail the accuracy gate, which says why
    assert "under 80%" in on_coco.gate_failures(t058)[label] and "0.704" in on_coco.gate_failures(t058)[label]


def test_a_part_of_val2017_is_used_and_said(tiny_sets, tmp_path):
    from poselab.data.manifest import check_dataset, load_manifest

    place = SimpleNamespace(data_dir=tmp_path, device="cpu", seed=0)
    root = write_coco(tmp_path / "coco", ImageSet(tiny_sets["pose2d"], "val"), n=4)
    write_fixture(load_checkpoints()["hrnet_w32_coco"], tmp_path)
    (root / "val2017" / "000000000002.jpg").unlink()
    cs, line = on_coco.availability(place)
    assert cs is not None and "annotates 4 images, only 3 of them on disk" in line
    _, crops, selection = on_coco.people(place, STUDY, cs)
    assert 2 not in {p.image_id for p in selection.people} and selection.counts["kept"] == 3
    status = check_dataset(load_manifest()["coco_keypoints"], tmp_path)
    assert status.state == "partial" and "1 of the 4 images it names are not in" in status.detail
    (root / "FIXTURE.json").unlink()  # as a real folder: a 4-image annotation file is not the released val2017
    status = check_dataset(load_manifest()["coco_keypoints"], tmp_path)
    assert status.state == "partial" and "not the released val2017 file (4 images" in status.detail
    for image in (root / "val2017").glob("*.jpg"):
        image.unlink()
    cs, line = on_coco.availability(place)
    assert cs is None and "none of which is in" in line  # refused out loud: the study runs on synthetic people


def test_predictions_go_back_to_image_pixels(place):
    """A network whose heatmap peaks at a crop's centre predicts, in image pixels, the crop box's centre."""

    class Centre(torch.nn.Module):
        def forward(self, x):
            out = torch.zeros(len(x), 17, x.shape[-2] // 4, x.shape[-1] // 4)
            out[:, :, 15:17, 11:13] = 1  # the 4 middle pixels of a 32x24 heatmap: centre (11.5, 15.5)
            return out

    ck = load_checkpoints()["simplebaseline_r50_coco"]
    write_fixture(ck, place.data_dir)
    cs = on_coco.setting(place)
    _, crops, _ = on_coco.people(place, STUDY, cs)
    joints, _ = on_coco.predict_image_joints(attach(Centre(), ck.feeding), crops)
    # argmax takes the first peak pixel (11, 15), shifted a quarter pixel towards its higher neighbours: (11.25, 15.25);
    # HRNet's convention puts heatmap cell k at crop pixel 4k and the box centre at crop pixel (W / 2, H / 2)
    for j, p in zip(joints, crops.people, strict=True):
        expected = p.center + (np.array([11.25 * 4, 15.25 * 4]) - [48.0, 64.0]) * p.crop_size[0] / 96
        assert np.allclose(j, expected, atol=1e-6)
    with pytest.raises(ValueError, match="crops were cut"):  # a network of poselab's own crop convention is refused
        on_coco.predict_image_joints(Centre(), crops)
