"""Whole batches cropped and turned into targets at once equal the per-sample pipeline."""

import numpy as np
import torch
from torch.utils.data import DataLoader

from poselab.data.dataset import ImageSet
from poselab.data.pose_dataset import HeatmapDataset, SyntheticSource, epoch_batches, source_images
from poselab.data.transforms import Augment


def _dataset(tiny_sets, augment=True):
    src = SyntheticSource(ImageSet(tiny_sets["pose2d"], "train"))
    return HeatmapDataset(src, 32, augment=Augment() if augment else None, seed=7)


def test_a_batch_equals_the_stacked_items(tiny_sets):
    ds = _dataset(tiny_sets)
    ds.set_epoch(3)
    positions = [5, 0, 17, 9, 9, 2]
    want = torch.utils.data.default_collate([ds[k] for k in positions])
    assert want["flipped"].any() and not want["flipped"].all()  # both kinds of sample in the batch
    for images in (None, source_images(ds.source)):
        got = ds.batch(positions, images)
        assert set(got) == set(want)
        torch.testing.assert_close(got["image"], want["image"], atol=1e-5, rtol=0)
        torch.testing.assert_close(got["joints"], want["joints"], atol=1e-4, rtol=0)
        torch.testing.assert_close(got["heatmaps"], want["heatmaps"], atol=1e-5, rtol=0)
        for k in ("weight", "matrix", "flipped", "index"):
            assert torch.equal(got[k], want[k]), k


def test_an_epoch_of_batches_follows_the_data_loaders_order(tiny_sets):
    ds = _dataset(tiny_sets)
    ds.set_epoch(1)
    loader = DataLoader(ds, batch_size=5, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(11))
    batched = epoch_batches(ds, 5, torch.Generator().manual_seed(11), source_images(ds.source))
    n = 0
    for want, got in zip(loader, batched, strict=True):
        assert torch.equal(got["index"], want["index"])
        torch.testing.assert_close(got["image"], want["image"], atol=1e-5, rtol=0)
        n += 1
    assert n == len(ds) // 5


def test_without_augmentation_the_batch_is_the_plain_crop(tiny_sets):
    ds = _dataset(tiny_sets, augment=False)
    got = ds.batch(np.arange(4))
    assert not got["flipped"].any()
    torch.testing.assert_close(got["image"], torch.stack([ds[k]["image"] for k in range(4)]), atol=1e-6, rtol=0)
