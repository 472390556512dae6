"""Notebook 06's tables (T06.1 per experiment, the equivalence table), the equivalence test that decides Henderson
and Houser's claim (``equivalence_verdict``: each ablation's 90 % Welch interval against a margin, TOST) and its
finding, and the front-page numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from poselab.data.joints import get_convention
from poselab.evaluation.stats import equivalence_interval, seed_std, welch
from poselab.findings import DOES_NOT, SUPPORTS, UNRESOLVED, Finding, Interval, decide
from poselab.models.complexity import count_parameters
from poselab.references import cite
from poselab.studies.hrnet.experiment import Run


def experiments_of(runs: list[Run]) -> list[str]:
    """The experiments of ``runs``, in the order they were run."""
    return list(dict.fromkeys(r.experiment for r in runs))


# T06.1's columns, named once: where the table is built and wherever it is read.
MEAN, STD, FINISHED, DIVERGED = "mean PCKh@0.5", "std over seeds", "seeds finished", "seeds diverged"
DIVERGED_AT, PARAMETERS, SECONDS = "diverged at epoch", "parameters (M)", "seconds per epoch"


def summary_table(runs: list[Run], convention: str) -> pd.DataFrame:
    """T06.1: per experiment, final per-joint PCKh (mean over the seeds that finished), the mean PCKh
    as mean ± std over seeds, parameters, time per epoch and diverged runs."""
    js = get_convention(convention)
    rows = {}
    for experiment in experiments_of(runs):
        mine = [r for r in runs if r.experiment == experiment]
        done = [r for r in mine if r.evaluation is not None]
        per_joint = np.mean([r.evaluation.per_joint_pckh for r in done], axis=0) if done else np.full(js.n_joints,
                                                                                                        np.nan)
        means = np.array([r.evaluation.pckh for r in done])
        row = {label: v for label, v in zip(js.labels, per_joint, strict=True)}
        row.update({
            MEAN: means.mean() if len(means) else np.nan,
            STD: seed_std(means),
            FINISHED: len(done),
            DIVERGED: len(mine) - len(done),
            DIVERGED_AT: ", ".join(str(r.result.diverged_epoch) for r in mine if r.evaluation is None) or "-",
            PARAMETERS: count_parameters(mine[0].model) / 1e6,
            SECONDS: np.mean([r.result.history["seconds"].mean() for r in mine]),
        })
        rows[experiment] = row
    return pd.DataFrame.from_dict(rows, orient="index")


# --- the equivalence test of Henderson and Houser's claim -------------------------------------------------------------

REFERENCE = "as designed"  # what every ablation is compared with
MARGIN = 0.08  # PCKh: Henderson and Houser's "never more than about 8 points apart"
LEVEL_TOST = 0.90  # two one-sided tests at 5 % each: the 90 % interval within the margin
TIE = 0.001  # PCKh: a bound within one unit of the third decimal shown of the margin is a tie (not resolved)

# The equivalence table's columns.
DIFFERENCE, LOW, HIGH = "difference (PCKh@0.5)", "90 % interval, low", "90 % interval, high"
P_VALUE, EQUIVALENCE_MARGIN, SEEDS, VERDICT = "p-value", "margin", "seeds", "TOST verdict"  # p: Welch's


@dataclass(frozen=True)
class Gap:
    """One ablation against HRNet as designed over the seeds that finished: the difference of their mean final
    PCKh@0.5, its 90 % Welch interval (the equivalence test) and Welch's two-sided p (the difference test)."""

    ablation: str
    ablation_pckh: np.ndarray  # (finished seeds,) final PCKh@0.5
    reference_pckh: np.ndarray  # (finished seeds,) final PCKh@0.5 of the reference
    interval: Interval  # mean(ablation) - mean(reference), Welch's 90 % interval
    p: float  # Welch's two-sided p of no difference (NaN with fewer than two seeds a side)


def final_pckh(runs: list[Run]) -> dict[str, np.ndarray]:
    """experiment -> the final PCKh@0.5 of each of its runs that finished (the diverged ones left out)."""
    return {e: np.array([r.evaluation.pckh for r in runs if r.experiment == e and r.evaluation is not None])
            for e in experiments_of(runs)}


def gaps(runs: list[Run], reference: str = REFERENCE) -> list[Gap]:
    """Every ablation of ``runs`` against ``reference``: the difference of the mean final PCKh@0.5 over the seeds,
    its Welch 90 % interval and Welch's p."""
    final = final_pckh(runs)
    if reference not in final:
        raise ValueError(f"the comparison needs the reference experiment {reference!r}; ran: {', '.join(final)}")
    b = final[reference]
    return [Gap(e, a, b, equivalence_interval(a, b, LEVEL_TOST), welch(a, b)[1]) for e, a in final.items()
            if e != reference]


def equivalent(gap: Gap, margin: float = MARGIN) -> str:
    """The verdict on "the ablation changes the accuracy by less than ``margin``" (TOST at 5 %): supports when its
    90 % interval lies within (-margin, margin), does not support when it lies wholly outside (the difference is
    surely larger than the margin), otherwise (it crosses a bound, lies within ``TIE`` of one, or there is no
    interval) not resolved."""
    iv = gap.interval
    if decide(iv, -margin, tie=TIE) == SUPPORTS and decide(iv, margin, above=False, tie=TIE) == SUPPORTS:
        return SUPPORTS
    if decide(iv, margin, tie=TIE) == SUPPORTS or decide(iv, -margin, above=False, tie=TIE) == SUPPORTS:
        return DOES_NOT
    return UNRESOLVED


def equivalence_verdict(gaps: list[Gap], margin: float = MARGIN) -> str:
    """The verdict on "the ablations barely change the accuracy": supports when every ablation is equivalent to the
    reference within ``margin`` (``equivalent``), does not support when one surely differs by more, otherwise not
    resolved (also when there is no ablation to compare)."""
    verdicts = [equivalent(g, margin) for g in gaps]
    if DOES_NOT in verdicts:
        return DOES_NOT
    return SUPPORTS if verdicts and all(v == SUPPORTS for v in verdicts) else UNRESOLVED


def comparison_table(gaps: list[Gap], margin: float = MARGIN, reference: str = REFERENCE) -> pd.DataFrame:
    """The equivalence table: per ablation, its difference to the reference, the 90 % Welch interval, Welch's p,
    the margin and the ablation's own verdict (``equivalent``)."""
    rows = {g.ablation: {DIFFERENCE: g.interval.estimate, LOW: g.interval.low, HIGH: g.interval.high, P_VALUE: g.p,
                         EQUIVALENCE_MARGIN: f"±{margin:g}", VERDICT: equivalent(g, margin),
                         SEEDS: f"{len(g.ablation_pckh)} vs {len(g.reference_pckh)}"} for g in gaps}
    return pd.DataFrame.from_dict(rows, orient="index", columns=[DIFFERENCE, LOW, HIGH, P_VALUE, EQUIVALENCE_MARGIN,
                                                                 SEEDS, VERDICT]).rename_axis(f"vs {reference}")


def compare(runs: list[Run], reference: str = REFERENCE, margin: float = MARGIN) -> pd.DataFrame:
    """``comparison_table`` of the ablations of ``runs`` against ``reference``."""
    return comparison_table(gaps(runs, reference), margin, reference)


def ablation_finding(runs: list[Run], margin: float = MARGIN, reference: str = REFERENCE,
                     alpha: float = 0.05) -> Finding:
    """Notebook 06's finding on Henderson and Houser 2023: removing BatchNorm (and the activations) barely changes
    HRNet's accuracy, an equivalence claim decided by ``equivalence_verdict`` (TOST against ±``margin``); the note
    says which differences Welch's test finds significant at ``alpha``, which runs diverged and what the linear
    network reaches."""
    found = gaps(runs, reference)
    final = final_pckh(runs)
    spread = {e: seed_std(v) if len(v) > 1 else 0.0 for e, v in final.items()}
    diverged = sum(r.evaluation is None for r in runs)
    significant = [g.ablation for g in found if g.p < alpha]
    note = (f"Seed-to-seed spread at most {max(spread.values()):.3f}"
            + (f"; Welch's test finds a difference at p < {alpha}: {', '.join(significant)}" if significant else
               f"; Welch's test finds no difference at p < {alpha}, which alone would not show the ablations equal")
            + (f". {diverged} run(s) diverged (NaN loss) and are left out of the means." if diverged else
               ". No run diverged."))
    if "no batchnorm + identity" in final and len(final["no batchnorm + identity"]):
        note += (" Without activations the whole network is linear in its input (a unit test checks this), so the "
                 f"{final['no batchnorm + identity'].mean():.3f} it reaches is what one linear filter bank followed by "
                 "the argmax achieves on these images.")
    reference_text = (f"{reference} {final[reference].mean():.3f} ± {spread[reference]:.3f}" if len(final[reference])
                      else f"{reference}: every run diverged")
    differences = "; ".join(f"{g.ablation} {g.interval.text('{:+.3f}')}" for g in found)
    return Finding("The ablations barely change HRNet's accuracy", cite("henderson2023"),
                   "about 0.70 PCKh for all three, never more than about 8 points apart (MPII, 9 epochs, one run each)",
                   f"{reference_text}; difference to it (90 % Welch interval over the seeds): "
                   f"{differences or 'no ablation run'}", equivalence_verdict(found, margin),
                   f"equivalence (two one-sided Welch tests at 5 %): every ablation's 90 % interval of its difference "
                   f"to {reference} within ±{margin:g} PCKh (a bound within {TIE} of the margin is a tie)", note,
                   resolve="more seeds per experiment")


def headline_numbers(summary: pd.DataFrame) -> list[tuple[str, float, str, str]]:
    """Notebook 06's front-page numbers: (name, value, unit, note).  ``summary``: T06.1."""
    return [(f"HRNet {e}: final PCKh@0.5", summary.loc[e, MEAN], "",
             f"± {summary.loc[e, STD]:.3f} over {int(summary.loc[e, FINISHED])} seeds")
            for e in summary.index]
