"""Statistics over training seeds and over people: the seed-to-seed spread, Welch's t-test of two sets of runs, the
paired t-test of per-seed differences, and the 95 % intervals the findings are decided on (``poselab.findings``):
Student's t over seeds, Welch's interval of a difference, and SciPy's bootstrap over people, poses or samples
(or over whole clusters of them); and the 90 % Welch interval of an equivalence test."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from poselab.findings import LEVEL, Interval


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


# --- intervals --------------------------------------------------------------------------------------------------------

RESAMPLES = 2000  # bootstrap resamples of every interval over people, poses or samples


def seed_interval(values: np.ndarray, what: str = "seeds") -> Interval:
    """The mean of a per-seed result and its Student's t interval over the seeds (``LEVEL``); no interval (NaN bounds)
    with fewer than two seeds."""
    values = np.asarray(values, float)
    n = len(values)
    if n < 2:
        return Interval(float(values.mean()) if n else float("nan"), float("nan"), float("nan"),
                        f"one {what.rstrip('s')}: no spread to test over")
    if np.ptp(values) == 0:  # every seed the same: the interval is the point (SciPy would warn of lost precision)
        return Interval(float(values[0]), float(values[0]), float(values[0]), f"Student's t over {n} {what}")
    ci = stats.ttest_1samp(values, 0.0).confidence_interval(LEVEL)
    return Interval(float(values.mean()), float(ci.low), float(ci.high), f"Student's t over {n} {what}")


def welch_interval(a: np.ndarray, b: np.ndarray, what: str = "seeds", level: float = LEVEL) -> Interval:
    """mean(a) - mean(b) and its Welch interval at ``level`` (SciPy's ``ttest_ind``), from two independent sets of
    runs; no interval (NaN bounds) when either side has fewer than two runs."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else float("nan")
    if len(a) < 2 or len(b) < 2:
        return Interval(diff, float("nan"), float("nan"), f"{len(a)} vs {len(b)} {what}: no spread to test over")
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(level)
    named = "" if level == LEVEL else f", {level:.0%}"
    return Interval(diff, float(ci.low), float(ci.high), f"Welch's t over {len(a)} vs {len(b)} {what}{named}")


def bootstrap_interval(statistic, n: int, what: str, seed: int = 0, resamples: int = RESAMPLES) -> Interval:
    """``statistic(indices)`` of all ``n`` units (people, poses, samples) and its percentile bootstrap interval
    (``LEVEL``, SciPy's ``bootstrap`` resampling the units with replacement, seeded); ``statistic`` takes an integer
    array of unit indices (repeats allowed) and returns a number.  No interval with fewer than two units."""
    units = np.arange(n)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # a statistic undefined in some resamples (0 / 0: no case of a kind drawn) leaves no interval, said below
        warnings.simplefilter("ignore", (RuntimeWarning, stats.DegenerateDataWarning))
        estimate = float(statistic(units))
        if n < 2:
            return Interval(estimate, float("nan"), float("nan"), f"one of the {what}: no spread")
        res = stats.bootstrap((units,), lambda idx: statistic(idx.astype(int)), vectorized=False,
                              method="percentile", n_resamples=resamples, confidence_level=LEVEL,
                              random_state=np.random.default_rng(seed))
    ci = res.confidence_interval
    method = f"bootstrap over {n} {what}, {resamples} resamples"
    if not (np.isfinite(ci.low) and np.isfinite(ci.high)):
        method += f"; the statistic is undefined in some resamples (too few {what})"
    return Interval(estimate, float(ci.low), float(ci.high), method)


def equivalence_interval(a: np.ndarray, b: np.ndarray, level: float = 0.90, what: str = "seeds") -> Interval:
    """``welch_interval`` at ``level``, for an equivalence test: the two one-sided Welch tests at 5 % (TOST) both
    reject "the difference is at least the margin m" exactly when the 90 % interval lies within (-m, m)."""
    return welch_interval(a, b, what, level)


def cluster_interval(values: np.ndarray, clusters: np.ndarray, per: np.ndarray | None = None, what: str = "clusters",
                     seed: int = 0, resamples: int = RESAMPLES) -> Interval:
    """The mean of per-unit ``values`` (N,), or with ``per`` (N,) the ratio sum(values) / sum(per) (a ratio of two
    means over the same units), and its cluster bootstrap interval (``bootstrap_interval`` over the clusters):
    whole clusters (``clusters``: (N,) integer ids 0..C-1, e.g. the sequence of each pose) are resampled, since the
    units of one cluster are correlated, and the statistic pools the units of the resampled clusters."""
    clusters = np.asarray(clusters)
    n = int(clusters.max()) + 1 if len(clusters) else 0
    top = np.bincount(clusters, weights=np.asarray(values, float), minlength=n)
    bottom = np.bincount(clusters, weights=None if per is None else np.asarray(per, float), minlength=n)
    return bootstrap_interval(lambda idx: top[idx].sum() / bottom[idx].sum(), n, what, seed, resamples)
