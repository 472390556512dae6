"""PoseIG's sanity checks, each run over a model and a set of people (He et al. 2023, A.1-A.4):

``baseline_comparison``       straight-line IG from white, black and blurred baselines (captum) against the
                              blur path, on people painted black or white (F05.1);
``output_space_comparison``   one joint's map in coordinate and heatmap output spaces, with several
                              likelihood factors (F05.2);
``perturbation_test``         the errors behind R_E for every person, joint and mask (T05.1);
``randomization_test``        indices as convolution layers are re-initialised from the output back (T05.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from poselab.studies.poseig.attribute import (
    Attributor,
    ModelAttributions,
    Samples,
    attribute_model,
    li_sigma,
    progress_bar,
)
from poselab.studies.poseig.ig import captum_integrated_gradients, exact_cuda_math, path_integrated_gradients
from poselab.studies.poseig.indices import (
    attribution_map,
    diffusion_index,
    foreground_index,
    joint_heatmaps,
    localization_index,
    resampled_map,
)
from poselab.studies.poseig.outputs import HeatmapTargets, JointTargets
from poselab.studies.poseig.paths import solid_baseline, straight_path
from poselab.studies.poseig.perturbation import perturbation_errors, perturbation_masks
from poselab.studies.poseig.randomization import conv_layers, randomization_counts, randomized_copy

BASELINE_METHODS = ("white baseline", "black baseline", "blurred baseline", "blur path")
PERSON = "person"  # F05.1's table: which person (``baseline_comparison``'s caller numbers them), painted how


def _summed(f):
    """All joints' targets summed into one output, (B, 1): one map for the whole pose."""
    return lambda x: f(x).sum(1, keepdim=True)


def baseline_comparison(attributor: Attributor, images: dict[str, torch.Tensor], mask: torch.Tensor,
                        gt: torch.Tensor, person: int = 0) -> tuple[dict[str, dict[str, torch.Tensor]], pd.DataFrame]:
    """Maps of the summed targets of one person, painted in different colours (``images``: paint -> (3, S, S)),
    by straight-line IG from a white, a black and the most blurred baseline (captum, as many steps as the blur
    path, left rule) and by the blur path.  Returns the maps (paint -> method -> (S, S)) and a table per paint
    and method: FI, DI, and captum's convergence delta (the blur path's completeness gap in its place); ``person``
    names the person in the table."""
    f = attributor.targets(gt)
    steps = attributor.steps
    maps, rows = {}, []
    for paint, image in images.items():
        image = image.to(attributor.device)
        path = attributor.path(image)
        baselines = {"white baseline": solid_baseline(image, 1.0), "black baseline": solid_baseline(image, 0.0),
                     "blurred baseline": path[0]}
        maps[paint] = {}
        with exact_cuda_math():
            for method, base in baselines.items():
                attr, delta = captum_integrated_gradients(f, image, base, None, steps)
                maps[paint][method] = attribution_map(attr).cpu()
                rows.append({PERSON: person, "paint": paint, "method": method, "delta": delta})
            attr = path_integrated_gradients(_summed(f), path, attributor.rule)[0]
            ends = _summed(f)(torch.stack([path[-1], path[0]])).detach()[:, 0]
            maps[paint]["blur path"] = attribution_map(attr).cpu()
            rows.append({PERSON: person, "paint": paint, "method": "blur path",
                         "delta": float(attr.sum() - (ends[0] - ends[1]))})
    table = pd.DataFrame(rows)
    table["FI"] = [float(foreground_index(maps[r.paint][r.method], mask)) for r in table.itertuples()]
    table["DI"] = [float(diffusion_index(maps[r.paint][r.method])) for r in table.itertuples()]
    return maps, table


def captum_agreement(attributor: Attributor, image: torch.Tensor, gt: torch.Tensor,
                     joints: tuple[int, ...] = (0,)) -> pd.DataFrame:
    """Our straight-line IG (every joint at once, left rule) against captum's ``IntegratedGradients`` (one joint per
    call) from a black and a white baseline: the largest difference relative to the largest attribution, and
    captum's convergence delta."""
    f = attributor.targets(gt.to(attributor.device))
    image = image.to(attributor.device)
    steps = attributor.steps
    rows = []
    with exact_cuda_math():
        for name, value in (("black", 0.0), ("white", 1.0)):
            base = solid_baseline(image, value)
            ours = path_integrated_gradients(f, straight_path(image, base, steps), "left")
            for j in joints:
                theirs, delta = captum_integrated_gradients(f, image, base, j, steps)
                scale = float(theirs.abs().max())
                rows.append({"baseline": name, "joint": j, "steps": steps,
                             "max relative difference": float((ours[j] - theirs).abs().max()) / max(scale, 1e-30),
                             "captum convergence delta": delta})
    return pd.DataFrame(rows)


def output_space_comparison(attributor: Attributor, image: torch.Tensor, mask: torch.Tensor, gt: torch.Tensor,
                            joint: int, factors: tuple[float, ...] = (0.1, 0.3, 1.0),
                            heatmap_sigma: float = 1.0) -> tuple[dict[str, torch.Tensor], pd.DataFrame]:
    """One joint's blur-path map with the target in the coordinate output space (exp(-factor d), for each
    factor) and in the heatmap output space (exp(-0.3 ||H - G||)), with DI, FI and LI of each."""
    image, gt = image.to(attributor.device), gt.to(attributor.device)
    path = attributor.path(image)
    point = attributor.target_point(gt)
    targets = {f"coordinates, {k:g}": JointTargets(attributor.coordinates, point, attributor.unit, k) for k in factors}
    if not attributor.coordinates.coordinate_model:
        targets[f"heatmaps, {attributor.factor:g}"] = HeatmapTargets(attributor.coordinates, gt, heatmap_sigma,
                                                                          attributor.factor)
    maps, rows = {}, []
    hm = joint_heatmaps(gt[joint].cpu(), tuple(image.shape[-2:]), li_sigma(image.shape[-2]))
    for name, f in targets.items():
        with exact_cuda_math():
            attr = path_integrated_gradients(lambda x, f=f: f(x)[:, joint : joint + 1], path, attributor.rule)
        m = attribution_map(attr[0]).cpu()
        maps[name] = m
        rows.append({"output space, factor": name, "DI": float(diffusion_index(m)),
                     "FI": float(foreground_index(m, mask)), "LI": float(localization_index(m, hm))})
    return maps, pd.DataFrame(rows).set_index("output space, factor")


@dataclass
class PerturbationErrors:
    """The errors behind R_E, in pixels: the unperturbed prediction's (N, J), and with each person perturbed where
    each joint's map is high (``attr``) and where its randomised version is (``rand``), for every mask (N, M, J)."""

    origin: np.ndarray
    attr: np.ndarray
    rand: np.ndarray


def perturbation_test(attributor: Attributor, samples: Samples, maps: torch.Tensor, seed: int = 0,
                      progress: bool = True) -> PerturbationErrors:
    """``PerturbationErrors`` of every person, perturbed with every joint's map and with its randomised version, for
    every mask; draws are seeded per person."""
    out = {"origin": [], "attr": [], "rand": []}
    for i in progress_bar(range(len(samples)), "perturbation test", progress):
        g = torch.Generator().manual_seed(seed * 100_003 + int(samples.indices[i]))
        image = samples.images[i]
        fills = perturbation_masks(image, g)
        random_maps = resampled_map(maps[i], g)
        dev = attributor.device
        e = perturbation_errors(attributor.coordinates, image.to(dev), samples.joints[i].to(dev), maps[i].to(dev),
                                random_maps.to(dev), {k: v.to(dev) for k, v in fills.items()})
        for k in out:
            out[k].append(e[k])
    return PerturbationErrors(**{k: np.stack(v) for k, v in out.items()})


@dataclass
class Randomization:
    """The randomisation test: layers randomised at each stage (0 = trained), of how many, and the model's
    attributions at each stage."""

    counts: list[int]
    n_layers: int
    stages: list[ModelAttributions]

    def means(self, samples: Samples) -> StageMeans:
        """Mean DI, FI, LI over the annotated (person, joint) cases at every stage, and the number of maps that are
        zero everywhere (no attribution: indices undefined)."""
        ann = samples.annotated
        return StageMeans(*([float(np.nanmean(getattr(s, k)[ann])) for s in self.stages] for k in ("di", "fi", "li")),
                          [int(np.isnan(s.di[ann]).sum()) for s in self.stages])


@dataclass
class StageMeans:
    """T05.2's columns: per randomisation stage, mean DI, FI and LI, and the maps without attribution."""

    di: list[float]
    fi: list[float]
    li: list[float]
    degenerate: list[int]


def randomization_test(attributor: Attributor, samples: Samples, steps: int, seed: int = 0,
                       joints_per_backward: int | None = None, progress: bool = True) -> Randomization:
    """Attribute the trained model, then copies with 1/steps, 2/steps, ... of its convolutions re-initialised
    (from the output back, cumulatively), on the same people."""
    model = attributor.coordinates.model
    example = attributor.coordinates.crop(samples.images[:1].to(attributor.device))
    n_layers = len(conv_layers(model, example))
    counts = [0, *randomization_counts(n_layers, steps)]
    stages = []
    for c in progress_bar(counts, "randomisation test", progress):
        m = model if c == 0 else randomized_copy(model, example, c, seed)
        a = Attributor(m, attributor.coordinates.matrix, attributor.coordinates.input_size, attributor.image_size,
                       **attributor.settings(), device=attributor.device)
        stages.append(attribute_model(f"{c} layers", a, samples, joints_per_backward, progress=False))
    return Randomization(counts, n_layers, stages)

