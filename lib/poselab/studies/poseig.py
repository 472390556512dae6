"""The PoseIG study (notebook 05): which models are explained, and training the ones notebook 05 trains.

Notebook 02's hourglasses and notebook 06's three HRNet variants (one seed) are loaded from their finished
runs, never retrained here.  Notebook 05 trains, with the shared training code, integral-regression models
(a soft-argmax head trained on coordinates with an L1 loss, started from one of the hourglasses so that it
fits the CPU budget) and, where the profile asks for one, a SimpleBaseline ResNet.  There is one integral model
per seed of notebook 02: each is fine-tuned from that seed's hourglass, so the heatmap-vs-regression claims are
judged on controlled pairs over several seeds (T05.7); the first seed's pair is also in every other comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from poselab.attribution.joints import GROUP_ORDER, joint_groups
from poselab.attribution.study import Attributor, Samples, validation_samples
from poselab.data.joints import get_convention
from poselab.data.pose2d import synthetic_sources
from poselab.data.transforms import crop_matrix
from poselab.models.complexity import count_parameters
from poselab.settings import EXPERIMENTS, HourglassStudy, PoseIGStudy
from poselab.studies.pose2d import Place, TrainJob, data_choice, load_trained, train_runs
from poselab.train import TrainResult

EXPLICIT, INTEGRAL = "explicit heatmap", "integral regression"


@dataclass
class Compared:
    """A model in the comparison: label, family (explicit heatmap or integral regression), network, input side,
    where it was trained, and its training result when notebook 05 trained it."""

    label: str
    family: str
    model: torch.nn.Module
    input_size: int
    origin: str
    result: TrainResult | None = None


def hrnet_label(experiment: str) -> str:
    return f"hrnet {experiment}"


def integral_label(study: PoseIGStudy, backbone: str | None = None) -> str:
    """The integral model fine-tuned from notebook 02's run ``backbone`` (default: ``study.integral_from``)."""
    return f"integral ({backbone or study.integral_from})"


def integral_stacks(hg: HourglassStudy, study: PoseIGStudy) -> int:
    """The stack count of notebook 02's run ``study.integral_from``."""
    stacks = {hg.label(s): s for s in hg.stacks}
    if study.integral_from not in stacks:
        raise ValueError(f"integral_from={study.integral_from!r} is not one of notebook 02's runs {list(stacks)}")
    return stacks[study.integral_from]


def pair_backbones(hg: HourglassStudy, study: PoseIGStudy) -> dict[int, str]:
    """seed -> notebook 02's run with ``study.integral_from``'s stack count from that seed (the first seed's is
    ``integral_from`` itself): the heatmap halves of the controlled pairs."""
    return {seed: hg.label(integral_stacks(hg, study), seed) for seed in hg.seeds}


def training_jobs(place: Place, study: PoseIGStudy) -> list[TrainJob]:
    """The runs notebook 05 trains: one integral-regression model per seed of notebook 02 (each fine-tuned from
    that seed's hourglass, with that seed) and, if set, the SimpleBaseline."""
    hg = place.profile.hourglass
    data = data_choice(place, hg.use_real)
    backbones = pair_backbones(hg, study)
    spec = {"arch": "integral", "backbone": hg.spec(integral_stacks(hg, study)), "beta": study.beta}
    folder = {seed: "poseig-integral" if seed == hg.seeds[0] else f"poseig-integral-seed{seed}" for seed in backbones}
    jobs = [TrainJob(data, hg.convention, hg.input_size, study.integral_samples, None, spec,
                     replace(study.integral_train, seed=seed), place.checkpoints_dir / folder[seed],
                     integral_label(study, backbone), init_from=place.checkpoints_dir / backbone)
            for seed, backbone in backbones.items()]  # fmt: skip
    sb = study.simplebaseline
    if sb is not None:
        n_joints = get_convention(hg.convention).n_joints
        jobs.append(TrainJob(data, hg.convention, sb.input_size, None, None, sb.spec(n_joints),
                             replace(sb.train, seed=place.seed), place.checkpoints_dir / f"poseig-{sb.label}",
                             sb.label))  # fmt: skip
    return jobs


@dataclass
class Comparison:
    """The models notebook 05 explains.  ``models``: the comparison of T05.1-T05.5 and the figures, in a fixed
    order (hourglasses, HRNets, integral regression, SimpleBaseline; notebook 02's first seed).  ``pairs``: the
    controlled (heatmap, integral) pairs of T05.7, one per seed of notebook 02.  ``extra``: the pairs' models that
    are not in ``models`` (the other seeds), explained for T05.7 only."""

    models: dict[str, Compared]
    pairs: list[tuple[str, str]]
    extra: dict[str, Compared]

    def trainings(self) -> dict[str, TrainResult]:
        """The training results of the runs notebook 05 trained (or loaded from its own finished runs)."""
        return {label: m.result for label, m in {**self.models, **self.extra}.items() if m.result is not None}


def compared_models(place: Place, study: PoseIGStudy, workers: int | None = None) -> Comparison:
    """Every model notebook 05 explains (``Comparison``).  Upstream runs are loaded (a clear error names the
    notebook to run when one is missing); notebook 05's own runs are trained, or loaded when nothing that
    determines them has changed."""
    hg, hr = place.profile.hourglass, place.profile.hrnet
    if study.hrnet_seed not in hr.seeds:
        raise ValueError(f"hrnet_seed={study.hrnet_seed} is not one of notebook 06's seeds {hr.seeds}")
    out: dict[str, Compared] = {}
    for s in hg.stacks:
        model, _ = load_trained(place.checkpoints_dir / hg.label(s), place.device)
        out[hg.label(s)] = Compared(hg.label(s), EXPLICIT, model, hg.input_size, "notebook 02")
    for e in EXPERIMENTS:
        model, _ = load_trained(place.checkpoints_dir / hr.label(e, study.hrnet_seed), place.device)
        out[hrnet_label(e)] = Compared(hrnet_label(e), EXPLICIT, model, hr.input_size,
                                       f"notebook 06, seed {study.hrnet_seed}")  # fmt: skip
    backbones = pair_backbones(hg, study)
    other_seeds = [label for seed, label in backbones.items() if seed != hg.seeds[0]]
    extra: dict[str, Compared] = {}
    for label in other_seeds:
        model, _ = load_trained(place.checkpoints_dir / label, place.device)
        extra[label] = Compared(label, EXPLICIT, model, hg.input_size, "notebook 02")
    only_pairs = {integral_label(study, label) for label in other_seeds}
    jobs = training_jobs(place, study)
    for job, (model, result) in zip(jobs, train_runs(jobs, place.device, workers), strict=True):
        family = INTEGRAL if job.spec["arch"] == "integral" else EXPLICIT
        (extra if job.label in only_pairs else out)[job.label] = Compared(job.label, family, model.eval(),
                                                                          job.input_size, "notebook 05", result)
    pairs = [(label, integral_label(study, label)) for label in backbones.values()]
    return Comparison(out, pairs, extra)


def people(place: Place, study: PoseIGStudy) -> Samples:
    """The people explained: ``study.images`` random validation people of the profile's synthetic image set (the
    only data with exact person masks; real MPII has none), in notebook 02's joint convention."""
    from poselab.data.synthetic.generate import ensure_synthetic

    root = ensure_synthetic(place.data_dir, place.profile.data, place.profile.name)["pose2d"]
    _, val = synthetic_sources(root, place.profile.hourglass.convention)
    return validation_samples(val, study.images, place.seed)


def attributors(models: dict[str, Compared], samples: Samples, study: PoseIGStudy,
                device: str) -> dict[str, Attributor]:  # fmt: skip
    """PoseIG for every model, each cropping the source images as its data pipeline does (the whole image)."""
    s = samples.size
    return {label: Attributor(c.model, crop_matrix(np.full(2, (s - 1) / 2), s, c.input_size), c.input_size, s, study,
                              device) for label, c in models.items()}  # fmt: skip


def models_table(models: dict[str, Compared]) -> pd.DataFrame:
    """The models compared: family, where they were trained, input size and parameters."""
    rows = {label: {"family": c.family, "trained in": c.origin, "input": f"{c.input_size}x{c.input_size}",
                    "parameters (M)": count_parameters(c.model) / 1e6,
                    "training epochs": len(c.result.history) if c.result is not None else np.nan}
            for label, c in models.items()}  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def example_person(samples: Samples) -> int:
    """The first person with every joint annotated (the figures' example), else the one with the most joints."""
    full = np.flatnonzero(samples.annotated.all(1))
    return int(full[0]) if len(full) else int(np.argmax(samples.annotated.sum(1)))


def painted(place: Place, index: int, paint: str) -> torch.Tensor:
    """Validation person ``index`` re-rendered with her body painted ``paint`` (3, S, S) in [0, 1]."""
    from poselab.data.synthetic.generate import render_sample

    image = render_sample(place.profile.data.images, "val", int(index), paint).image
    return torch.from_numpy(image).permute(2, 0, 1).float() / 255


def group_examples(samples: Samples, person: int, prefer: tuple[str, ...] = ("r_shoulder", "r_elbow", "r_wrist")
                   ) -> dict[str, int]:  # fmt: skip
    """One annotated joint of each kinematic group for a person: the preferred one where it is annotated."""
    js = samples.convention
    groups = joint_groups(js)
    out = {}
    for g in GROUP_ORDER:
        choices = [js.index(n) for n in prefer if n in js.names and groups[js.index(n)] == g]
        choices += list(np.flatnonzero(groups == g))
        out[g] = next((j for j in choices if samples.annotated[person, j]), choices[0])
    return out

