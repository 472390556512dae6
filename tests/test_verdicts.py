"""How a verdict is decided (poselab.findings: intervals against thresholds, claims about every member, replicates
that must agree) and where its intervals come from (poselab.evaluation.stats), checked against SciPy on fixed data."""

import warnings

import numpy as np
import pytest
from scipy import stats

from poselab import findings as fd
from poselab.evaluation.stats import bootstrap_interval, seed_interval, welch_interval


def test_an_interval_decides_only_when_it_lies_wholly_on_one_side():
    above, below, across = (fd.Interval(0.5, 0.2, 0.8, "m"), fd.Interval(-0.5, -0.8, -0.2, "m"),
                            fd.Interval(0.01, -0.3, 0.32, "m"))
    assert fd.decide(above) == fd.SUPPORTS and fd.decide(below) == fd.DOES_NOT
    assert fd.decide(across) == fd.UNRESOLVED  # a near-tie: another seed could reverse it
    assert fd.decide(below, above=False) == fd.SUPPORTS and fd.decide(above, 0.9) == fd.DOES_NOT
    assert fd.decide(fd.Interval(1.0, float("nan"), float("nan"), "one seed")) == fd.UNRESOLVED
    assert above.text() == "0.500 [0.200, 0.800]" and "no interval" in fd.Interval(1, np.nan, np.nan, "x").text()


def test_every_and_agree_combine_members_and_replicates():
    S, N, U, P = fd.SUPPORTS, fd.DOES_NOT, fd.UNRESOLVED, fd.PARTLY
    assert fd.every([S, S]) == S and fd.every([S, N]) == P and fd.every([N, N, U]) == N
    assert fd.every([S, U]) == U and fd.every([U, U]) == U and fd.every([]) == U
    assert fd.agree([S, S, S]) == S and fd.agree([N, N]) == N and fd.agree([S, N]) == U and fd.agree([S, U]) == U


def test_a_finding_not_resolved_says_what_would_resolve_it():
    with pytest.raises(ValueError, match="resolve"):
        fd.Finding("c", "src", "", "1", fd.UNRESOLVED, "t")
    f = fd.Finding("More is better", "Someone 2020", "0.9", "0.8 [0.7, 0.9]", fd.UNRESOLVED, "t interval above 0",
                   resolve="more seeds")
    text = fd.markdown([f])
    assert "does **not resolve** the claim" in text and "What would resolve it: more seeds." in text
    gated = fd.not_resolved([fd.Finding("x", "s", "", "1", fd.SUPPORTS, "t")], "the checkpoint scores 0.0",
                            "the real checkpoint")
    assert gated[0].verdict == fd.UNRESOLVED and "not resolved: the checkpoint scores 0.0" in gated[0].test


def test_the_seed_interval_is_students_t():
    values = np.array([0.61, 0.64, 0.66])
    iv = seed_interval(values)
    ci = stats.t.interval(0.95, 2, loc=values.mean(), scale=stats.sem(values))
    assert (iv.low, iv.high) == pytest.approx(ci) and iv.estimate == pytest.approx(values.mean())
    assert "over 3 seeds" in iv.method
    single = seed_interval([0.6])
    assert np.isnan(single.low) and fd.decide(single) == fd.UNRESOLVED
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SciPy warns of lost precision on identical values; the interval is the point
        same = seed_interval(np.array([0.5, 0.5, 0.5]))
    assert (same.low, same.estimate, same.high) == (0.5, 0.5, 0.5) and fd.decide(same, 0.4) == fd.SUPPORTS


def test_the_welch_interval_is_scipys():
    a, b = np.array([0.70, 0.72, 0.71, 0.69]), np.array([0.60, 0.66, 0.63])
    iv = welch_interval(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (iv.low, iv.high) == pytest.approx((ci.low, ci.high)) and iv.estimate == pytest.approx(a.mean() - b.mean())


def test_the_bootstrap_interval_is_scipys_percentile_bootstrap():
    x = np.random.default_rng(1).normal(2.0, 1.0, 40)
    iv = bootstrap_interval(lambda idx: x[idx].mean(), len(x), "people", seed=3, resamples=999)
    ref = stats.bootstrap((x,), np.mean, method="percentile", n_resamples=999, vectorized=False,
                          random_state=np.random.default_rng(3)).confidence_interval
    assert (iv.low, iv.high) == pytest.approx((ref.low, ref.high)) and iv.estimate == pytest.approx(x.mean())
    assert "bootstrap over 40 people" in iv.method
