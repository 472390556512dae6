"""Settings of the skip ablation (notebook 03) for one profile."""

from __future__ import annotations

from dataclasses import dataclass

from poselab.checks import require, whole


@dataclass(frozen=True)
class SkipStudy:
    samples: int = 2000  # training samples the ablation evaluates (all of them when there are fewer)
    scales: tuple[int, ...] | None = None  # hourglass levels switched off one at a time (0: the finest); None: all
    shown: int = 20  # best training samples drawn in F03.2 (the source shows 20)
    reference_samples: int = 100  # MPII training samples the reference hourglass (256x256) is ablated on, if present

    def __post_init__(self):
        for name in ("samples", "shown", "reference_samples"):
            require(self, name, whole(getattr(self, name), 1), "a whole number >= 1")
        require(self, "scales", self.scales is None or (bool(self.scales) and all(whole(s, 0) for s in self.scales)),
                "None (every level) or one or more hourglass levels, each a whole number >= 0 (0: the finest)")
