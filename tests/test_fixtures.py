"""Fixtures in the real layouts (``poselab.data.fixtures``): what ``make check-full`` runs the real-data code on."""

import json

import numpy as np
import pytest

from conftest import TINY
from poselab.data.dataset import ImageSet
from poselab.data.fixtures import FIXTURE, is_fixture, write_h36m, write_mpii
from poselab.data.manifest import check_dataset, load_manifest
from poselab.data.mpii import MPIISource
from poselab.data.pose2d import DataChoice, sources_for
from poselab.metrics import pck


@pytest.fixture(scope="module")
def mpii_fixture(tiny_sets, tmp_path_factory):
    root = tmp_path_factory.mktemp("data") / "mpii"
    pose2d = tiny_sets["pose2d"]
    write_mpii(root, ImageSet(pose2d, "train"), ImageSet(pose2d, "val"), n_train=10, n_val=6)
    return root, pose2d


def test_the_mpii_fixture_passes_the_manifest_check_as_a_fixture(mpii_fixture):
    root, _ = mpii_fixture
    entry = load_manifest()["mpii"]
    st = check_dataset(entry, root.parent)
    assert st.state == "verified" and "a fixture in the real layout" in st.detail
    marker = (root / FIXTURE).read_text()
    (root / FIXTURE).unlink()  # the same folder without the marker is 10 + 6 of MPII's 24,984 images: missing
    try:
        assert check_dataset(entry, root.parent, verify=False).state == "missing"
    finally:
        (root / FIXTURE).write_text(marker)
    assert is_fixture(root)


def test_the_mpii_loaders_read_the_synthetic_people_back(mpii_fixture):
    root, pose2d = mpii_fixture
    val, truth = MPIISource(root, "valid"), ImageSet(pose2d, "val")
    assert len(val) == 6 and len(MPIISource(root, "train")) == 10
    annotated = truth.annotated("mpii16")[:6]
    np.testing.assert_allclose(val.joints()[annotated], truth.joints("mpii16")[:6][annotated], atol=0.01)
    np.testing.assert_array_equal(val.annotated(), annotated)
    # the head boxes reproduce the synthetic head size (0.6 x the box diagonal = the head segment)
    expected = truth.ann["joints2d"][:6]
    from poselab.data.joints import INTERNAL_INDEX

    head = np.linalg.norm(expected[:, INTERNAL_INDEX["head_top"]] - expected[:, INTERNAL_INDEX["upper_neck"]], axis=1)
    np.testing.assert_allclose(val.norm_sizes()["head"], head, rtol=1e-4)
    assert np.isfinite(MPIISource(root, "train").norm_sizes()["head"]).all()  # matched to the original file
    # the crop holds the person: every annotated joint of the training split lies inside its box
    centers, sides = MPIISource(root, "train").boxes()
    joints, flags = MPIISource(root, "train").joints(), MPIISource(root, "train").annotated()
    inside = np.abs(joints - centers[:, None]) <= sides[:, None, None] / 2
    assert inside.all(-1)[flags].all()
    assert pck(val.joints(), val.joints(), annotated, val.norm_sizes()["head"], 0.5)[1] == 1.0


def test_the_2d_studies_name_the_fixture_as_such(mpii_fixture, tiny_sets):
    root, _ = mpii_fixture
    train, val, name, _ = sources_for(DataChoice(root.parent, "tiny", TINY, use_real=True), "mpii16")
    assert name.startswith("MPII (fixture") and len(train) == 10
    assert json.loads((root / FIXTURE).read_text())["written_by"] == "poselab.data.fixtures"


def test_the_h36m_fixture_is_found_and_marked(tmp_path):
    from poselab.studies.lifting.data import h36m_available

    truth, cams = write_h36m(tmp_path / "h36m", seconds=0.4, takes=(("S1", "walking"), ("S9", "sitting")))
    assert h36m_available(tmp_path) and is_fixture(tmp_path / "h36m") and len(truth) == 2 and len(cams) == 4
    assert "a fixture" in check_dataset(load_manifest()["h36m"], tmp_path).detail


def test_the_check_never_writes_fixtures_over_a_real_data_set(tmp_path):
    from poselab.tools.check_full import write_fixtures

    (tmp_path / "mpii" / "images").mkdir(parents=True)  # a real data set's folder: no FIXTURE marker
    with pytest.raises(ValueError, match="holds a real data set"):
        write_fixtures(tmp_path, progress=False)
