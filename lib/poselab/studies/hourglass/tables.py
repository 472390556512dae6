"""Notebook 02's tables (T02.1 variants, T02.3 the spread over seeds; T02.2 is ``poselab.evaluation.tables``), the
stack verdict (``stack_verdict``: Welch's interval over the seeds) and its finding, and the front-page numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from poselab.data.transforms import Augment
from poselab.evaluation.pck import Evaluation
from poselab.evaluation.stats import seed_std, welch, welch_interval
from poselab.evaluation.tables import Quote
from poselab.findings import Finding, Interval, decide
from poselab.models import build_model
from poselab.models.complexity import count_macs, count_parameters
from poselab.references import cite
from poselab.studies.hourglass.settings import HourglassStudy

# Bhansali's report and the public PyTorch reference: their data, their joints, their metric.
PUBLISHED = (
    Quote(0.885, cite("bhansali"), "2 stacks", "FLIC", "14 joints", "PCK, torso-normalised (threshold not stated)"),
    Quote(0.901, cite("bhansali"), "8 stacks", "FLIC", "14 joints", "PCK, torso-normalised (threshold not stated)"),
    Quote(0.883, cite("princeton_hourglass"), "2 stacks", "MPII validation", "all 16 joints",
          "PCKh@0.5, the reference's own head normaliser"),
    Quote(0.901, cite("princeton_hourglass"), "8 stacks", "MPII validation", "all 16 joints",
          "PCKh@0.5, the reference's own head normaliser"),
)


SOURCE_SCHEDULE = (200_000, 16)  # Bhansali's training: iterations, batch size ("200,000 iterations ... batch of 16")


def schedule_note(study: HourglassStudy, n_train: int) -> str:
    """How the profile's schedule compares with the source's, in one sentence for the notebook."""
    t, aug = study.train, Augment()
    images, (iterations, batch) = t.epochs * n_train, SOURCE_SCHEDULE
    drops = ", ".join(map(str, t.lr_milestones))
    milestones = f", the rate divided by 10 after epoch {drops}" if drops else ""
    return (f"**Schedule.** {cite('bhansali')} trained for {iterations:,} iterations at batch {batch} "
            f"({iterations * batch / 1e6:.1f} M images seen); this profile trains {t.epochs} epochs of {n_train:,} "
            f"people at batch {t.batch_size} ({images / 1e6:.2f} M images, {images / (iterations * batch):.0%} of "
            f"theirs) with {t.optimizer} at {t.lr:g}{milestones}, {len(study.seeds)} seed(s) per stack count; every "
            f"training crop rotated by up to ±{aug.rotation:g}°, rescaled by {aug.scale[0]:g}–{aug.scale[1]:g} and "
            f"mirrored with probability {aug.flip:g} (``poselab.data.transforms.Augment``).")


def variants_table(study: HourglassStudy) -> pd.DataFrame:
    """T02.1: each variant's size and cost at the study's input size."""
    rows = []
    for s in study.stacks:
        model = build_model(study.spec(s))
        rows.append({"model": study.label(s), "stacks": s, "width": study.width, "depth": study.depth,
                     "stem": f"{study.stem[0]}/{study.stem[1]}", "input": f"{study.input_size}x{study.input_size}",
                     "heatmaps": f"{study.input_size // 4}x{study.input_size // 4}",
                     "parameters (M)": count_parameters(model) / 1e6,
                     "GFLOPs": count_macs(model, (3, study.input_size, study.input_size)) / 1e9})
    return pd.DataFrame(rows).set_index("model")


# T02.3's columns, named once: where the table is built and wherever it is read.
SEEDS, PCKH_MEAN, PCKH_STD = "seeds", "PCKh@0.5 mean", "PCKh@0.5 std"
TORSO_MEAN, TORSO_STD = "PCK@0.2 (torso) mean", "PCK@0.2 (torso) std"


def seed_column(seed: int) -> str:
    """T02.3's column of one seed's PCKh@0.5."""
    return f"PCKh@0.5 seed {seed}"


def seed_table(evaluations: dict[tuple[int, int], Evaluation], study: HourglassStudy) -> pd.DataFrame:
    """T02.3: mean PCKh@0.5 and torso PCK@0.2 per stack count over the seeds (mean, std, each seed's value)."""
    rows = {}
    for s in study.stacks:
        head = np.array([evaluations[(s, seed)].pckh for seed in study.seeds])
        torso = np.array([evaluations[(s, seed)].pck for seed in study.seeds])
        row = {SEEDS: len(head), PCKH_MEAN: head.mean(), PCKH_STD: seed_std(head), TORSO_MEAN: torso.mean(),
               TORSO_STD: seed_std(torso)}
        row.update({seed_column(seed): v for seed, v in zip(study.seeds, head, strict=True)})
        rows[study.label(s)] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


TIE = 0.001  # PCKh: an interval bound within one unit of the third decimal shown of 0 is a tie (not resolved)


@dataclass(frozen=True)
class StackVerdict:
    """Whether more stacks gave a higher PCKh: the fewest and the most stacks' validation PCKh@0.5 seed by seed, the
    Welch 95 % interval of mean PCKh(many) - mean PCKh(few) over the seeds, and the verdict it decides."""

    few: int
    many: int
    few_pckh: np.ndarray  # (seeds,) PCKh@0.5 of the fewest stacks, one per seed
    many_pckh: np.ndarray  # (seeds,) the most stacks'
    few_torso: float  # mean torso PCK@0.2 over the seeds
    many_torso: float
    interval: Interval  # mean PCKh(many) - mean PCKh(few), Welch's 95 % interval over the seeds
    p: float  # Welch's two-sided p of the same difference (NaN with one seed per variant)
    verdict: str  # one of poselab.findings.VERDICTS

    @property
    def gain(self) -> float:
        """mean PCKh(many) - mean PCKh(few)."""
        return self.interval.estimate

    @property
    def evidence(self) -> str:
        """The numbers behind the verdict, without it."""
        if not np.isfinite(self.interval.low):
            return f"one run per variant: no seed spread to judge the gap of {self.gain:+.3f} against"
        return (f"mean gain {self.interval.text('{:+.3f}')} ({self.interval.method}, 95 %), Welch's p = "
                f"{self.p:.3f}")

    @property
    def sentence(self) -> str:
        return f"{self.verdict} ({self.evidence})"


def stack_verdict(evaluations: dict[tuple[int, int], Evaluation], study: HourglassStudy) -> StackVerdict:
    """The claim that more stacks give a higher PCK, on the fewest and the most stacks, decided by Welch's 95 %
    interval of the difference of their mean PCKh@0.5 over the seeds: "supports" when the interval lies above 0,
    "does not support" when below, otherwise (it straddles 0, lies within ``TIE`` of it, or there is one seed per
    variant and no interval) "not resolved"."""
    few, many = min(study.stacks), max(study.stacks)
    a = np.array([evaluations[(few, seed)].pckh for seed in study.seeds])
    b = np.array([evaluations[(many, seed)].pckh for seed in study.seeds])
    torso = {s: float(np.mean([evaluations[(s, seed)].pck for seed in study.seeds])) for s in (few, many)}
    interval = welch_interval(b, a)
    return StackVerdict(few, many, a, b, torso[few], torso[many], interval, welch(b, a)[1],
                        decide(interval, 0.0, tie=TIE))


def stack_finding(stack: StackVerdict, study: HourglassStudy, data_name: str = "synthetic",
                  dissected: float | None = None) -> Finding:
    """Notebook 02's finding: more stacks give a higher PCK (Bhansali's report on Newell et al. 2016), as
    ``stack_verdict`` decides it.  ``dissected``: the PCKh@0.5 of the model notebooks 03-05 take apart, for the
    note."""
    few, many = study.label(stack.few), study.label(stack.many)
    spread = {s: seed_std(v) if len(v) > 1 else 0.0 for s, v in ((few, stack.few_pckh), (many, stack.many_pckh))}
    welch_p = f"Welch's two-sided p = {stack.p:.3f}. " if np.isfinite(stack.p) else ""
    note = (f"{welch_p}Torso PCK@0.2 {stack.many_torso:.3f} vs "
            f"{stack.few_torso:.3f}. Same data and {study.train.epochs} epochs for every run, {data_name} data at "
            f"{study.input_size}x{study.input_size}; Bhansali trained at 256x256 for ~100 epochs.")
    if dissected is not None:
        note += (f" The {study.main_stacks}-stack model of seed {study.seeds[0]}, dissected in notebooks 03-05, "
                 f"reaches PCKh@0.5 {dissected:.3f} on the held-out subjects.")
    return Finding("More stacks give a higher PCK", cite("bhansali"),
                   "FLIC PCK 0.901 (8 stacks) vs 0.885 (2), one run each",
                   f"PCKh@0.5 {stack.many_pckh.mean():.3f} ± {spread[many]:.3f} ({many}) vs "
                   f"{stack.few_pckh.mean():.3f} ± {spread[few]:.3f} ({few}) over {len(stack.few_pckh)} seed(s); "
                   f"difference {stack.interval.text('{:+.3f}')}",
                   stack.verdict,
                   f"Welch's 95 % interval of mean PCKh@0.5 ({many}) - mean PCKh@0.5 ({few}) over the seeds against 0 "
                   f"(a bound within {TIE} of 0 is a tie)", note, resolve="more seeds per stack count")


def headline_numbers(seeds: pd.DataFrame, stack: StackVerdict, study: HourglassStudy,
                     data_name: str) -> list[tuple[str, float, str, str]]:
    """Notebook 02's front-page numbers: (name, value, unit, note).  ``seeds``: T02.3."""
    rows = [(f"PCKh@0.5, {s} stack(s), {data_name} val, mean over {len(study.seeds)} seeds",
             seeds.loc[study.label(s), PCKH_MEAN], "", f"std {seeds.loc[study.label(s), PCKH_STD]:.3f}")
            for s in study.stacks]
    rows.append((f"PCKh@0.5 gain, {stack.many} vs {stack.few} stacks", stack.gain, "",
                 f"{stack.evidence}: {stack.verdict}"))
    return rows
