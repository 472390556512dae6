"""Notebook 02's tables (T02.1 variants, T02.3 the spread over seeds; T02.2 is ``poselab.evaluation.tables``), the
stack verdict, ``findings(...)`` and the front-page numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from poselab.evaluation.pck import Evaluation
from poselab.evaluation.stats import seed_std, welch
from poselab.evaluation.tables import Quote
from poselab.findings import DOES_NOT, SUPPORTS, UNRESOLVED, Finding
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
    t = study.train
    images, (iterations, batch) = t.epochs * n_train, SOURCE_SCHEDULE
    drops = ", ".join(map(str, t.lr_milestones))
    milestones = f", the rate divided by 10 after epoch {drops}" if drops else ""
    return (f"**Schedule.** {cite('bhansali')} trained for {iterations:,} iterations at batch {batch} "
            f"({iterations * batch / 1e6:.1f} M images seen); this profile trains {t.epochs} epochs of {n_train:,} "
            f"people at batch {t.batch_size} ({images / 1e6:.2f} M images, {images / (iterations * batch):.0%} of "
            f"theirs) with {t.optimizer} at {t.lr:g}{milestones}, {len(study.seeds)} seed(s) per stack count.")


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


def seed_table(evaluations: dict[tuple[int, int], Evaluation], study: HourglassStudy) -> pd.DataFrame:
    """T02.3: mean PCKh@0.5 and torso PCK@0.2 per stack count over the seeds (mean, std, each seed's value)."""
    rows = {}
    for s in study.stacks:
        head = np.array([evaluations[(s, seed)].pckh for seed in study.seeds])
        torso = np.array([evaluations[(s, seed)].pck for seed in study.seeds])
        row = {"seeds": len(head), "PCKh@0.5 mean": head.mean(), "PCKh@0.5 std": seed_std(head),
               "PCK@0.2 (torso) mean": torso.mean(), "PCK@0.2 (torso) std": seed_std(torso)}
        row.update({f"PCKh@0.5 seed {seed}": v for seed, v in zip(study.seeds, head, strict=True)})
        rows[study.label(s)] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


@dataclass(frozen=True)
class StackVerdict:
    """Whether more stacks gave a higher PCKh, judged against the seed-to-seed spread."""

    few: int
    many: int
    gain: float  # mean PCKh(many) - mean PCKh(few)
    t: float  # Welch's t over the seeds (NaN with one seed per variant)
    p: float  # two-sided p-value
    alpha: float
    verdict: str  # one of poselab.findings.VERDICTS

    @property
    def evidence(self) -> str:
        """The numbers behind the verdict, without it."""
        if np.isnan(self.p):
            return f"one run per variant: no seed spread to judge the gap of {self.gain:+.3f} against"
        return f"mean gain {self.gain:+.3f}, Welch's t = {self.t:.2f}, p = {self.p:.3f} over the seeds"

    @property
    def sentence(self) -> str:
        threshold = "" if np.isnan(self.p) else f"; threshold p < {self.alpha}"
        return f"{self.verdict} ({self.evidence}{threshold})"


def stack_verdict(evaluations: dict[tuple[int, int], Evaluation], study: HourglassStudy,
                  alpha: float = 0.05) -> StackVerdict:
    """The claim that more stacks give a higher PCK, on the fewest and the most stacks: "supports" when the mean gain
    is positive and Welch's t-test over the seeds rejects equal means at ``alpha``; "does not support" when the
    gain is negative and significant, or with a single seed when it is not positive; otherwise the seeds do not
    resolve it."""
    few, many = min(study.stacks), max(study.stacks)
    a = np.array([evaluations[(few, seed)].pckh for seed in study.seeds])
    b = np.array([evaluations[(many, seed)].pckh for seed in study.seeds])
    gain = float(b.mean() - a.mean())
    t, p = welch(b, a)
    if len(study.seeds) > 1:
        verdict = (SUPPORTS if gain > 0 else DOES_NOT) if p < alpha else UNRESOLVED
    else:
        verdict = SUPPORTS if gain > 0 else DOES_NOT
    return StackVerdict(few, many, gain, t, p, alpha, verdict)


def findings(stack: StackVerdict, seeds: pd.DataFrame, study: HourglassStudy,
             data_name: str = "synthetic") -> list[Finding]:
    """Notebook 02's finding: more stacks give a higher PCK (Bhansali's report on Newell et al. 2016), judged on the
    seed spread.  ``seeds``: T02.3."""
    few, many = study.label(stack.few), study.label(stack.many)
    m, sd = seeds["PCKh@0.5 mean"], seeds["PCKh@0.5 std"].fillna(0)
    torso = seeds["PCK@0.2 (torso) mean"]
    note = (f"{stack.evidence[0].upper()}{stack.evidence[1:]}. Torso PCK@0.2 {torso[many]:.3f} vs {torso[few]:.3f}. "
            f"Same data and {study.train.epochs} epochs for every run, {data_name} data at "
            f"{study.input_size}x{study.input_size}; Bhansali trained at 256x256 for ~100 epochs.")
    if study.label(study.main_stacks) in seeds.index:
        main = seeds.loc[study.label(study.main_stacks), f"PCKh@0.5 seed {study.seeds[0]}"]
        note += (f" The {study.main_stacks}-stack model of seed {study.seeds[0]}, dissected in notebooks 03-05, "
                 f"reaches PCKh@0.5 {main:.3f} on the held-out subjects.")
    return [Finding("More stacks give a higher PCK", cite("bhansali"),
                    "FLIC PCK 0.901 (8 stacks) vs 0.885 (2), one run each",
                    f"PCKh@0.5 {m[many]:.3f} ± {sd[many]:.3f} ({many}) vs {m[few]:.3f} ± {sd[few]:.3f} ({few}) over "
                    f"{len(study.seeds)} seed(s)", stack.verdict,
                    f"mean gain > 0 and Welch's t-test over the seeds at p < {stack.alpha}", note)]


def headline_numbers(seeds: pd.DataFrame, stack: StackVerdict, study: HourglassStudy,
                     data_name: str) -> list[tuple[str, float, str, str]]:
    """Notebook 02's front-page numbers: (name, value, unit, note)."""
    rows = [(f"PCKh@0.5, {s} stack(s), {data_name} val, mean over {len(study.seeds)} seeds",
             seeds.loc[study.label(s), "PCKh@0.5 mean"], "", f"std {seeds.loc[study.label(s), 'PCKh@0.5 std']:.3f}")
            for s in study.stacks]
    rows.append((f"PCKh@0.5 gain, {stack.many} vs {stack.few} stacks", stack.gain, "",
                 f"Welch p = {stack.p:.3f}: {stack.verdict}"))
    return rows
