"""How a network is fed: what its input tensor holds, how the crop is cut, and where its heatmap cells sit.

Every network this report trains takes RGB in [0, 1], cropped so that the box's centre lands on the crop's centre
((W - 1) / 2, (H - 1) / 2 in the pixel-centre convention of ``poselab.heatmaps``), and its heatmap cell k is centred
on input pixel stride * k + (stride - 1) / 2 (``OWN``).  An official checkpoint was trained by another codebase that
fed it otherwise, and scores below its published accuracy when fed ours.  ``data_manifest.yaml`` declares, for each
checkpoint, the choices of its codebase, each with the file and line of the reference code it comes from, and
``Feeding`` applies them:

``colour``     "rgb", or "bgr": OpenCV's channel order (``cv2.imread``), in which the HRNet zoo's SimpleBaseline was
               trained;
``mean, std``  the per-channel normalisation after scaling to [0, 1] (torchvision's ``Normalize``, applied in the
               tensor's own channel order, so a BGR tensor's first channel takes the first mean), or none;
``crop``       "pixel-centres" (ours); "warp-affine": HRNet's ``get_affine_transform`` and ``cv2.warpAffine``, the
               box centre at crop pixel (W / 2, H / 2); "window-resize": the princeton-vl hourglass's ``crop``, the
               integer window [trunc(c - h / 2), trunc(c + h / 2)) of the image resized by ``cv2.resize`` (bilinear,
               half-pixel centres, the window's edge repeated);
``heatmap``    where heatmap cell k sits in the codebase's input frame: "stride*k+(stride-1)/2" (ours), "stride*k"
               (HRNet's targets, ``int(x / stride + 0.5)``), "stride*k+stride/2" (the princeton-vl hourglass: its
               targets ``int(x / stride)``, decoded at cell + 0.5);
``one_based``  the codebase takes MPII's 1-based annotation coordinates as 0-based pixel indices (the princeton-vl
               hourglass), so on MPII its crop window sits one source pixel right of and below ours.

The input frame is where a codebase's joints, targets and decoded predictions live.  For the affine crops it is the
crop's pixel grid; for "window-resize" it is ``get_transform``'s frame (box centre at res / 2, scale res / h), which
the integer window only approximates, so a prediction is decoded in that frame, not on the crop's pixels.

A loaded checkpoint carries its ``Feeding`` as ``model.feeding``, and its colour order and normalisation run as the
first step of its forward pass (``attach``): it takes RGB in [0, 1] like every network here, and the attributions
and crops of the studies stay in image space.  Datasets crop with the feeding of the network they are for, and
``poselab.evaluation.predict`` refuses a network and a dataset that disagree.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from poselab.data.transforms import crop_matrix

CROPS = ("pixel-centres", "warp-affine", "window-resize")
CROP_WORDS = {"pixel-centres": "box centre on crop pixel ((W - 1) / 2, (H - 1) / 2)",
              "warp-affine": "HRNet's affine warp, box centre on crop pixel (W / 2, H / 2)",
              "window-resize": "the princeton-vl hourglass's integer window resized to the input"}
HEATMAPS = {"stride*k+(stride-1)/2": lambda s: (s - 1) / 2, "stride*k": lambda s: 0.0,
            "stride*k+stride/2": lambda s: s / 2}
FIELDS = ("colour", "mean", "std", "crop", "heatmap", "one_based")


@dataclass(frozen=True)
class Feeding:
    colour: str = "rgb"
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    crop: str = "pixel-centres"
    heatmap: str = "stride*k+(stride-1)/2"
    one_based: bool = False
    references: dict = field(default_factory=dict, compare=False, hash=False)  # field -> "repository file:line"

    def __post_init__(self):
        if self.colour not in ("rgb", "bgr"):
            raise ValueError(f"colour must be 'rgb' or 'bgr', not {self.colour!r}")
        if self.crop not in CROPS:
            raise ValueError(f"crop must be one of {CROPS}, not {self.crop!r}")
        if self.heatmap not in HEATMAPS:
            raise ValueError(f"heatmap must be one of {tuple(HEATMAPS)}, not {self.heatmap!r}")
        if (self.mean is None) != (self.std is None):
            raise ValueError("mean and std come together (both lists of 3, or both null)")
        for name in ("mean", "std"):
            v = getattr(self, name)
            if v is not None and not (len(v) == 3 and all(isinstance(x, int | float) and math.isfinite(x) for x in v)
                                      and (name == "mean" or min(v) > 0)):
                raise ValueError(f"{name} must be 3 finite numbers (std positive), not {v!r}")

    # --- the input tensor -------------------------------------------------------------------------------------------
    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """RGB images (B, 3, H, W) in [0, 1] -> what the network was trained on (differentiable)."""
        x = images.flip(1) if self.colour == "bgr" else images
        if self.mean is not None:
            mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
            std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
            x = (x - mean) / std
        return x

    @property
    def changes_input(self) -> bool:
        return self.colour != "rgb" or self.mean is not None

    # --- heatmap cells and the input frame --------------------------------------------------------------------------
    def heatmap_to_input(self, coords: torch.Tensor, stride: int) -> torch.Tensor:
        """Heatmap cell coordinates (..., 2) -> the input frame's coordinates."""
        return coords * stride + HEATMAPS[self.heatmap](stride)

    def input_to_heatmap(self, coords: torch.Tensor, stride: int) -> torch.Tensor:
        """The input frame's coordinates (..., 2) -> heatmap cell coordinates."""
        return (coords - HEATMAPS[self.heatmap](stride)) / stride

    # --- the crop ---------------------------------------------------------------------------------------------------
    def crop_maps(self, center: np.ndarray, box: float, out_hw: tuple[int, int], rotation: float = 0.0,
                  flip: bool = False, origin: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(frame, pixels, window) for a box of side ``box`` (the width it spans, source pixels) around ``center``
        cut to ``out_hw`` (height, width):

        frame   3x3 source -> the input frame (joints, targets and decoded predictions);
        pixels  3x3 source -> crop pixel indices (what the image warp samples);
        window  (x0, y0, x1, y1) source pixels the sampling is clamped to (the integer window), or None.

        ``origin``: 1 where the source's annotations were 1-based in the files the codebase read and the codebase
        read them as 0-based indices (``one_based``), else 0.
        """
        out_h, out_w = out_hw
        center = np.asarray(center, float)
        if self.crop != "window-resize":
            centre = ((out_w - 1) / 2, (out_h - 1) / 2) if self.crop == "pixel-centres" else (out_w / 2, out_h / 2)
            m = crop_matrix(center, box, (out_h, out_w), rotation, flip, centre)
            return m, m, None
        if rotation or flip or out_h != out_w:
            raise ValueError("the window-resize crop (princeton-vl hourglass) is square, unrotated and unmirrored")
        # princeton-vl/pytorch_stacked_hourglass utils/img.py:9-16 (get_transform), 35-42 (transform, which truncates
        # with astype(int)) and 44-63 (crop): the window's corners are the frame's (0, 0) and (res, res) mapped back.
        res, c = out_w, np.asarray(center, float) + origin * self.one_based
        theirs = np.array([[res / box, 0, res * (-c[0] / box + 0.5)], [0, res / box, res * (-c[1] / box + 0.5)],
                           [0, 0, 1.0]])
        back = np.linalg.inv(theirs)
        ul = (back @ [0.0, 0.0, 1.0])[:2].astype(int)
        br = (back @ [res, res, 1.0])[:2].astype(int)
        n = br - ul  # the window's size (x, y), which cv2.resize brings to (res, res)
        pixels = np.array([[res / n[0], 0, (0.5 - ul[0]) * res / n[0] - 0.5],
                           [0, res / n[1], (0.5 - ul[1]) * res / n[1] - 0.5], [0, 0, 1.0]])
        # The frame in our coordinates: theirs shifted by ``origin`` on both sides, which cancels.
        frame = np.array([[res / box, 0, res / 2 - center[0] * res / box],
                          [0, res / box, res / 2 - center[1] * res / box], [0, 0, 1.0]])
        window = np.array([ul[0], ul[1], br[0] - 1, br[1] - 1], float)
        return frame, pixels, window


OWN = Feeding()


def _prepare(feeding: Feeding, module: nn.Module, args: tuple) -> tuple:
    return (feeding.prepare(args[0]), *args[1:])


def attach(model: nn.Module, feeding: Feeding) -> nn.Module:
    """``model`` fed as ``feeding`` says: the feeding recorded as ``model.feeding`` and its colour order and
    normalisation run as a forward pre-hook, so the network takes RGB in [0, 1].  Returns the model."""
    model.feeding = feeding
    if feeding.changes_input:
        model.register_forward_pre_hook(functools.partial(_prepare, feeding))
    return model


def feeding_of(model: nn.Module) -> Feeding:
    """How ``model`` is fed: its own ``feeding`` (an official checkpoint's), else ``OWN``."""
    return getattr(model, "feeding", OWN)


def parse(raw: dict, where: str) -> Feeding:
    """A ``feeding`` block of ``data_manifest.yaml``: every field given, each with a reference (``references``).
    ``ValueError`` names ``where`` and what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: 'feeding' must be a mapping of {FIELDS} and 'references'")
    unknown, missing = set(raw) - {*FIELDS, "references"}, {*FIELDS, "references"} - set(raw)
    if unknown or missing:
        raise ValueError(f"{where}: feeding has unknown keys {sorted(unknown)} and lacks {sorted(missing)}")
    refs = raw["references"]
    if not isinstance(refs, dict) or set(refs) != set(FIELDS) or not all(isinstance(v, str) and v.strip()
                                                                         for v in refs.values()):
        raise ValueError(f"{where}: feeding.references must give, for each of {FIELDS}, the reference code it comes "
                         "from (repository file:line)")
    try:
        return Feeding(raw["colour"], None if raw["mean"] is None else tuple(raw["mean"]),
                       None if raw["std"] is None else tuple(raw["std"]), raw["crop"], raw["heatmap"],
                       bool(raw["one_based"]), {k: " ".join(v.split()) for k, v in refs.items()})
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: feeding: {e}") from None
