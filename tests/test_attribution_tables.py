"""Notebook 05's tables and verdicts (poselab.studies.poseig.tables) on hand-made inputs."""

import numpy as np
import pandas as pd
import pytest

from poselab.data.joints import MPII16
from poselab.findings import Finding, markdown
from poselab.findings import table as findings_table
from poselab.studies.poseig import tables
from poselab.studies.poseig.joints import joint_groups

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
    t = tables.perturbation_table(origin, attr, rand, ann, MPII16)
    assert list(t.index) == ["M_m", "M_ro", "M_ru", "M_rn"]
    assert t.loc["M_m", "wrist"] == pytest.approx(3.0) and t.loc["M_m", "knee"] == 0.0
    assert t.loc["M_ru", "all joints"] == pytest.approx(6 / J)
    ann[:, lw] = False  # an unannotated joint drops out of the ratio
    assert tables.perturbation_table(origin, attr, rand, ann, MPII16).loc["M_m", "wrist"] == pytest.approx(2.0)


def test_randomization_table_places_the_seed_at_the_same_fraction():
    t = tables.randomization_table([0, 8, 16, 24, 32, 40, 48], 48, list(range(7)), [1.0] * 7, [2.0] * 7, [0] * 7)
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


def test_findings_give_a_verdict_per_claim():
    t051 = pd.DataFrame({"wrist": [2.0, 3.0, 1.5, 2.5], "knee": [1.2, 2.0, 1.1, 1.3], "trunk": 1.0, "branch": 1.0,
                         "leaf": 1.0, "all joints": 1.5}, index=["M_m", "M_ro", "M_ru", "M_rn"])
    t052 = tables.randomization_table([0, 10, 20], 20, [20.0, 25.0, 30.0], [1.5, 1.2, 1.0], [2.0] * 3, [0] * 3)
    frame = pd.concat([_frame(("hg",), fi_by_group={"trunk": 1.0, "branch": 1.2, "leaf": 1.4}),
                       _frame(("int",), fi_by_group={"trunk": 1.4, "branch": 1.2, "leaf": 1.0})])
    frame.loc[frame["model"] == "int", "li"] *= 0.5
    fams = {"hg": "explicit heatmap", "int": "integral regression"}
    t053 = tables.group_table(frame)
    t054 = tables.easy_hard_table(frame, fams)
    base = pd.DataFrame({"white baseline": [1.5, 0.4], "black baseline": [0.3, 1.6], "blur path": [1.8, 1.9]},
                        index=pd.Index(["black", "white"], name="person"))
    base = base.reset_index().melt(id_vars="person", var_name="method", value_name="FI")  # as baseline_comparison
    seeds = pd.concat([_frame((f"hg-s{k}", f"int-s{k}"), seed=k) for k in (1, 2)])
    seeds.loc[seeds["model"].str.startswith("int"), "li"] *= 0.5
    t057 = tables.pair_table(pd.concat([frame, seeds]), [("hg", "int"), ("hg-s1", "int-s1"), ("hg-s2", "int-s2")])
    found = tables.findings(t051, t052, t053, t054, frame, fams, base, t057)
    assert all(isinstance(x, Finding) and x.source.startswith("He et al. 2023, suppl.") for x in found)
    f = findings_table(found).set_index("claim")
    verdict = f["verdict"]
    assert verdict.iloc[0] == "supports" and "1.10–3.00" in f["ours"].iloc[0]
    assert verdict.filter(like="DI rises").item() == "supports"
    assert verdict.filter(like="FI falls").item() == "supports"
    assert verdict.filter(like="FI grows").item() == "partly supports"  # 1 of 2 models
    assert verdict.filter(like="larger mean LI").item() == "supports"  # half the LI in every pair
    assert "over 3 seed pairs" in f["ours"].filter(like="larger mean LI").item()
    assert "hg-s2" in f["ours"].filter(like="larger mean LI").item()
    assert verdict.filter(like="easy-hard difference of DI").item() == "not resolved"  # random DI: no real gap
    assert verdict.filter(like="solid-colour").item() == "supports"
    assert "This **supports** the claim" in markdown(found)


def test_randomisation_verdict_needs_every_randomised_stage_beyond_the_trained_model():
    t051 = pd.DataFrame({"wrist": [2.0] * 4, "trunk": 1.0, "branch": 1.0, "leaf": 1.0, "all joints": 1.5},
                        index=["M_m", "M_ro", "M_ru", "M_rn"])
    frame = _frame(("hg",))
    fams = {"hg": "explicit heatmap"}
    t052 = tables.randomization_table([0, 5, 10, 20], 20, [20.0, 19.0, 25.0, 30.0], [1.5, 1.6, 1.2, 1.0], [2.0] * 4,
                                      [0] * 4)
    f = findings_table(tables.findings(t051, t052, tables.group_table(frame), tables.easy_hard_table(frame, fams),
                                       frame, fams)).set_index("claim")
    assert f["verdict"].filter(like="DI rises").item() == "partly supports"
    assert f["verdict"].filter(like="FI falls").item() == "partly supports"
    assert len(f.filter(like="LI grows", axis=0)) == 1


def test_pair_table_and_verdict_test_the_differences_over_the_seeds():
    frame = pd.concat([_frame((f"hg{k}", f"int{k}"), seed=k) for k in range(3)])
    pairs = [(f"hg{k}", f"int{k}") for k in range(3)]
    hard = frame["epe"] > frame.groupby("model")["epe"].transform(lambda e: e.quantile(0.9))
    frame.loc[hard & frame["model"].str.startswith("hg"), "di"] += 5.0  # the heatmap models' hard cases: +5 DI
    t057 = tables.pair_table(frame, pairs)
    assert list(t057.index) == [1, 2, 3] and list(t057["heatmap model"]) == ["hg0", "hg1", "hg2"]
    diff = t057["DI hard - easy, difference"]
    assert (diff > 3).all()
    heat, integ = t057["DI hard - easy, heatmap"], t057["DI hard - easy, integral"]
    assert diff.to_numpy() == pytest.approx((heat - integ).to_numpy())
    outcome, ours, test = tables.pair_verdict(t057, "DI hard - easy")
    assert outcome == "supports" and "paired t" in ours and "p < 0.05" in test
    flipped = t057.assign(**{"DI hard - easy, heatmap": integ, "DI hard - easy, integral": heat,
                             "DI hard - easy, difference": -diff})
    assert tables.pair_verdict(flipped, "DI hard - easy")[0] == "does not support"  # significantly the other way
    noisy = t057.copy()
    noisy["DI hard - easy, integral"] = noisy["DI hard - easy, heatmap"] + np.array([-1.0, 1.2, -0.9])
    noisy["DI hard - easy, difference"] = noisy["DI hard - easy, heatmap"] - noisy["DI hard - easy, integral"]
    assert tables.pair_verdict(noisy, "DI hard - easy")[0] == "not resolved"  # the sign varies with the seed
    one, ours, _ = tables.pair_verdict(t057.iloc[:1], "mean LI")
    first = t057["mean LI, difference"].iloc[0]
    assert one == ("supports" if first > 0 else "does not support") and "one pair: no seed spread" in ours


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
    ours, outcome = tables._along_the_chain(t[t["source"].str.startswith("ours")], 2)
    assert outcome == "partly supports" and "1 of 2 models" in ours
    assert "verdict on the raw means: does not support" in ours
    raw_ours, raw_outcome = tables._along_the_chain(tables.group_table(frame, "fi"), 2)
    assert raw_outcome == "does not support" and "ideal" not in raw_ours
