"""Notebook 05's decisions (poselab.studies.poseig.claims) on hand-made inputs that give each verdict word, including
near-ties that must come out "not resolved"."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from poselab import findings as fd
from poselab.data.joints import MPII16
from poselab.studies.poseig import claims
from poselab.studies.poseig.joints import joint_groups
from poselab.studies.poseig.sanity import PerturbationErrors, Randomization

J = MPII16.n_joints
GROUPS = joint_groups(MPII16)


def _frame(model: str, people: int, rng, fi=None, di=None, epe=None, li=None) -> pd.DataFrame:
    """A long table as ``ModelAttributions.frame`` makes it; each index a function of (person, joint) or noise."""
    rows = []
    for p in range(people):
        for j in range(J):
            g = GROUPS[j]
            e = epe(p, j) if epe else rng.uniform(1, 10)
            rows.append({"model": model, "sample": p, "joint": MPII16.labels[j], "group": g, "epe": e,
                         "di": di(p, j, e) if di else rng.uniform(20, 40),
                         "fi": fi(p, j, g) if fi else rng.uniform(1, 2),
                         "li": li(p, j, e) if li else rng.uniform(1, 5)})
    return pd.DataFrame(rows)


def test_re_above_one_needs_every_mask_and_group():
    rng = np.random.default_rng(0)
    n = 20
    origin = np.zeros((n, J))
    rand = rng.uniform(0.5, 1.5, (n, 4, J))
    strong = PerturbationErrors(origin, rand * 3.0, rand)
    ann = np.ones((n, J), bool)
    assert claims.re_above_one(strong, ann, MPII16).verdict == fd.SUPPORTS
    weak = PerturbationErrors(origin, rand * 0.5, rand)
    assert claims.re_above_one(weak, ann, MPII16).verdict == fd.DOES_NOT
    tie = PerturbationErrors(origin, rng.uniform(0.5, 1.5, (n, 4, J)), rand)  # R_E about 1: noise either way
    f = claims.re_above_one(tie, ann, MPII16)
    assert f.verdict == fd.UNRESOLVED and f.resolve and "M_m trunk" in f.ours


def _randomization(first_di, last_di, first_fi, last_fi):
    stage = lambda di, fi: SimpleNamespace(di=di, fi=fi)  # noqa: E731
    return Randomization([0, 10], 10, [stage(first_di, first_fi), stage(last_di, last_fi)])


def test_randomisation_trends_are_judged_over_the_people():
    rng = np.random.default_rng(1)
    n = 12
    base = rng.uniform(10, 15, (n, J))
    fi = rng.uniform(1.2, 1.5, (n, J))
    ann = np.ones((n, J), bool)
    up = _randomization(base, base + 5 + rng.normal(0, 0.5, (n, J)), fi, fi - 0.3)
    assert claims.di_rises(up, ann).verdict == fd.SUPPORTS and claims.fi_falls(up, ann).verdict == fd.SUPPORTS
    down = _randomization(base, base - 5, fi, fi + 0.3)
    assert claims.di_rises(down, ann).verdict == fd.DOES_NOT and claims.fi_falls(down, ann).verdict == fd.DOES_NOT
    flat = _randomization(base, base + rng.normal(0, 2.0, (n, J)), fi, fi + rng.normal(0, 0.2, (n, J)))
    assert claims.di_rises(flat, ann).verdict == fd.UNRESOLVED
    nan_person = base.copy()
    nan_person[0] = np.nan  # a person without any attributable map is left out, not a NaN verdict
    assert claims.di_rises(_randomization(base, nan_person + 5, fi, fi), ann).verdict == fd.SUPPORTS


def test_the_chain_is_judged_per_model_relative_to_the_ideal_map():
    rng = np.random.default_rng(2)
    n = 15
    level = {"trunk": 1.0, "branch": 1.3, "leaf": 1.6}
    ideal = _frame("ideal map", n, rng, fi=lambda p, j, g: 2.0 + rng.normal(0, 0.01))
    grows = _frame("grows", n, rng, fi=lambda p, j, g: level[g] + rng.normal(0, 0.05))
    falls = _frame("falls", n, rng, fi=lambda p, j, g: 2.0 - level[g] + rng.normal(0, 0.05))
    flat = _frame("flat", n, rng, fi=lambda p, j, g: 1.5 + rng.normal(0, 0.4))
    results = {r.model: r for r in claims.chain(pd.concat([grows, falls, flat]), ideal, "fi", n)}
    assert results["grows"].verdict == fd.SUPPORTS and results["falls"].verdict == fd.DOES_NOT
    assert results["flat"].verdict == fd.UNRESOLVED
    f = claims.grows_along_chain(list(results.values()), "fi", "FI grows", "suppl. B.2", "6 of 6")
    assert f.verdict == fd.PARTLY and "grows: branch - trunk" in f.ours
    only = claims.grows_along_chain([results["grows"], results["flat"]], "fi", "FI grows", "x", "y")
    assert only.verdict == fd.UNRESOLVED and only.resolve


def test_hard_cases_need_a_higher_di_and_a_lower_fi():
    rng = np.random.default_rng(3)
    n = 30
    clear = _frame("clear", n, rng, di=lambda p, j, e: 20 + 2 * e + rng.normal(0, 1),
                   fi=lambda p, j, g: 1.5 + rng.normal(0, 0.05))
    clear["fi"] = 2.0 - 0.05 * clear["epe"] + rng.normal(0, 0.02, len(clear))
    assert claims.hard_minus_easy(clear, n).verdict == fd.SUPPORTS
    noise = _frame("noise", n, rng)
    assert claims.hard_minus_easy(noise, n).verdict == fd.UNRESOLVED
    reversed_ = clear.assign(di=40 - (clear["di"] - 20))
    assert claims.hard_minus_easy(reversed_, n).verdict == fd.DOES_NOT


def test_the_pairs_are_judged_over_the_seeds():
    f = claims.heatmap_exceeds_integral(np.array([1.1, 0.9, 1.3]), "mean LI", "LI larger", "C.1", "x", "pairs")
    assert f.verdict == fd.SUPPORTS and "Student's t over 3 seeds" in f.test
    assert claims.heatmap_exceeds_integral(np.array([-1.1, -0.9, -1.3]), "x", "c", "w", "p", "").verdict == fd.DOES_NOT
    tie = claims.heatmap_exceeds_integral(np.array([0.4, -0.3, 0.2]), "x", "c", "w", "p", "")
    assert tie.verdict == fd.UNRESOLVED and tie.resolve == claims.MORE_PAIRS
    assert claims.heatmap_exceeds_integral(np.array([2.0]), "x", "c", "w", "p", "").verdict == fd.UNRESOLVED


def test_li_beats_fi_on_the_joints_means():
    rng = np.random.default_rng(4)
    n = 30
    difficulty = rng.uniform(1, 10, J)  # each joint's error level
    tied = _frame("li tracks the error", n, rng, epe=lambda p, j: difficulty[j] + rng.normal(0, 0.3),
                  li=lambda p, j, e: 10 - difficulty[j] + rng.normal(0, 0.3),
                  fi=lambda p, j, g: 1.5 + rng.normal(0, 0.3))
    assert claims.li_beats_fi(tied, MPII16, n).verdict == fd.SUPPORTS
    swapped = tied.rename(columns={"li": "fi", "fi": "li"})
    assert claims.li_beats_fi(swapped, MPII16, n).verdict == fd.DOES_NOT


def test_solid_baselines_are_judged_by_a_binomial_test():
    def table(lower: list[bool]) -> pd.DataFrame:
        rows = []
        for k, low in enumerate(lower):
            person, paint = divmod(k, 2)
            paint = ("black", "white")[paint]
            own = f"{paint} baseline"
            rows += [{"person": person, "paint": paint, "method": own, "FI": 0.5 if low else 2.0},
                     {"person": person, "paint": paint, "method": "blur path", "FI": 1.5}]
        return pd.DataFrame(rows)

    assert claims.solid_baselines_overlook(table([True] * 6)).verdict == fd.SUPPORTS  # p = 1/64
    assert claims.solid_baselines_overlook(table([False] * 6)).verdict == fd.DOES_NOT
    two = claims.solid_baselines_overlook(table([True, True]))  # one person: p = 1/4, not enough
    assert two.verdict == fd.UNRESOLVED and "2 of 2" in two.ours and two.resolve
    assert claims.solid_baselines_overlook(table([True, False] * 3)).verdict == fd.UNRESOLVED


@pytest.mark.parametrize("verdict", [fd.SUPPORTS, fd.DOES_NOT])
def test_a_resolved_claim_says_nothing_about_resolving(verdict):
    sign = 1 if verdict == fd.SUPPORTS else -1
    f = claims.heatmap_exceeds_integral(sign * np.array([1.0, 1.2, 0.9]), "x", "c", "w", "p", "")
    assert f.verdict == verdict and f.resolve == ""


def test_a_model_without_any_attributable_map_is_not_resolved_not_a_crash():
    rng = np.random.default_rng(6)
    n = 4
    ideal = _frame("ideal map", n, rng)
    empty = _frame("random weights", n, rng).assign(fi=np.nan, li=np.nan, di=np.nan)  # every map without attribution
    (result,) = claims.chain(empty, ideal, "fi", n)
    assert result.verdict == fd.UNRESOLVED
    assert claims.hard_minus_easy(empty, n).verdict == fd.UNRESOLVED
    assert claims.li_beats_fi(empty, MPII16, n).verdict == fd.UNRESOLVED
