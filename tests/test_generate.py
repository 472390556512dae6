import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import TINY
from poselab.data.dataset import ImageSet, PoseDataset
from poselab.data.integrity import CACHE
from poselab.data.joints import H36M17
from poselab.data.manifest import VALIDATORS
from poselab.data.synthetic.config import ImageSetConfig
from poselab.data.synthetic.generate import (
    ensure_image_sets,
    load_lifting_set,
)


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("timing.json", CACHE)  # bookkeeping: run time, hash cache with mtimes
    }


def test_same_seed_gives_identical_bytes_whatever_the_number_of_workers(tmp_path):
    cfg = ImageSetConfig(image_size=40, n_train=10, n_val=6, frames_per_sequence=3, seed=11)
    one = ensure_image_sets(tmp_path / "a", cfg, workers=1, progress=False)
    two = ensure_image_sets(tmp_path / "b", cfg, workers=2, progress=False)
    assert _digests(one) == _digests(two)
    other = ensure_image_sets(tmp_path / "c", ImageSetConfig(image_size=40, n_train=10, n_val=6,
                                                             frames_per_sequence=3, seed=12), workers=1,
                              progress=False)
    assert np.load(one / "train" / "images.npy").tobytes() != np.load(other / "train" / "images.npy").tobytes()


def test_generation_is_skipped_when_up_to_date(tmp_path):
    cfg = ImageSetConfig(image_size=32, n_train=4, n_val=4, seed=1)
    folder = ensure_image_sets(tmp_path / "s", cfg, workers=1, progress=False)
    stamp = (folder / "train" / "images.npy").stat().st_mtime_ns
    ensure_image_sets(tmp_path / "s", cfg, workers=1, progress=False)
    assert (folder / "train" / "images.npy").stat().st_mtime_ns == stamp
    bigger = ImageSetConfig(image_size=32, n_train=8, n_val=4, seed=1)
    ensure_image_sets(tmp_path / "s", bigger, workers=1, progress=False)
    assert len(np.load(folder / "train" / "images.npy", mmap_mode="r")) == 8


def test_image_set_contents(tiny_sets):
    s = ImageSet(tiny_sets["pose2d"], "train")
    assert len(s) == 24 and s.images.shape == (24, 48, 48, 3) and s.images.dtype == np.uint8
    assert s.mask(0).shape == (48, 48) and s.mask(0).any()
    assert set(s.subjects) <= {"S1", "S5", "S6", "S7", "S8"}
    assert set(ImageSet(tiny_sets["pose2d"], "val").subjects) <= {"S9", "S11"}
    # 2D joints are the projections of the 3D joints through the stored intrinsics.
    K, X = s.ann["K"], s.ann["joints3d"]
    uv = X[..., :2] / X[..., 2:] * K[:, None, [0, 1], [0, 1]] + K[:, None, [0, 1], [2, 2]]
    np.testing.assert_allclose(uv, s.ann["joints2d"], atol=1e-3)
    # Annotated joints lie inside the image.
    j, ann = s.joints("mpii16"), s.annotated("mpii16")
    assert ((j[ann] >= -0.5) & (j[ann] <= 47.5)).all()
    # The person mask covers most visible joints.
    vis = s.status("mpii16") == 3
    ij = np.round(j).astype(int)
    hits = [s.mask(i)[ij[i, k, 1], ij[i, k, 0]] for i, k in zip(*np.nonzero(vis), strict=True)]
    assert np.mean(hits) > 0.9


def test_torch_dataset_items(tiny_sets):
    ds = PoseDataset(tiny_sets["pose2d"], "val", "coco17")
    item = ds[3]
    assert item["image"].shape == (3, 48, 48) and item["image"].dtype == torch.float32
    assert 0 <= item["image"].min() and item["image"].max() <= 1
    assert item["joints"].shape == (17, 2) and item["annotated"].dtype == torch.bool
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 3, 48, 48)


def test_lifting_set_layout(tiny_sets):
    root = tiny_sets["lifting"]
    assert "7 subjects" in VALIDATORS["videopose3d_3d"](root / "data_3d_synth.npz")
    assert "17 joints" in VALIDATORS["videopose3d_2d"](root / "data_2d_synth_gt.npz")
    pos3d, pos2d, cams = load_lifting_set(root)
    take = pos3d["S9"]["Walking 1"]
    assert take.shape == (50, 17, 3)
    for cam, view in zip(cams, pos2d["S9"]["Walking 1"], strict=True):
        np.testing.assert_allclose(cam.project(take), view, atol=1e-2)
    meta = json.loads((root / "meta.json").read_text())
    assert meta["joints"] == list(H36M17.names)
    # Walkers move through the capture area; feet touch the floor.
    assert np.ptp(take[:, 0, [0, 2]], axis=0).max() > 0.2
    assert abs(take[:, [3, 6], 1].min()) < 0.1


def test_a_stored_sample_renders_again_identically(tiny_sets):
    from poselab.data.synthetic.generate import render_sample

    val = ImageSet(tiny_sets["pose2d"], "val")
    for i in range(len(val)):
        plain = render_sample(TINY.images, "val", i)
        assert np.array_equal(plain.image, val.images[i]) and np.array_equal(plain.mask, val.mask(i))
        black = render_sample(TINY.images, "val", i, "black")
        assert np.array_equal(black.joints2d, plain.joints2d)
        assert (black.image[plain.mask] < plain.image[plain.mask]).any()
    with pytest.raises(ValueError, match="paint"):
        render_sample(TINY.images, "val", 0, "red")


def test_paint_changes_only_the_person():
    from dataclasses import replace

    from poselab.data.synthetic import generate as g
    from poselab.data.synthetic.render import TextureBank
    from poselab.studies.poseig.indices import dilate

    cfg = ImageSetConfig(image_size=96, seed=5)
    bank = TextureBank(cfg.seed, cfg.image_size)
    for s in range(3):
        scene = g.sample_scene(np.random.default_rng([5, s]), cfg, g.SPLITS["val"][1])
        scene = replace(scene, n_occluders=0)  # nothing in front of her: her pixels are the mask's
        scenery = g.render_scenery(scene, bank)
        plain = g.render_frame(scene, 0, scenery, bank, np.random.default_rng(s))
        for paint, value in (("black", 0), ("white", 255)):
            painted = g.render_frame(scene, 0, scenery, bank, np.random.default_rng(s), paint=paint)
            changed = (painted.image != plain.image).any(-1)
            rim = dilate(torch.from_numpy(plain.mask), 3).numpy()  # the mask and its anti-aliased edge
            assert changed.any() and not (changed & ~rim).any()
            inside = ~dilate(torch.from_numpy(~plain.mask), 3).numpy()
            assert (painted.image[inside] == value).all(-1).mean() > 0.95
