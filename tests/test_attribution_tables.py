"""Notebook 05's tables (poselab.studies.poseig.tables) on hand-made inputs."""

import numpy as np
import pandas as pd
import pytest

from poselab.data.joints import MPII16
from poselab.studies.poseig import tables
from poselab.studies.poseig.joints import joint_groups
from poselab.studies.poseig.sanity import PerturbationErrors, StageMeans

J = MPII16.n_joints


def _frame(models=("a", "b"), n=40, seed=0, fi_by_group=None):
    rng = np.random.default_rng(seed)
    groups = joint_groups(MPII16)
    rows = []
    for m in models:
        for s in range(n):
            for j in range(J):
                g = groups[j]
                rows.append({"model": m, "sample": s, "joint": MPII16.labels[j], "group": g,
                             "epe": rng.uniform(1, 10), "di": rng.uniform(20, 40),
                             "fi": (fi_by_group or {}).get(g, 1.5) + rng.normal(0, 0.01), "li": rng.uniform(1, 5)})
    return pd.DataFrame(rows)


def test_perturbation_table_pools_joints_of_a_type_as_a_ratio_of_sums():
    n = 3
    origin = np.zeros((n, J))
    attr = np.zeros((n, 4, J))
    rand = np.ones((n, 4, J))
    lw, rw = MPII16.index("l_wrist"), MPII16.index("r_wrist")
    attr[:, :, lw], attr[:, :, rw] = 4.0, 2.0  # the wrists move 4 and 2 pixels with the map, 1 at random
    ann = np.ones((n, J), bool)
    t = tables.perturbation_table(PerturbationErrors(origin, attr, rand), ann, MPII16)
    assert list(t.index) == ["M_m", "M_ro", "M_ru", "M_rn"]
    assert t.loc["M_m", "wrist"] == pytest.approx(3.0) and t.loc["M_m", "knee"] == 0.0
    assert t.loc["M_ru", "all joints"] == pytest.approx(6 / J)
    ann[:, lw] = False  # an unannotated joint drops out of the ratio
    assert tables.perturbation_table(PerturbationErrors(origin, attr, rand), ann, MPII16).loc["M_m", "wrist"] == \
        pytest.approx(2.0)


def test_randomization_table_places_the_seed_at_the_same_fraction():
    t = tables.randomization_table([0, 8, 16, 24, 32, 40, 48], 48,
                                   StageMeans(list(range(7)), [1.0] * 7, [2.0] * 7, [0] * 7))
    assert t.loc[8, tables.SEED_DI_COLUMN] == 13.58 and t.loc[48, tables.SEED_FI_COLUMN] == 0.884
    assert np.isnan(t.loc[0, tables.SEED_DI_COLUMN]) and t.loc[24, "fraction of layers"] == 0.5


def test_group_table_says_whether_fi_grows_down_the_chain():
    f = pd.concat([_frame(("up",), fi_by_group={"trunk": 1.0, "branch": 1.2, "leaf": 1.4}),
                   _frame(("down",), fi_by_group={"trunk": 1.4, "branch": 1.2, "leaf": 1.0})])
    t = tables.group_table(f, "fi", tables.SEED_FI_BY_GROUP)
    assert bool(t.loc["up", "trunk < branch < leaf"]) and not bool(t.loc["down", "trunk < branch < leaf"])
    assert t.loc["up", "trunk"] == pytest.approx(1.0, abs=0.01)
    assert t.loc["HRNet-W32 (seed)", "leaf"] == 1.978 and bool(t.loc["RLE (seed)", "trunk < branch < leaf"])


def test_easy_and_hard_are_the_lowest_and_highest_error_deciles():
    f = _frame(("a",), n=50)
    f["di"] = f["epe"] * 2  # DI grows with the error
    t = tables.easy_hard_table(f, {"a": "explicit heatmap"})
    lo, hi = f["epe"].quantile([0.1, 0.9])
    assert t.loc["a", "EPE easy"] == pytest.approx(f.loc[f["epe"] <= lo, "epe"].mean())
    assert t.loc["a", "DI hard - easy"] == pytest.approx(2 * (f.loc[f["epe"] >= hi, "epe"].mean()
                                                              - f.loc[f["epe"] <= lo, "epe"].mean()))
    assert t.loc["a", "cases per decile"] == 80


def test_inversion_table_counts_rates_and_cross_joint_li():
    gt = np.zeros((2, J, 2))
    gt[:, :, 0] = np.arange(J) * 10.0
    pred = gt.copy()
    lw, rw = MPII16.index("l_wrist"), MPII16.index("r_wrist")
    pred[1, lw] = gt[1, rw]
    cross = np.ones((2, J, J))
    cross[1, lw, rw], cross[1, lw, lw] = 7.0, 0.5
    t = tables.inversion_table({"m": {"pred": pred, "gt": gt, "annotated": np.ones((2, J), bool),
                                      "head": np.full(2, 8.0), "cross_li": cross}}, MPII16, 0.5)
    sym = t.loc[("m", "symmetric")]
    assert sym["inversions"] == 1 and sym["possible cases"] == 24 and sym["rate (%)"] == pytest.approx(100 / 24)
    assert sym["LI with the joint predicted at"] == 7.0 and sym["LI with own joint"] == 0.5
    assert t.loc[("m", "other"), "inversions"] == 0


def _control(fi_by_group, n=10):
    return _frame(("ideal map",), n=n, fi_by_group=fi_by_group)


def test_the_group_claim_is_judged_relative_to_the_ideal_map():
    """A model whose FI falls from trunk to leaf only as fast as a perfectly local map's does not use less of the
    person at the leaves: relative to the control its FI grows, and the verdict follows the control, not the raw
    means (which stay beside it)."""
    control = _control({"trunk": 2.0, "branch": 1.6, "leaf": 1.0})
    frame = pd.concat([_frame(("geometry",), fi_by_group={"trunk": 1.8, "branch": 1.5, "leaf": 1.0}),
                       _frame(("worse",), fi_by_group={"trunk": 1.8, "branch": 1.2, "leaf": 0.6})])
    t = tables.group_table(frame, "fi", tables.SEED_FI_BY_GROUP, control)
    assert not t.loc["geometry", tables.ORDER] and bool(t.loc["geometry", tables.CONTROLLED])
    assert not t.loc["worse", tables.ORDER] and not t.loc["worse", tables.CONTROLLED]
    assert t.loc["geometry", "leaf / ideal"] == pytest.approx(1.0, abs=0.01)
    assert t.loc["geometry", "trunk / ideal"] == pytest.approx(0.9, abs=0.01)
    assert t.loc["worse", "branch, ideal map"] == pytest.approx(1.6, abs=0.01)


def test_a_group_without_an_attributable_map_is_counted_not_a_crash():
    f = _frame(("a", "b"), n=4)
    f.loc[(f["model"] == "a") & (f["group"] == "trunk"), "fi"] = np.nan  # every trunk map of "a" without attribution
    t = tables.group_table(f, "fi", control=_control({"trunk": 1.0, "branch": 1.0, "leaf": 1.0}, n=4))
    assert np.isnan(t.loc["a", "trunk"]) and not bool(t.loc["a", tables.ORDER])
    assert t.loc["a", tables.MAPS].startswith("0 / ") and t.loc["b", tables.MAPS].split(" / ")[0] != "0"
