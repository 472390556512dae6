"""Notebook 06's row of the official MPII HRNet-W32: found only with the checkpoint and MPII on disk, scored by the
report's MPII pipeline, and labelled as a fixture when it is one."""

from types import SimpleNamespace

from conftest import TINY
from poselab.data.dataset import ImageSet
from poselab.data.fixtures import write_mpii
from poselab.data.pretrained import load_checkpoints
from poselab.models.pretrained import write_fixture
from poselab.studies.hrnet import official


def test_the_official_row_beside_the_published_one(tiny_sets, tmp_path):
    place = SimpleNamespace(data_dir=tmp_path, device="cpu", seed=0, profile_name="tiny", synthetic=TINY)
    assert official.available(place) is None
    pose2d = tiny_sets["pose2d"]
    write_mpii(tmp_path / "mpii", ImageSet(pose2d, "train"), ImageSet(pose2d, "val"), n_train=4, n_val=3)
    assert official.available(place) is None  # MPII alone
    write_fixture(load_checkpoints()[official.NAME], tmp_path)
    ck = official.available(place)
    assert ck is not None
    t, gate = official.official_row(place, ck)
    assert list(t.columns) == list(official.PUBLISHED) and len(t) == 2
    # random weights score far below the published 90.3: the accuracy gate fails and says why
    assert gate is not None and "under 80%" in gate and "0.903" in gate
    assert "fixture" in t.index[0] and t.iloc[1]["Mean"] == 90.3
    assert ((t.iloc[0] >= 0) & (t.iloc[0] <= 100)).all()
