"""Training and evaluation samples for heatmap networks, from any pose source.

A *source* (synthetic image set, MPII, ...) yields images, joints, annotation flags, a crop
box and the sizes PCK is normalised by.  :class:`HeatmapDataset` crops and augments a source
into network inputs with Gaussian heatmap targets, keeping the affine so that predictions
can be mapped back to source pixels for evaluation.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
from torch.utils.data import BatchSampler, Dataset, RandomSampler

from poselab.data.dataset import ImageSet
from poselab.data.feeding import OWN, Feeding
from poselab.data.joints import INTERNAL_INDEX, JointSet, get_convention
from poselab.data.synthetic.render import VISIBLE
from poselab.data.transforms import Augment, sampling_theta, transform_points, warp, warp_batch
from poselab.heatmaps import gaussian_targets
from poselab.metrics import segment_size


class PoseSource(Protocol):
    convention: JointSet

    def __len__(self) -> int: ...
    def image(self, i: int) -> np.ndarray: ...  # (H, W, 3) uint8
    def joints(self) -> np.ndarray: ...  # (N, J, 2) source pixels
    def annotated(self) -> np.ndarray: ...  # (N, J) bool
    def boxes(self) -> tuple[np.ndarray, np.ndarray]: ...  # centres (N, 2), box sides (N,)
    def norm_sizes(self) -> dict[str, np.ndarray]: ...  # "head", "torso" -> (N,) pixels


class SyntheticSource:
    """A split of a synthetic image set in one joint convention; the crop is the whole image."""

    def __init__(self, image_set: ImageSet, convention: str = "mpii16"):
        self.set = image_set
        self.convention = get_convention(convention)

    def __len__(self) -> int:
        return len(self.set)

    def image(self, i: int) -> np.ndarray:
        return self.set.images[i]

    def joints(self) -> np.ndarray:
        return self.set.joints(self.convention).astype(np.float64)

    def annotated(self) -> np.ndarray:
        return self.set.annotated(self.convention)

    def visible(self) -> np.ndarray:
        return self.set.status(self.convention) == VISIBLE

    def boxes(self) -> tuple[np.ndarray, np.ndarray]:
        s = self.set.image_size
        n = len(self)
        return np.full((n, 2), (s - 1) / 2), np.full(n, float(s))

    def norm_sizes(self) -> dict[str, np.ndarray]:
        j = self.set.ann["joints2d"]
        return {"head": segment_size(j, INTERNAL_INDEX["head_top"], INTERNAL_INDEX["upper_neck"]),
                "torso": segment_size(j, INTERNAL_INDEX["l_shoulder"], INTERNAL_INDEX["r_hip"])}


class HeatmapDataset(Dataset):
    """Network inputs and targets from a source.

    Each item: ``image`` (3, S, S) float in [0, 1]; ``heatmaps`` (J, S/stride, S/stride);
    ``weight`` (J,) 1 where the joint is annotated and inside the heatmap; ``joints`` (J, 2)
    input pixels; ``matrix`` (3, 3) source -> input; ``index``.  With ``augment`` the crop is
    randomly rotated, rescaled and mirrored (left/right joints swapped); the randomness is a
    function of (seed, epoch, index), so any number of loader workers gives the same samples.

    ``feeding``: how the network the items are for was fed in training (``poselab.feeding``): the crop's convention
    and where its heatmap cells sit (an official checkpoint's; default this report's own).  ``joints``, ``matrix``
    and the targets are then in that network's input frame.
    """

    def __init__(self, source: PoseSource, input_size: int, stride: int = 4, sigma: float | None = None,
                 augment: Augment | None = None, seed: int = 0, indices: np.ndarray | None = None,
                 feeding: Feeding = OWN):
        self.source, self.size, self.stride, self.feeding = source, input_size, stride, feeding
        self.origin = getattr(source, "annotation_origin", 0)
        self.dtype = torch.float32 if feeding == OWN else torch.float64
        self.hm = input_size // stride
        self.sigma = sigma if sigma is not None else max(1.0, 2.0 * self.hm / 64)
        self.augment, self.seed, self.epoch = augment, seed, 0
        self.indices = np.arange(len(source)) if indices is None else np.asarray(indices)
        self.all_joints, self.all_annotated = source.joints(), source.annotated()
        self.centers, self.box_sides = source.boxes()
        self.flip_perm = source.convention.flip_permutation

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.indices)

    def crop(self, i: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, object, bool]:
        """(frame, pixels, window, flip) of source item ``i`` (``Feeding.crop_maps``)."""
        rotation, scale, flip = self.augment.sample(rng) if (self.augment and rng is not None) else (0.0, 1.0, False)
        size = (self.size, self.size)
        return (*self.feeding.crop_maps(self.centers[i], self.box_sides[i] * scale, size, rotation, flip,
                                        self.origin), flip)

    def matrix(self, i: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, bool]:
        """The map from source pixels to the input frame, and whether the item is mirrored."""
        frame, _, _, flip = self.crop(i, rng)
        return frame, flip

    def rng(self, i: int) -> np.random.Generator | None:
        """The augmentation draws of source item ``i`` in the current epoch (None without augmentation)."""
        return np.random.default_rng([self.seed, self.epoch, i]) if self.augment else None

    def batch(self, positions, images: torch.Tensor | None = None) -> dict:
        """Items ``positions`` of this dataset computed together: the tensors ``default_collate`` would stack
        from ``self[k]`` (the same draws per (seed, epoch, index)), cropped with one ``grid_sample`` and with
        the heatmaps of the whole batch at once, on the device of ``images``.

        images: the source's images, a uint8 tensor (N, H, W, 3) (``source_images``), on the device the batch is
        wanted on; None reads them from the source (CPU).
        """
        idx = self.indices[np.asarray(positions)]
        frames, pixels, windows, flips = zip(*(self.crop(int(i), self.rng(int(i))) for i in idx), strict=True)
        m = np.stack(frames)
        flip = np.array(flips, bool)
        if images is None:
            images = torch.from_numpy(np.stack([np.asarray(self.source.image(int(i))) for i in idx]))
            picked = images
        else:
            picked = images[torch.as_tensor(idx, device=images.device)]
        device = picked.device
        src = picked.permute(0, 3, 1, 2).float() / 255
        theta = torch.as_tensor(sampling_theta(np.stack(pixels), src.shape[-2], src.shape[-1]), dtype=torch.float32,
                                device=device)
        window = None if windows[0] is None else torch.as_tensor(np.stack(windows), device=device)
        joints = np.einsum("bij,bkj->bki", m[:, :2, :2], self.all_joints[idx]) + m[:, None, :2, 2]
        ann = self.all_annotated[idx].copy()
        joints[flip], ann[flip] = joints[flip][:, self.flip_perm], ann[flip][:, self.flip_perm]
        joints_t = torch.as_tensor(joints, dtype=torch.float32, device=device)
        hm_joints = self.feeding.input_to_heatmap(joints_t, self.stride)
        inside = ((hm_joints >= -0.5) & (hm_joints <= self.hm - 0.5)).all(-1)
        weight = torch.as_tensor(ann, device=device) & inside
        return {"image": warp_batch(src, theta, self.size, window),
                "heatmaps": gaussian_targets(hm_joints, weight.float(), (self.hm, self.hm), self.sigma),
                "weight": weight.float(), "joints": joints_t, "matrix": torch.as_tensor(m),
                "flipped": torch.as_tensor(flip), "index": torch.as_tensor(idx)}

    def __getitem__(self, k: int) -> dict:
        i = int(self.indices[k])
        m, pixels, window, flip = self.crop(i, self.rng(i))
        # copies: sources may be read-only; an official checkpoint's crop in float64, as exact as its reference's
        image = torch.tensor(self.source.image(i)).permute(2, 0, 1).to(self.dtype) / 255
        joints = transform_points(self.all_joints[i], m)
        ann = self.all_annotated[i].copy()
        if flip:
            joints, ann = joints[self.flip_perm], ann[self.flip_perm]
        hm_joints = self.feeding.input_to_heatmap(torch.as_tensor(joints, dtype=torch.float32), self.stride)
        inside = ((hm_joints >= -0.5) & (hm_joints <= self.hm - 0.5)).all(-1)
        weight = torch.as_tensor(ann) & inside
        heatmaps = gaussian_targets(hm_joints[None], weight[None].float(), (self.hm, self.hm), self.sigma)[0]
        return {"image": warp(image, pixels, self.size, window).float(), "heatmaps": heatmaps, "weight": weight.float(),
                "joints": torch.as_tensor(joints, dtype=torch.float32), "matrix": torch.as_tensor(m),
                "flipped": flip, "index": i}


def source_images(source: PoseSource) -> torch.Tensor | None:
    """All images of a source as one uint8 tensor (N, H, W, 3) when they share a size and sit in one array (the
    synthetic sets), for ``HeatmapDataset.batch``; None for sources read image by image (MPII's JPEG files)."""
    array = getattr(getattr(source, "set", None), "images", None)
    return None if array is None else torch.from_numpy(np.array(array))  # a copy: the array may be read-only


def epoch_order(n: int, batch_size: int, generator: torch.Generator, rank: int = 0,
                world: int = 1) -> list[list[int]]:
    """One epoch's shuffled batches of positions (the last short one dropped), in exactly the order a
    ``DataLoader(shuffle=True, drop_last=True, generator=generator)`` gives; with ``world`` > 1 processes each
    batch is cut into equal shares and rank ``rank`` gets its own, so that together they see the single-process
    batches (what ``DistributedSampler`` does per sample, here per batch)."""
    if batch_size % world:
        raise ValueError(f"a batch of {batch_size} does not split evenly over {world} processes")
    torch.empty((), dtype=torch.int64).random_(generator=generator)  # the draw a DataLoader iterator takes first
    batches = BatchSampler(RandomSampler(range(n), generator=generator), batch_size, drop_last=True)
    return [b[rank::world] for b in batches]


def epoch_batches(dataset: HeatmapDataset, batch_size: int, generator: torch.Generator,
                  images: torch.Tensor | None = None, rank: int = 0, world: int = 1):
    """One epoch of ``epoch_order``'s batches computed by ``dataset.batch``."""
    for positions in epoch_order(len(dataset), batch_size, generator, rank, world):
        yield dataset.batch(positions, images)
