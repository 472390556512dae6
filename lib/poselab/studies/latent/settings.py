"""Settings of the latent-space study (notebook 04) for one profile."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LatentStudy:
    samples: int = 10000  # random training samples (the source used 10,000)
    ks: tuple[int, int] = (2, 10)  # K from, to (inclusive)
    restarts: int = 10
    thumbnails: int = 36  # heatmap thumbnails drawn in the PCA plane
    closest: int = 3  # samples shown per centroid
    reference_samples: int = 500  # training samples embedded by the reference hourglass (256x256), if present
