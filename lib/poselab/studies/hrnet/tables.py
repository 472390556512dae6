"""Notebook 06's tables (T06.1 per experiment, the Welch comparison), ``findings(...)`` on Henderson and Houser's
claim, and the front-page numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from poselab.data.joints import get_convention
from poselab.evaluation.stats import seed_std, welch
from poselab.findings import Finding, verdict
from poselab.models.complexity import count_parameters
from poselab.references import cite
from poselab.studies.hrnet.experiment import Run


def experiments_of(runs: list[Run]) -> list[str]:
    """The experiments of ``runs``, in the order they were run."""
    return list(dict.fromkeys(r.experiment for r in runs))


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
            "mean PCKh@0.5": means.mean() if len(means) else np.nan,
            "std over seeds": seed_std(means),
            "seeds finished": len(done),
            "seeds diverged": len(mine) - len(done),
            "diverged at epoch": ", ".join(str(r.result.diverged_epoch) for r in mine if r.evaluation is None) or "-",
            "parameters (M)": count_parameters(mine[0].model) / 1e6,
            "seconds per epoch": np.mean([r.result.history["seconds"].mean() for r in mine]),
        })
        rows[experiment] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def compare(runs: list[Run], reference: str = "as designed") -> pd.DataFrame:
    """Difference of each ablation's final mean PCKh to the reference, with Welch's t-test over seeds."""
    final = {e: np.array([r.evaluation.pckh for r in runs if r.experiment == e and r.evaluation is not None])
             for e in experiments_of(runs)}
    if reference not in final:
        raise ValueError(f"the comparison needs the reference experiment {reference!r}; ran: {', '.join(final)}")
    rows = {}
    for e in final:
        if e == reference:
            continue
        a, b = final[e], final[reference]
        t, p = welch(a, b)
        rows[e] = {"difference to " + reference: a.mean() - b.mean() if len(a) and len(b) else np.nan,
                   "Welch t": t, "p-value": p, "seeds": f"{len(a)} vs {len(b)}"}
    return pd.DataFrame.from_dict(rows, orient="index")


def findings(summary: pd.DataFrame, comparison: pd.DataFrame, alpha: float = 0.05) -> list[Finding]:
    """Notebook 06's finding on Henderson and Houser 2023: removing BatchNorm (and the activations) barely changes
    HRNet's accuracy; supported when Welch's t-test over the seeds finds no ablation's difference to HRNet as designed
    significant at ``alpha``.  ``summary``: T06.1 (``summary_table``); ``comparison``: ``compare``."""
    gaps = comparison["difference to as designed"]
    largest = gaps.abs().idxmax()
    significant = [e for e in comparison.index if comparison.loc[e, "p-value"] < alpha]
    ours = "; ".join(f"{e} {summary.loc[e, 'mean PCKh@0.5']:.3f} ± {summary.loc[e, 'std over seeds']:.3f}"
                     for e in summary.index)
    diverged = int(summary["seeds diverged"].sum())
    note = (f"Seed-to-seed spread at most {summary['std over seeds'].max():.3f}"
            + (f"; significant at p < {alpha}: {', '.join(significant)}" if significant else "")
            + (f". {diverged} run(s) diverged (NaN loss) and are left out of the means." if diverged else
               ". No run diverged."))
    if "no batchnorm + identity" in summary.index:
        note += (" Without activations the whole network is linear in its input (a unit test checks this), so the "
                 f"{summary.loc['no batchnorm + identity', 'mean PCKh@0.5']:.3f} it reaches is what one linear filter "
                 "bank followed by the argmax achieves on these images.")
    return [Finding("The ablations barely change HRNet's accuracy", cite("henderson2023"),
                    "about 0.70 PCKh for all three (MPII, 9 epochs, one run each)",
                    f"{ours}; largest gap {largest} {gaps[largest]:+.3f}",
                    verdict(not significant), f"no difference significant in Welch's t-test at p < {alpha}", note)]


def headline_numbers(summary: pd.DataFrame) -> list[tuple[str, float, str, str]]:
    """Notebook 06's front-page numbers: (name, value, unit, note)."""
    return [(f"HRNet {e}: final PCKh@0.5", summary.loc[e, "mean PCKh@0.5"], "",
             f"± {summary.loc[e, 'std over seeds']:.3f} over {int(summary.loc[e, 'seeds finished'])} seeds")
            for e in summary.index]
