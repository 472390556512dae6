"""PoseIG applied to a model over a set of people: attribution maps, predictions and indices per joint.

``validation_samples`` picks the people (synthetic validation images with their exact person masks and
joints); ``Attributor`` explains one model on one image (the blur-path IG of every joint's target);
``attribute_model`` runs it over all people and computes DI, FI and LI; ``speed_comparison`` times the
authors' loop against the batched versions on the same image (T05.6).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from poselab.data.joints import JointSet
from poselab.studies.poseig.ig import (
    authors_integrated_gradients,
    exact_cuda_math,
    looped_integrated_gradients,
    path_integrated_gradients,
)
from poselab.studies.poseig.indices import (
    attribution_map,
    authors_joint_heatmaps,
    cross_localization,
    diffusion_index,
    foreground_index,
    joint_heatmaps,
    localization_index,
)
from poselab.studies.poseig.inference import inference_form
from poselab.studies.poseig.joints import joint_groups
from poselab.studies.poseig.outputs import TARGETS, JointCoordinates, JointTargets
from poselab.studies.poseig.paths import blur_path, blur_settings


def progress_bar(items, desc: str, progress: bool = True):
    """A tqdm bar over ``items``; ``progress=False`` hides it, otherwise tqdm's defaults apply (so the runner's
    TQDM_DISABLE keeps executed notebooks free of bar output)."""
    return tqdm(items, desc=desc, leave=False, **({} if progress else {"disable": True}))


@dataclass
class Samples:
    """People to explain: images (N, 3, S, S) in [0, 1], person masks (N, S, S), joints (N, J, 2) source
    pixels, annotated (N, J), head sizes (N,) pixels, their indices in the split."""

    images: torch.Tensor
    masks: torch.Tensor
    joints: torch.Tensor
    annotated: np.ndarray
    head: np.ndarray
    indices: np.ndarray
    convention: JointSet

    def __len__(self) -> int:
        return len(self.images)

    @property
    def size(self) -> int:
        """The images' height (their side when square): what the path, the target's unit and the LI scale with."""
        return self.images.shape[-2]

    def subset(self, k: int) -> Samples:
        return self.subset_of(list(range(min(k, len(self)))))

    def subset_of(self, people: list[int]) -> Samples:
        """The people at positions ``people``."""
        return Samples(self.images[people], self.masks[people], self.joints[people], self.annotated[people],
                       self.head[people], self.indices[people], self.convention)


def validation_samples(source, n: int, seed: int = 0) -> Samples:
    """``n`` random people of a synthetic split (a ``SyntheticSource``: whole-image crops, exact masks)."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(source), min(n, len(source)), replace=False))
    images = torch.from_numpy(np.stack([source.image(i) for i in idx])).permute(0, 3, 1, 2).float() / 255
    return Samples(images, torch.from_numpy(source.set.mask(idx)), torch.from_numpy(source.joints()[idx]).float(),
                   source.annotated()[idx], source.norm_sizes()["head"][idx], idx, source.convention)


class Attributor:
    """PoseIG for one model: the blur path of an image, every joint's target and their attributions.

    model: a 2D pose network (eval mode); matrix: its data pipeline's source -> input affine; input_size: its
    input side or (height, width); image_size: the side of the source images, or their (height, width) (the blur,
    the target's distance unit and the LI scale with the height, as the authors' 256x192 crops); steps and rule: the
    blur path's points and the Riemann rule of its integral; beta: the soft-argmax temperature; factor: the target's
    exp(-factor * distance); target: its ground truth, ``"soft-argmax"`` of the training-target heatmap at the joint
    as the authors (a heatmap that equals its target scores 1) or ``"joint"``, the joint itself; channels_last: run
    the convolutions in that layout.

    ``coordinates`` is the network in its ``inference_form`` with the separable crop, which every batched
    attribution uses; ``reference`` is the network as trained with the ``grid_sample`` crop, which the two
    loops of the speed comparison run (the authors' code has neither change).  Both compute the same function.
    """

    def __init__(self, model: torch.nn.Module, matrix: np.ndarray, input_size: int | tuple[int, int],
                 image_size: int | tuple[int, int], steps: int = 20,
                 rule: str = "trapezoid", beta: float = 10.0, factor: float = 0.3, channels_last: bool = True,
                 device: str = "cpu", target: str = "soft-argmax"):
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
        for p in model.parameters():
            p.requires_grad_(False)  # only input gradients are needed
        model = model.eval()
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.reference = JointCoordinates(model, matrix, input_size, beta, channels_last, separable=False).to(device)
        self.coordinates = JointCoordinates(inference_form(model), matrix, input_size, beta, channels_last).to(device)
        self.steps, self.rule, self.beta, self.factor, self.channels_last = steps, rule, beta, factor, channels_last
        self.target = target
        self.device, self.image_size = device, image_size
        height = image_size if isinstance(image_size, int) else image_size[0]
        self.sigma_max, self.kernel = blur_settings(height)
        self.unit = height / 64  # the authors' heatmap pixel, relative to the image

    def settings(self) -> dict:
        """The path and target settings, to build another attributor the same way."""
        return {"steps": self.steps, "rule": self.rule, "beta": self.beta, "factor": self.factor,
                "channels_last": self.channels_last, "target": self.target}

    def target_point(self, gt: torch.Tensor) -> torch.Tensor:
        """The ground truth the targets compare the prediction with, (J, 2) source pixels (see ``target``)."""
        return self.coordinates.ideal(gt).to(self.device) if self.target == "soft-argmax" else gt.to(self.device)

    def targets(self, gt: torch.Tensor, reference: bool = False) -> JointTargets:
        coordinates = self.reference if reference else self.coordinates
        return JointTargets(coordinates, self.target_point(gt), self.unit, self.factor)

    def path(self, image: torch.Tensor) -> torch.Tensor:
        return blur_path(image.to(self.device), self.steps, self.sigma_max, self.kernel)

    def attribute(self, image: torch.Tensor, gt: torch.Tensor, joints_per_backward: int | None = None,
                  looped: bool = False, authors: bool = False, as_trained: bool = False) -> torch.Tensor:
        """Blur-path attributions of every joint's target, (J, 3, S, S): batched (``joints_per_backward``), by the
        per-step loop (``looped``), or by the authors' code as published (``authors``).  The loops run the
        ``reference`` network, the batched versions the inference form unless ``as_trained``."""
        f, path = self.targets(gt, reference=looped or authors or as_trained), self.path(image)
        with exact_cuda_math():
            if authors:
                return authors_integrated_gradients(f, path, list(self.reference.model.parameters()),
                                                    self.rule)
            if looped:
                return looped_integrated_gradients(f, path, self.rule)
            return path_integrated_gradients(f, path, self.rule, joints_per_backward)

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
        """Joint coordinates (N, J, 2) in the common output space, source pixels."""
        return torch.cat([self.coordinates(images[i : i + batch_size].to(self.device)).cpu()
                          for i in range(0, len(images), batch_size)])


@dataclass
class ModelAttributions:
    """One model explained on every person: maps (N, J, S, S); predictions (N, J, 2) and errors (N, J) in
    source pixels; DI, FI, LI (N, J); completeness: the attributions' sum and the change of the target
    along the path (N, J); seconds of attribution."""

    label: str
    maps: torch.Tensor
    pred: np.ndarray
    epe: np.ndarray
    di: np.ndarray
    fi: np.ndarray
    li: np.ndarray
    attribution_sum: np.ndarray
    target_change: np.ndarray
    seconds: float

    def frame(self, samples: Samples) -> pd.DataFrame:
        """Long table, one row per annotated (person, joint): model, sample, joint, group, epe, di, fi, li."""
        return long_frame(self.label, samples, **{EPE: self.epe, DI: self.di, FI: self.fi, LI: self.li})


# The long table's columns (``long_frame``), named once: where the tables and the claims build and read them.
MODEL, SAMPLE, JOINT, GROUP = "model", "sample", "joint", "group"
EPE, DI, FI, LI = "epe", "di", "fi", "li"  # also ``ModelAttributions``' fields of the same names


def long_frame(label: str, samples: Samples, **values: np.ndarray) -> pd.DataFrame:
    """One row per annotated (person, joint) of ``samples``: model, sample (the person's position among the
    samples), joint, group and each (N, J) array."""
    js = samples.convention
    n, j = samples.annotated.shape
    df = pd.DataFrame({MODEL: label, SAMPLE: np.repeat(np.arange(n), j), JOINT: np.tile(js.labels, n),
                       GROUP: np.tile(joint_groups(js), n), **{k: np.asarray(v).ravel() for k, v in values.items()}})
    return df[samples.annotated.ravel()].reset_index(drop=True)


IDEAL = "ideal map"


def ideal_maps(samples: Samples, person: int, sigma: float | None = None) -> torch.Tensor:
    """The geometry control's maps of one person, (J, H, W): each joint's Gaussian at its ground truth (peak 1; sigma
    in source pixels, default the LI's ``li_sigma``): a perfectly local map, which no network beats at looking only
    at the joint."""
    sigma = li_sigma(samples.size) if sigma is None else sigma
    return joint_heatmaps(samples.joints[person], tuple(samples.images.shape[-2:]), sigma)


def geometry_control(samples: Samples, sigma: float | None = None) -> pd.DataFrame:
    """DI, FI and LI of the ideal maps (``ideal_maps``) of every annotated joint of every person, as a
    ``long_frame`` with model ``IDEAL``.  What FI and LI take from the people's geometry alone: a joint at the thin
    end of a limb has less of its person's mask around it than one on the torso, so even a perfectly local map has a
    lower FI there."""
    per_person = [indices_of(ideal_maps(samples, i, sigma)[None], samples.subset_of([i]), li_sigma(samples.size))
                  for i in range(len(samples))]
    di, fi, li = (np.concatenate(parts) for parts in zip(*per_person, strict=True))
    return long_frame(IDEAL, samples, **{DI: di, FI: fi, LI: li})


def li_heatmap_effect(results: dict[str, ModelAttributions], samples: Samples) -> pd.DataFrame:
    """Mean LI per model (and of the ideal maps) with our heatmap (an exact Gaussian at the joint, ``li_sigma``) and
    with the authors' (``authors_joint_heatmaps``: their training target resized to the image), over the annotated
    joints, and the relative difference."""
    size = tuple(samples.images.shape[-2:])
    ours = joint_heatmaps(samples.joints, size, li_sigma(samples.size))
    theirs = authors_joint_heatmaps(samples.joints, size)
    maps = {label: r.maps for label, r in results.items()}
    maps[IDEAL] = torch.stack([ideal_maps(samples, i) for i in range(len(samples))])
    rows = {}
    for label, m in maps.items():
        a = localization_index(m, ours).numpy()[samples.annotated]
        b = localization_index(m, theirs).numpy()[samples.annotated]
        rows[label] = {"LI, exact Gaussian (ours)": np.nanmean(a), "LI, the authors' heatmap": np.nanmean(b),
                       "relative difference (%)": 100 * (np.nanmean(b) / np.nanmean(a) - 1)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def indices_of(maps: torch.Tensor, samples: Samples, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DI, FI and LI (N, J) of maps (N, J, S, S) of ``samples``; LI with Gaussians of ``sigma`` pixels."""
    hm = joint_heatmaps(samples.joints, tuple(maps.shape[-2:]), sigma)
    di = diffusion_index(maps)
    fi = foreground_index(maps, samples.masks[:, None])
    li = localization_index(maps, hm)
    return di.numpy(), fi.numpy(), li.numpy()


def cross_li(maps: torch.Tensor, samples: Samples) -> np.ndarray:
    """LI of every joint's map with every joint's ground-truth Gaussian, (N, J, J), one person at a time."""
    sigma = li_sigma(samples.size)
    size = tuple(maps.shape[-2:])
    return np.stack([cross_localization(maps[i], joint_heatmaps(samples.joints[i], size, sigma)).numpy()
                     for i in range(len(maps))])


def inversion_inputs(results: dict[str, ModelAttributions], samples: Samples) -> dict[str, dict]:
    """What T05.5 (``tables.inversion_table``) reads of every model: predictions, ground truth, annotation, head
    sizes, and the LI of every joint's map with every joint's Gaussian (``cross_li``)."""
    return {label: {"pred": r.pred, "gt": samples.joints.numpy(), "annotated": samples.annotated, "head": samples.head,
                    "cross_li": cross_li(r.maps, samples)} for label, r in results.items()}


def li_sigma(image_size: int) -> float:
    """Ground-truth Gaussian of the LI in source pixels: the authors' sigma of 2 heatmap pixels at 1/4 of a
    256-pixel crop is 1/32 of the crop; the same fraction of our image (of its height)."""
    return image_size / 32


def attribute_model(label: str, attributor: Attributor, samples: Samples, joints_per_backward: int | None = None,
                    progress: bool = True) -> ModelAttributions:
    """PoseIG maps, predictions, errors, indices and completeness of one model on every person."""
    maps, sums, changes = [], [], []
    start = time.perf_counter()
    for i in progress_bar(range(len(samples)), f"PoseIG {label}", progress):
        f, path = attributor.targets(samples.joints[i]), attributor.path(samples.images[i])
        with exact_cuda_math():
            attr = path_integrated_gradients(f, path, attributor.rule, joints_per_backward)
            ends = f(torch.stack([path[-1], path[0]])).detach()
        maps.append(attribution_map(attr).cpu())
        sums.append(attr.flatten(1).sum(1).cpu())
        changes.append((ends[0] - ends[1]).cpu())
    seconds = time.perf_counter() - start
    maps_t = torch.stack(maps)
    pred = attributor.predict(samples.images)
    epe = (pred - samples.joints).norm(dim=-1).numpy()
    di, fi, li = indices_of(maps_t, samples, li_sigma(samples.size))
    return ModelAttributions(label, maps_t, pred.numpy(), epe, di, fi, li, torch.stack(sums).numpy(),
                             torch.stack(changes).numpy(), seconds)


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest difference between two sets of per-joint attributions (J, ...), relative to each joint's largest
    attribution in ``b``."""
    scale = b.flatten(1).abs().amax(1).clamp_min(torch.finfo(b.dtype).tiny)
    return float(((a - b).flatten(1).abs().amax(1) / scale).max())


AUTHORS = "the authors' loop as published (weight gradients on, one extra backward per step)"
LOOP = "one backward per joint per path step, weights frozen"
PER_JOINT_AS_TRAINED = "one backward per joint, all path steps in one batch, network as trained"
PER_JOINT = "one backward per joint, all path steps in one batch"
BATCHED = "all joints in one batched backward"


def speed_comparison(attributor: Attributor, image: torch.Tensor, gt: torch.Tensor, repeats: int = 1) -> pd.DataFrame:
    """T05.6: one image's attributions of every joint four ways: the authors' loop as their code runs it (one
    forward per path step, one ``.backward()`` per joint that also computes the weights' gradients, and one more
    backward per step), the same loop with the weights frozen (input gradients only), one backward per joint over
    the whole batched path (on the network as trained, and in its inference form), and one batched backward for
    all joints.  Seconds (best of ``repeats`` rounds, each running every method once, so that a slow spell of the
    machine hits all methods alike), the speed-up over both loops, and the largest difference of the attributions
    and maps from the frozen loop's."""
    sync = torch.cuda.synchronize if str(attributor.device).startswith("cuda") else (lambda: None)
    methods = {AUTHORS: dict(authors=True), LOOP: dict(looped=True),
               PER_JOINT_AS_TRAINED: dict(joints_per_backward=1, as_trained=True),
               PER_JOINT: dict(joints_per_backward=1), BATCHED: dict(joints_per_backward=None)}
    results, best = {}, dict.fromkeys(methods, np.inf)
    for _ in range(max(1, repeats)):
        for name, kw in methods.items():
            sync()
            t = time.perf_counter()
            results[name] = attributor.attribute(image, gt, **kw)
            sync()
            best[name] = min(best[name], time.perf_counter() - t)
    table = pd.DataFrame({"seconds": best}).rename_axis("method")
    table["speed-up over the authors' loop"] = table.loc[AUTHORS, "seconds"] / table["seconds"]
    table["speed-up over the frozen loop"] = table.loc[LOOP, "seconds"] / table["seconds"]
    table["max relative difference of attributions"] = [relative_difference(results[m], results[LOOP]) for m in methods]
    table["max difference of maps"] = [float((attribution_map(results[m]) - attribution_map(results[LOOP])).abs().max())
                                       for m in methods]
    j = results[LOOP].shape[0]
    table.attrs.update(joints=j, steps=attributor.steps, device=str(attributor.device))
    return table


def fastest_joints_per_backward(table: pd.DataFrame) -> int | None:
    """From ``speed_comparison``: 1 when one backward per joint over the batched path was faster than one batched
    backward for all joints, else None (all joints in one batched backward)."""
    return 1 if table.loc[PER_JOINT, "seconds"] < table.loc[BATCHED, "seconds"] else None


def best_speedups(table: pd.DataFrame) -> tuple[float, float]:
    """The faster batched method's speed-up over the authors' loop and over the frozen loop."""
    fast = table.loc[[PER_JOINT, BATCHED]]
    return float(fast["speed-up over the authors' loop"].max()), float(fast["speed-up over the frozen loop"].max())


def completeness_table(results: dict[str, ModelAttributions], samples: Samples) -> pd.DataFrame:
    """How far each model's attributions are from summing to the change of the target along the path:
    the median relative gap |sum A - (f(x) - f(baseline))| / |f(x) - f(baseline)| over the annotated (person,
    joint) cases whose target changed by more than 1e-3, and the median change itself; and the annotated cases whose
    map is zero everywhere ("maps without attribution": they have no indices and are left out of every mean, where
    the authors' code counts them as DI 100, FI 0 and LI 0)."""
    rows = {}
    for label, r in results.items():
        change, total = r.target_change[samples.annotated], r.attribution_sum[samples.annotated]
        moved = np.abs(change) > 1e-3
        gap = np.abs(total - change)[moved] / np.abs(change)[moved]
        rows[label] = {"median relative gap": float(np.median(gap)) if moved.any() else np.nan,
                       "90th percentile": float(np.percentile(gap, 90)) if moved.any() else np.nan,
                       "median |f(x) - f(baseline)|": float(np.median(np.abs(change))),
                       "cases": int(moved.sum()),
                       "maps without attribution": int(np.isnan(r.di[samples.annotated]).sum()),
                       "attribution seconds": r.seconds}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
