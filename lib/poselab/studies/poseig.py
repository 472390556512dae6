"""The PoseIG study (notebook 05): which models are explained, and training the two that notebook 05 trains.

Notebook 02's hourglasses and notebook 06's three HRNet variants (one seed) are loaded from their finished
runs, never retrained here.  Notebook 05 trains, with the shared training code, an integral-regression model
(a soft-argmax head trained on coordinates with an L1 loss, started from one of the hourglasses so that it
fits the CPU budget) and, where the profile asks for one, a SimpleBaseline ResNet.
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
from poselab.settings import EXPERIMENTS, PoseIGStudy
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


def integral_label(study: PoseIGStudy) -> str:
    return f"integral ({study.integral_from})"


def training_jobs(place: Place, study: PoseIGStudy) -> list[TrainJob]:
    """The runs notebook 05 trains: the integral-regression model and, if set, the SimpleBaseline."""
    hg = place.profile.hourglass
    data = data_choice(place, hg.use_real)
    stacks = {hg.label(s): s for s in hg.stacks}
    if study.integral_from not in stacks:
        raise ValueError(f"integral_from={study.integral_from!r} is not one of notebook 02's runs {list(stacks)}")
    backbone = hg.spec(stacks[study.integral_from])
    jobs = [TrainJob(data, hg.convention, hg.input_size, study.integral_samples, None,
                     {"arch": "integral", "backbone": backbone, "beta": study.beta},
                     replace(study.integral_train, seed=place.seed), place.checkpoints_dir / "poseig-integral",
                     integral_label(study), init_from=place.checkpoints_dir / study.integral_from)]  # fmt: skip
    sb = study.simplebaseline
    if sb is not None:
        n_joints = get_convention(hg.convention).n_joints
        jobs.append(TrainJob(data, hg.convention, sb.input_size, None, None, sb.spec(n_joints),
                             replace(sb.train, seed=place.seed), place.checkpoints_dir / f"poseig-{sb.label}",
                             sb.label))  # fmt: skip
    return jobs


def compared_models(place: Place, study: PoseIGStudy, workers: int | None = None) -> dict[str, Compared]:
    """Every model of the comparison, in a fixed order: hourglasses, HRNets, integral regression, SimpleBaseline.
    Upstream runs are loaded (a clear error names the notebook to run when one is missing); notebook 05's own
    runs are trained, or loaded when nothing that determines them has changed."""
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
    jobs = training_jobs(place, study)
    for job, (model, result) in zip(jobs, train_runs(jobs, place.device, workers), strict=True):
        family = INTEGRAL if job.spec["arch"] == "integral" else EXPLICIT
        out[job.label] = Compared(job.label, family, model.eval(), job.input_size, "notebook 05", result)
    return out


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

