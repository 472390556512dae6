"""The PoseIG experiment (notebook 05): which models are explained, the people, and training the ones notebook 05
trains.

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

from poselab.data.joints import get_convention
from poselab.data.pose2d import synthetic_sources
from poselab.data.transforms import crop_matrix
from poselab.models.complexity import count_parameters
from poselab.studies.hourglass import experiment as hourglass_runs
from poselab.studies.hourglass.settings import HourglassStudy
from poselab.studies.hrnet import experiment as hrnet_runs
from poselab.studies.hrnet.settings import HRNetStudy
from poselab.studies.poseig.attribute import Attributor, Samples, validation_samples
from poselab.studies.poseig.joints import GROUP_ORDER, joint_groups
from poselab.studies.poseig.outputs import JointCoordinates
from poselab.studies.poseig.settings import PoseIGStudy
from poselab.training.jobs import Place, TrainJob, data_choice, load_trained, train_runs
from poselab.training.loop import TrainResult

EXPLICIT, INTEGRAL = "explicit heatmap", "integral regression"
NOTEBOOK_02 = "run notebook 02 first (make notebooks NB=02)"
NOTEBOOK_06 = "run notebook 06 first (make notebooks NB=06)"


@dataclass
class Compared:
    """A model in the comparison: label, family (explicit heatmap or integral regression), network, input side,
    where it was trained, the run it is (its folder, ``<label>-<key>``), and its training result when notebook 05
    trained it."""

    label: str
    family: str
    model: torch.nn.Module
    input_size: int | tuple[int, int]
    origin: str
    run: str = ""
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


def training_jobs(place: Place, study: PoseIGStudy, hourglass: HourglassStudy) -> list[TrainJob]:
    """The runs notebook 05 trains: one integral-regression model per seed of notebook 02 (each fine-tuned from
    that seed's hourglass, with that seed) and, if set, the SimpleBaseline."""
    hg = hourglass
    data = data_choice(place, hg.use_real)
    upstream = hourglass_runs.training_jobs(place, hg)
    stacks = integral_stacks(hg, study)
    if study.integral_softmax not in ("learned", "plain"):
        raise ValueError(f"integral_softmax must be 'learned' or 'plain', got {study.integral_softmax!r}")
    spec = {"arch": "integral", "backbone": hg.spec(stacks), "beta": study.beta}
    if study.integral_softmax == "plain":  # Sun et al.: softmax of the heatmaps as they are
        spec.update(beta=1.0, learn_beta=False)
    jobs = [TrainJob(data, hg.convention, hg.input_size, study.integral_samples, None, spec,
                     replace(study.integral_train, seed=seed), integral_label(study, backbone), place.runs,
                     init_from=upstream[(stacks, seed)])
            for seed, backbone in pair_backbones(hg, study).items()]
    sb = study.simplebaseline
    if sb is not None:
        n_joints = get_convention(hg.convention).n_joints
        jobs.append(TrainJob(data, hg.convention, sb.input_size, None, None, sb.spec(n_joints),
                             replace(sb.train, seed=place.seed), sb.label, place.runs))
    return jobs


PLAIN = "integral, plain softmax"


def plain_softmax_job(place: Place, study: PoseIGStudy, hourglass: HourglassStudy) -> TrainJob | None:
    """The integral model of the first seed fine-tuned with Sun et al.'s plain softmax instead of the learned
    temperature (everything else the same), for the comparison of the two; None when the study already uses it."""
    if study.integral_softmax == "plain":
        return None
    job = training_jobs(place, replace(study, integral_softmax="plain"), hourglass)[0]
    return replace(job, label=f"{PLAIN} ({study.integral_from})")


def sun_convention_shift(model: torch.nn.Module, input_size: int, matrix: np.ndarray) -> float:
    """How far Sun et al.'s coordinate convention (heatmap pixel k at input pixel stride * k) moves an integral
    model's predictions from ours (stride * k + (stride - 1) / 2), in source pixels along x and along y."""
    stride = input_size // JointCoordinates(model.backbone, np.eye(3), input_size).heatmap_shape()[1]
    source_per_input = 1 / float(np.asarray(matrix)[0, 0])  # the crops here are rescales without rotation
    return -(stride - 1) / 2 * source_per_input


def softmax_comparison(place: Place, study: PoseIGStudy, hourglass: HourglassStudy, comparison: Comparison,
                       samples: Samples, device: str, workers: int | None = None) -> pd.DataFrame | None:
    """What Sun et al.'s plain softmax would change: the first seed's integral model with the learned temperature
    (this study's) and the same fine-tuning with a plain softmax, side by side: validation score after fine-tuning,
    the mean error on the explained people, and that error again with Sun et al.'s coordinate convention (heatmap
    pixel k at input pixel stride * k, i.e. every prediction moved by -(stride - 1) / 2)."""
    job = plain_softmax_job(place, study, hourglass)
    ours = comparison.models.get(integral_label(study))
    if job is None or ours is None:
        return None
    (model, result), = train_runs([job], place.device, workers)
    rows = {}
    for label, c, res in ((ours.label, ours, ours.result), (job.label, None, result)):
        net = c.model if c is not None else model.eval()
        a = attributor(net, job.input_size, samples.size, study, device)
        pred = a.predict(samples.images)
        shifted = pred + sun_convention_shift(net, job.input_size, a.coordinates.matrix)
        ann = torch.as_tensor(samples.annotated)
        epe = (pred - samples.joints).norm(dim=-1)[ann].mean()
        epe_sun = (shifted - samples.joints).norm(dim=-1)[ann].mean()
        history = res.history if res is not None else pd.DataFrame()
        score = next((c for c in history.columns if c.startswith("val")), None)
        rows[label] = {"softmax": "learned temperature (from beta)" if c is not None else "plain (Sun et al.)",
                       "validation " + (score or "score"): float(history[score].iloc[-1]) if score else np.nan,
                       "mean EPE (px)": float(epe), "mean EPE, Sun et al.'s coordinates (px)": float(epe_sun)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


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


def compared_models(place: Place, study: PoseIGStudy, hourglass: HourglassStudy, hrnet: HRNetStudy,
                    workers: int | None = None) -> Comparison:
    """Every model notebook 05 explains (``Comparison``).  Upstream runs are loaded by the keys their settings give
    (a clear error names the notebook to run when one is missing); notebook 05's own runs are trained, or loaded when
    their keys are in the store."""
    hg, hr = hourglass, hrnet
    if study.hrnet_seed not in hr.seeds:
        raise ValueError(f"hrnet_seed={study.hrnet_seed} is not one of notebook 06's seeds {hr.seeds}")
    jobs = training_jobs(place, study, hg)
    labels = [hg.label(s) for s in hg.stacks] + [hrnet_label(e) for e in hr.experiments] + [
        job.label for job in jobs if job.label == integral_label(study) or job.spec["arch"] != "integral"]
    if study.main not in labels:  # said before any model is loaded or trained
        raise ValueError(f"model={study.main!r}: must be one of the models compared: {', '.join(labels)}")
    hg_jobs, hr_jobs = hourglass_runs.training_jobs(place, hg), hrnet_runs.training_jobs(place, hr)
    out: dict[str, Compared] = {}
    for s in hg.stacks:
        model, saved = load_trained(hg_jobs[(s, hg.seeds[0])], place.device, NOTEBOOK_02)
        out[hg.label(s)] = Compared(hg.label(s), EXPLICIT, model, hg.input_size, "notebook 02", _run(saved))
    for e in hr.experiments:
        model, saved = load_trained(hr_jobs[(e, study.hrnet_seed)], place.device, NOTEBOOK_06)
        out[hrnet_label(e)] = Compared(hrnet_label(e), EXPLICIT, model, hr.input_size,
                                       f"notebook 06, seed {study.hrnet_seed}", _run(saved))
    backbones = pair_backbones(hg, study)
    stacks = integral_stacks(hg, study)
    other_seeds = {seed: label for seed, label in backbones.items() if seed != hg.seeds[0]}
    extra: dict[str, Compared] = {}
    for seed, label in other_seeds.items():
        model, saved = load_trained(hg_jobs[(stacks, seed)], place.device, NOTEBOOK_02)
        extra[label] = Compared(label, EXPLICIT, model, hg.input_size, "notebook 02", _run(saved))
    only_pairs = {integral_label(study, label) for label in other_seeds.values()}
    for job, (model, result) in zip(jobs, train_runs(jobs, place.device, workers), strict=True):
        family = INTEGRAL if job.spec["arch"] == "integral" else EXPLICIT
        run = job.store.name(job.name, job.key())
        (extra if job.label in only_pairs else out)[job.label] = Compared(job.label, family, model.eval(),
                                                                          job.input_size, "notebook 05", run, result)
    if study.models is not None:
        unknown = [m for m in study.models if m not in out]
        if unknown or study.main not in study.models:
            raise ValueError(f"models={study.models}: {unknown or study.main} not among the models {list(out)} (the "
                             f"main model {study.main!r} among them)")
        out = {label: c for label, c in out.items() if label in study.models}
    every = {**out, **extra}  # the first seed's pair is compared everywhere, the other seeds' only in T05.7
    pairs = [(label, integral_label(study, label)) for label in backbones.values()
             if label in every and integral_label(study, label) in every]
    return Comparison(out, pairs, extra)


def _run(saved: dict) -> str:
    return saved["path"].parent.name


def artifacts(coco: bool) -> str:
    """The figures and tables notebook 05 makes in its setting: on COCO no painted person (F05.1) and no integral
    model (T05.7, T05.9), but the checkpoints' accuracy (T05.8)."""
    if coco:
        return "F05.2-F05.6, T05.1-T05.6, T05.8"
    return "F05.1-F05.6, T05.1-T05.7, T05.9"


def people(place: Place, study: PoseIGStudy, convention: str) -> Samples:
    """The people explained: ``study.images`` random validation people of the profile's synthetic image set (the
    only data with exact person masks; real MPII has none), in notebook 02's joint ``convention``."""
    from poselab.data.synthetic.generate import ensure_synthetic

    root = ensure_synthetic(place.data_dir, place.synthetic, place.profile_name)["pose2d"]
    _, val = synthetic_sources(root, convention)
    return validation_samples(val, study.images, place.seed)


def attributor(model: torch.nn.Module, input_size: int | tuple[int, int], image_size: int | tuple[int, int],
               study: PoseIGStudy, device: str = "cpu") -> Attributor:
    """PoseIG for one model with the study's path and target settings, cropping the whole source image
    (``image_size``) to the model's input as its data pipeline does; source images given as (height, width) are the
    model's inputs themselves (COCO's crops)."""
    if isinstance(image_size, int) and isinstance(input_size, int):
        matrix = crop_matrix(np.full(2, (image_size - 1) / 2), image_size, input_size)
    elif tuple(image_size) == tuple(input_size):
        matrix = np.eye(3)
    else:
        raise ValueError(f"source images of {image_size} must be the input of {input_size} itself")
    return Attributor(model, matrix, input_size, image_size, study.steps, study.rule, study.beta, study.factor,
                      study.channels_last, device, study.target)


def attributors(models: dict[str, Compared], samples: Samples, study: PoseIGStudy,
                device: str) -> dict[str, Attributor]:
    """PoseIG for every model (``attributor``) on the samples' images."""
    h, w = samples.images.shape[-2:]
    size = h if h == w else (h, w)
    return {label: attributor(c.model, c.input_size, size, study, device) for label, c in models.items()}


def models_table(models: dict[str, Compared]) -> pd.DataFrame:
    """The models compared: family, where they were trained, input size and parameters."""
    def side(c: Compared) -> str:
        return f"{c.input_size}x{c.input_size}" if isinstance(c.input_size, int) else "x".join(map(str, c.input_size))

    rows = {label: {"family": c.family, "trained in": c.origin, "run": c.run, "input": side(c),
                    "parameters (M)": count_parameters(c.model) / 1e6,
                    "training epochs": len(c.result.history) if c.result is not None else np.nan}
            for label, c in models.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def example_person(samples: Samples) -> int:
    """The first person with every joint annotated (the figures' example), else the one with the most joints."""
    full = np.flatnonzero(samples.annotated.all(1))
    return int(full[0]) if len(full) else int(np.argmax(samples.annotated.sum(1)))


def chosen_person(samples: Samples, person: int | None) -> int:
    """The person of the figures: ``person`` (notebook 05's knob, an index among the people explained) when it is one,
    ``example_person`` when it is None; ``ValueError`` naming the knob, its value and the indices allowed."""
    if person is None:
        return example_person(samples)
    if not (isinstance(person, int | np.integer) and not isinstance(person, bool) and 0 <= person < len(samples)):
        raise ValueError(f"person={person!r}: must be the index of one of the {len(samples)} people explained, a whole "
                         f"number from 0 to {len(samples) - 1} (or None: the first fully annotated one)")
    return int(person)


def painted_people(samples: Samples, first: int, n: int) -> list[int]:
    """The ``n`` people F05.1 paints: ``first`` (the figures' person), then the other fully annotated people in order
    (then the rest), at most every person explained."""
    full = [int(k) for k in np.flatnonzero(samples.annotated.all(1)) if k != first]
    rest = [k for k in range(len(samples)) if k != first and k not in full]
    return [first, *full, *rest][: max(1, min(n, len(samples)))]


def painted(place: Place, index: int, paint: str) -> torch.Tensor:
    """Validation person ``index`` re-rendered with her body painted ``paint`` (3, S, S) in [0, 1]."""
    from poselab.data.synthetic.generate import render_sample

    image = render_sample(place.synthetic.images, "val", int(index), paint).image
    return torch.from_numpy(image).permute(2, 0, 1).float() / 255


def group_examples(samples: Samples, person: int, prefer: tuple[str, ...] = ("r_shoulder", "r_elbow", "r_wrist")
                   ) -> dict[str, int]:
    """One annotated joint of each kinematic group for a person: the preferred one where it is annotated."""
    js = samples.convention
    groups = joint_groups(js)
    out = {}
    for g in GROUP_ORDER:
        choices = [js.index(n) for n in prefer if n in js.names and groups[js.index(n)] == g]
        choices += list(np.flatnonzero(groups == g))
        out[g] = next((j for j in choices if samples.annotated[person, j]), choices[0])
    return out


def explained_joint(samples: Samples, person: int, joint: str) -> tuple[int, str]:
    """(the index of ``joint``, a name in the samples' convention, for ``person``; what was used instead and why, or
    "").  Where the person's ``joint`` is not annotated, the first annotated joint of the same kinematic group (trunk,
    branch or leaf) is explained, and the note says so."""
    js = samples.convention
    if joint not in js.names:
        raise ValueError(f"joint {joint!r} is not one of {js.name}'s: {', '.join(js.names)}")
    group = joint_groups(js)[js.index(joint)]
    j = group_examples(samples, person, prefer=(joint,))[group]
    note = "" if j == js.index(joint) else (
        f"joint {joint!r} is not annotated for person {person}: the map explains her {js.names[j]!r} instead (the "
        f"first annotated joint of the same {group} group)")
    return j, note
