"""Settings of the latent-space study (notebook 04) for one profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from poselab.checks import require, whole


@dataclass(frozen=True)
class LatentStudy:
    samples: int = 10000  # random training samples (the source used 10,000)
    ks: tuple[int, int] = (2, 10)  # K from, to (inclusive)
    restarts: int = 10
    thumbnails: int = 36  # heatmap thumbnails drawn in the PCA plane
    closest: int = 3  # samples shown per centroid
    reference_samples: int = 500  # training samples embedded by the reference hourglass (256x256), if present

    KNOBS: ClassVar[dict[str, str]] = {"ks": "k_range"}  # the notebook 04 knob of a differently named setting

    def __post_init__(self):
        ks = self.ks
        require(self, "ks", isinstance(ks, tuple) and len(ks) == 2 and whole(ks[0], 2) and whole(ks[1], ks[0]),
                "[K from, K to], whole numbers with 2 <= K from <= K to (the silhouette needs two clusters)")
        require(self, "samples", whole(self.samples, ks[1] + 1),
                f"a whole number above the largest K ({ks[1]}): K-means needs more samples than clusters")
        for name in ("restarts", "thumbnails", "closest", "reference_samples"):
            require(self, name, whole(getattr(self, name), 1), "a whole number >= 1")
