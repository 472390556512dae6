"""Statistics over training seeds: the seed-to-seed spread, Welch's t-test of two sets of runs, and the paired t-test
of per-seed differences."""

from __future__ import annotations

import numpy as np
from scipy import stats


def seed_std(values: np.ndarray) -> float:
    """The seed-to-seed spread of a result: the sample standard deviation (ddof = 1), NaN for fewer than 2 seeds."""
    values = np.asarray(values, float)
    return float(values.std(ddof=1)) if len(values) > 1 else float("nan")


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's t-test of mean(a) = mean(b) over seeds: (t, two-sided p); NaNs when either side has fewer than 2."""
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan")
    test = stats.ttest_ind(a, b, equal_var=False)
    return float(test.statistic), float(test.pvalue)


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Paired t-test over seeds of mean(a - b) = 0, where a[i] and b[i] share seed i (a model and the one
    fine-tuned from it): (mean difference, t, two-sided p); t and p are NaN with fewer than 2 pairs."""
    d = np.asarray(a, float) - np.asarray(b, float)
    if len(d) < 2:
        return float(d.mean()) if len(d) else float("nan"), float("nan"), float("nan")
    test = stats.ttest_1samp(d, 0.0)
    return float(d.mean()), float(test.statistic), float(test.pvalue)
