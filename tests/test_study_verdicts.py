"""The verdicts of notebooks 02, 06 and 07, each decided by a stated test with its interval: the intervals against
SciPy computed directly, every verdict word on hand-made inputs, and near-ties that must come out "not resolved"."""

import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from poselab import findings as fd
from poselab.evaluation.stats import cluster_interval, equivalence_interval
from poselab.references import REFERENCES
from poselab.studies.hourglass import tables as hg
from poselab.studies.hourglass.settings import HourglassStudy
from poselab.studies.hrnet import tables as hr
from poselab.studies.hrnet.experiment import Run
from poselab.studies.lifting import experiment as lifting
from poselab.studies.lifting import tables as lt
from poselab.studies.lifting.data import NON_ROOT, THESIS_NAMES
from poselab.studies.lifting.metrics import LiftingEvaluation, sample_hypotheses

INTERVAL = re.compile(r"\[[-+]?\d+\.\d+, [-+]?\d+\.\d+\]")  # "[low, high]" in a finding's ``ours``


def _has_interval(f: fd.Finding) -> bool:
    return bool(INTERVAL.search(f.ours))


# --- the intervals, against SciPy ---------------------------------------------------------------------------------

A = np.array([0.61, 0.64, 0.60, 0.66])
B = np.array([0.58, 0.60, 0.59])


def test_the_equivalence_interval_is_scipys_90_percent_welch_interval():
    iv = equivalence_interval(A, B)
    ci = stats.ttest_ind(A, B, equal_var=False).confidence_interval(0.90)
    assert (iv.estimate, iv.low, iv.high) == pytest.approx((A.mean() - B.mean(), ci.low, ci.high))
    assert "Welch" in iv.method and "90%" in iv.method
    # the same bounds from the Welch-Satterthwaite formula
    va, vb = A.var(ddof=1) / len(A), B.var(ddof=1) / len(B)
    dof = (va + vb) ** 2 / (va**2 / (len(A) - 1) + vb**2 / (len(B) - 1))
    half = stats.t.ppf(0.95, dof) * np.sqrt(va + vb)
    assert (iv.low, iv.high) == pytest.approx((iv.estimate - half, iv.estimate + half))
    assert np.isnan(equivalence_interval(A, B[:1]).low)  # one run: no spread, no interval


@pytest.mark.parametrize("margin", [0.02, 0.05, 0.08])
def test_the_90_percent_interval_within_the_margin_is_tost_at_5_percent(margin):
    """Two one-sided Welch tests at 5 % reject both "difference <= -m" and "difference >= m" exactly when the 90 %
    interval lies within (-m, m)."""
    iv = equivalence_interval(A, B)
    lower = stats.ttest_ind(A + margin, B, equal_var=False, alternative="greater").pvalue
    upper = stats.ttest_ind(A - margin, B, equal_var=False, alternative="less").pvalue
    assert (max(lower, upper) < 0.05) == (-margin < iv.low and iv.high < margin)


def test_the_cluster_interval_resamples_whole_clusters_as_scipys_paired_bootstrap():
    rng = np.random.default_rng(1)
    clusters = np.repeat(np.arange(9), rng.integers(2, 7, 9))
    values, per = rng.normal(3, 1, len(clusters)) + clusters, rng.uniform(1, 2, len(clusters))
    sums, counts, pers = (np.bincount(clusters, weights=w) for w in (values, None, per))

    def scipy_interval(top, bottom):
        res = stats.bootstrap((top, bottom), lambda t, b: t.sum() / b.sum(), paired=True, vectorized=False,
                              method="percentile", n_resamples=2000, random_state=np.random.default_rng(4))
        return res.confidence_interval

    mean = cluster_interval(values, clusters, what="sequences", seed=4)
    assert mean.estimate == pytest.approx(values.mean())  # every pose once: the plain mean
    ci = scipy_interval(sums, counts)
    assert (mean.low, mean.high) == pytest.approx((ci.low, ci.high))
    ratio = cluster_interval(values, clusters, per, "sequences", seed=4)
    assert ratio.estimate == pytest.approx(values.mean() / per.mean())
    ci = scipy_interval(sums, pers)
    assert (ratio.low, ratio.high) == pytest.approx((ci.low, ci.high))
    assert ratio.method == "bootstrap over 9 sequences, 2000 resamples"


def test_a_tie_tolerance_leaves_a_near_tie_unresolved():
    iv = fd.Interval(0.5, 0.0004, 0.02, "t")
    assert fd.decide(iv) == fd.SUPPORTS and fd.decide(iv, tie=0.001) == fd.UNRESOLVED
    assert fd.decide(iv, tie=0.0001) == fd.SUPPORTS


# --- notebook 02: more stacks ----------------------------------------------------------------------------------

STUDY = HourglassStudy(stacks=(1, 2), seeds=(0, 1, 2), main_stacks=2)


def _runs(few, many, torso=(0.5, 0.6)):
    """(stacks, seed) -> an evaluation with the given PCKh@0.5 for 1 and 2 stacks."""
    return {(s, seed): SimpleNamespace(pckh=v, pck=t) for s, values, t in ((1, few, torso[0]), (2, many, torso[1]))
            for seed, v in enumerate(values)}


def test_the_stack_verdict_is_welchs_95_percent_interval_of_the_gain():
    few, many = [0.70, 0.71, 0.72], [0.80, 0.81, 0.79]
    v = hg.stack_verdict(_runs(few, many), STUDY)
    ci = stats.ttest_ind(many, few, equal_var=False).confidence_interval(0.95)
    assert v.verdict == fd.SUPPORTS and v.gain == pytest.approx(0.09)
    assert (v.interval.low, v.interval.high) == pytest.approx((ci.low, ci.high))
    assert v.p == pytest.approx(stats.ttest_ind(many, few, equal_var=False).pvalue)
    assert hg.stack_verdict(_runs(many, few), STUDY).verdict == fd.DOES_NOT
    # the same mean gain, but the seeds scatter more than the gap: not resolved
    assert hg.stack_verdict(_runs([0.60, 0.80, 0.73], [0.75, 0.70, 0.95]), STUDY).verdict == fd.UNRESOLVED
    one = hg.stack_verdict({(1, 0): SimpleNamespace(pckh=0.7, pck=0.5), (2, 0): SimpleNamespace(pckh=0.8, pck=0.5)},
                           replace(STUDY, seeds=(0,)))
    assert one.verdict == fd.UNRESOLVED and "one run per variant" in one.sentence  # no spread, no interval
    f = hg.stack_finding(one, replace(STUDY, seeds=(0,)))
    assert "+0.100 [no interval: 1 vs 1 seeds" in f.ours and f.resolve == "more seeds per stack count"


def test_a_stack_gain_whose_interval_ends_at_rounding_distance_from_zero_is_not_resolved():
    few, many = np.array([0.70, 0.71, 0.72]), np.array([0.80, 0.81, 0.79])
    low = hg.stack_verdict(_runs(few, many), STUDY).interval.low
    tie = hg.stack_verdict(_runs(few, many - low + hg.TIE / 2), STUDY)  # the interval shifted to end TIE / 2 above 0
    assert tie.interval.low == pytest.approx(hg.TIE / 2)
    assert fd.decide(tie.interval) == fd.SUPPORTS and tie.verdict == fd.UNRESOLVED


def test_the_stack_finding_states_the_interval_and_the_test():
    ev = _runs([0.70, 0.71, 0.72], [0.80, 0.81, 0.79])
    f = hg.stack_finding(hg.stack_verdict(ev, STUDY), STUDY, "synthetic", dissected=0.8)
    assert f.verdict == fd.SUPPORTS and _has_interval(f) and "0.800 ± 0.010 (hourglass-2)" in f.ours
    assert "Welch's 95 % interval" in f.test and "against 0" in f.test and f.resolve == "more seeds per stack count"
    assert "Torso PCK@0.2 0.600 vs 0.500" in f.note and "reaches PCKh@0.5 0.800" in f.note
    unresolved = hg.stack_finding(hg.stack_verdict(_runs([0.6, 0.8, 0.73], [0.75, 0.7, 0.95]), STUDY), STUDY)
    assert unresolved.verdict == fd.UNRESOLVED and "not resolve" in fd.markdown([unresolved])


def test_t023_and_the_headlines_read_the_named_columns():
    ev = _runs([0.70, 0.71, 0.72], [0.80, 0.81, 0.79])
    t = hg.seed_table(ev, STUDY)
    assert t.loc["hourglass-2", hg.PCKH_MEAN] == pytest.approx(0.80) and t.loc["hourglass-1", hg.seed_column(2)] == 0.72
    assert t.loc["hourglass-2", hg.PCKH_STD] == pytest.approx(np.std([0.80, 0.81, 0.79], ddof=1))
    assert {hg.SEEDS, hg.TORSO_MEAN, hg.TORSO_STD, "PCKh@0.5 seed 0"} <= set(t.columns)  # the seeds' names kept
    heads = hg.headline_numbers(t, hg.stack_verdict(ev, STUDY), STUDY, "synthetic")
    assert heads[1][1] == pytest.approx(0.80) and heads[1][3] == "std 0.010"
    assert heads[-1][0] == "PCKh@0.5 gain, 2 vs 1 stacks" and heads[-1][3].endswith(": supports")


# --- notebook 06: the ablations barely matter -------------------------------------------------------------------


def _hrnet_runs(**final):
    """Runs of each experiment with the given final PCKh per seed (None: the seed diverged)."""
    return [Run(e, seed, None, None, None if v is None else SimpleNamespace(pckh=v))
            for e, values in final.items() for seed, v in enumerate(values)]


DESIGNED = [0.50, 0.51, 0.49, 0.50]


def test_each_ablation_is_decided_by_its_90_percent_interval_against_the_margin():
    runs = _hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": [0.51, 0.50, 0.49, 0.52]})
    (gap,) = hr.gaps(runs)
    ci = stats.ttest_ind([0.51, 0.50, 0.49, 0.52], DESIGNED, equal_var=False).confidence_interval(0.90)
    assert (gap.interval.low, gap.interval.high) == pytest.approx((ci.low, ci.high))
    assert gap.p == pytest.approx(stats.ttest_ind([0.51, 0.50, 0.49, 0.52], DESIGNED, equal_var=False).pvalue)
    assert hr.equivalent(gap) == fd.SUPPORTS and hr.equivalence_verdict([gap]) == fd.SUPPORTS
    far = hr.gaps(_hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": [0.30, 0.31, 0.29, 0.30]}))
    assert hr.equivalent(far[0]) == fd.DOES_NOT  # surely more than 8 points lower
    wide = hr.gaps(_hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": [0.30, 0.60, 0.45]}))
    assert hr.equivalent(wide[0]) == fd.UNRESOLVED  # the interval crosses the margin
    single = hr.gaps(_hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": [0.5, None]}))
    assert hr.equivalent(single[0]) == fd.UNRESOLVED  # one finished seed: no interval


def test_an_insignificant_difference_is_not_evidence_of_equivalence():
    """Welch's test finds no difference (p > 0.05), but the interval is wider than the margin: not resolved, where
    the old rule ("no significant difference") would have said "supports"."""
    runs = _hrnet_runs(**{"as designed": [0.40, 0.60, 0.50], "no batchnorm": [0.35, 0.62, 0.45]})
    (gap,) = hr.gaps(runs)
    assert gap.p > 0.05 and hr.equivalence_verdict([gap]) == fd.UNRESOLVED


def test_an_interval_at_rounding_distance_inside_the_margin_is_a_tie():
    ablation = np.array([0.51, 0.50, 0.49, 0.52])
    (gap,) = hr.gaps(_hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": list(ablation)}))
    shift = hr.MARGIN - hr.TIE / 2 - gap.interval.high  # the high bound TIE / 2 inside the margin
    (tie,) = hr.gaps(_hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": list(ablation + shift)}))
    assert tie.interval.high == pytest.approx(hr.MARGIN - hr.TIE / 2)
    assert fd.decide(tie.interval, hr.MARGIN, above=False) == fd.SUPPORTS and hr.equivalent(tie) == fd.UNRESOLVED


def test_the_ablation_finding_needs_every_ablation_equivalent():
    close, far, wide = [0.51, 0.50, 0.49, 0.52], [0.30, 0.31, 0.29, 0.30], [0.30, 0.60, 0.45]
    f = hr.ablation_finding(_hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": close,
                                           "no batchnorm + identity": close}))
    assert f.verdict == fd.SUPPORTS and _has_interval(f) and "as designed 0.500 ± 0.008" in f.ours
    assert "90 % interval" in f.test and "±0.08 PCKh" in f.test and "two one-sided Welch tests" in f.test
    assert "linear in its input" in f.note and "No run diverged" in f.note
    against = hr.ablation_finding(_hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": close,
                                                 "no batchnorm + identity": far}))
    assert against.verdict == fd.DOES_NOT and "no batchnorm + identity -0.200 [" in against.ours
    assert "finds a difference at p < 0.05: no batchnorm + identity" in against.note
    open_ = hr.ablation_finding(_hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": [*wide, None]}))
    assert open_.verdict == fd.UNRESOLVED and open_.resolve == "more seeds per experiment"
    assert "1 run(s) diverged" in open_.note
    alone = hr.ablation_finding(_hrnet_runs(**{"as designed": DESIGNED}))
    assert alone.verdict == fd.UNRESOLVED and "no ablation run" in alone.ours


def test_the_equivalence_table_and_the_headlines_read_the_named_columns():
    runs = _hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": [0.30, 0.31, 0.29, None]})
    t = hr.compare(runs)
    row = t.loc["no batchnorm"]
    assert row[hr.DIFFERENCE] == pytest.approx(0.30 - 0.50) and row[hr.LOW] < row[hr.DIFFERENCE] < row[hr.HIGH]
    assert row[hr.SEEDS] == "3 vs 4" and row[hr.EQUIVALENCE_MARGIN] == "±0.08" and row[hr.VERDICT] == fd.DOES_NOT
    assert row[hr.P_VALUE] == pytest.approx(stats.ttest_ind([0.30, 0.31, 0.29], DESIGNED, equal_var=False).pvalue)
    summary = pd.DataFrame({hr.MEAN: [0.5, 0.2], hr.STD: [0.01, 0.02], hr.FINISHED: [3, 2]},
                           index=["as designed", "no batchnorm + identity"])
    assert hr.headline_numbers(summary)[1] == ("HRNet no batchnorm + identity: final PCKh@0.5", 0.2, "",
                                               "± 0.020 over 2 seeds")


# --- notebook 07: lifting ---------------------------------------------------------------------------------------

SEQUENCES = np.repeat(np.arange(12), 8)  # 12 test sequences of 8 poses


def _errors(level: float, spread: float, seed: int, ends: float = 1.0) -> np.ndarray:
    """Per-joint errors (N, 17), mm: a level per sequence (the poses of a sequence alike) and per pose; the limb
    ends ``ends`` times the other joints."""
    rng = np.random.default_rng(seed)
    per_sequence = rng.normal(0, spread, SEQUENCES.max() + 1)[SEQUENCES]
    e = level + per_sequence[:, None] + rng.normal(0, 1, (len(SEQUENCES), 17))
    e[:, NON_ROOT[[THESIS_NAMES.index(j) for j in lt.LIMB_ENDS]]] *= ends
    return np.abs(e)


def _evaluation(zv: np.ndarray, bh: np.ndarray | None = None, name: str = "vae-gan") -> LiftingEvaluation:
    n = len(zv)
    return LiftingEvaluation(name, zv, zv + 10.0, bh, np.zeros((n, 17, 3)), np.zeros((n, 17, 3)))


def test_the_test_sequences_are_a_subjects_take_over_every_camera():
    test = SimpleNamespace(subject=np.array(["S9", "S9", "S11", "S9", "S11"]),
                           take=np.array(["Walking 1", "Walking 1", "Walking 1", "Sitting 1", "Walking 1"]))
    ids = lifting.sequences(test)
    assert ids.shape == (5,) and len(set(ids)) == 3
    assert ids[0] == ids[1] and ids[2] == ids[4] and len({ids[0], ids[2], ids[3]}) == 3


def test_bh_against_zv_is_the_bootstrap_interval_of_their_difference_over_sequences():
    zv = _errors(50.0, 5.0, 0)
    better = _evaluation(zv, zv - 2.0 + np.random.default_rng(1).normal(0, 0.3, zv.shape))
    f = lt.bh_finding(better, SEQUENCES, 10)
    d = zv.mean(1) - better.bh_p_mpjpe.mean(1)
    expected = cluster_interval(d, SEQUENCES, what="test sequences")
    res = stats.bootstrap((np.bincount(SEQUENCES, weights=d), np.bincount(SEQUENCES)), lambda s, c: s.sum() / c.sum(),
                          paired=True, vectorized=False, method="percentile", n_resamples=2000,
                          random_state=np.random.default_rng(0))
    assert (expected.low, expected.high) == pytest.approx(tuple(res.confidence_interval))
    assert f.verdict == fd.SUPPORTS and f"ZV - BH {expected.text('{:+.1f}')} mm" in f.ours and _has_interval(f)
    assert "bootstrap over 12 test sequences" in f.test and "above 0" in f.test
    assert "ZV is not among BH's hypotheses" in f.note and "on 100% of the test poses" in f.note
    worse = _evaluation(zv, zv + 3.0)
    assert lt.bh_finding(worse, SEQUENCES, 10).verdict == fd.DOES_NOT
    mixed = _evaluation(zv, zv + np.random.default_rng(2).normal(0, 3.0, 12)[SEQUENCES][:, None])
    assert lt.bh_finding(mixed, SEQUENCES, 10).verdict == fd.UNRESOLVED


def test_a_bh_gain_at_rounding_distance_from_zero_is_not_resolved():
    zv = _errors(50.0, 5.0, 0)
    bh = zv - 2.0 + np.random.default_rng(1).normal(0, 0.3, zv.shape)
    low = lt.bh_finding(_evaluation(zv, bh), SEQUENCES, 10)
    gap = cluster_interval(zv.mean(1) - bh.mean(1), SEQUENCES, what="test sequences")
    tie = _evaluation(zv, bh + gap.low - lt.TIE_MM / 2)  # the interval shifted to end TIE_MM / 2 above 0
    shifted = cluster_interval(zv.mean(1) - tie.bh_p_mpjpe.mean(1), SEQUENCES, what="test sequences")
    assert low.verdict == fd.SUPPORTS and shifted.low == pytest.approx(lt.TIE_MM / 2)
    assert fd.decide(shifted) == fd.SUPPORTS and lt.bh_finding(tie, SEQUENCES, 10).verdict == fd.UNRESOLVED
    f = lt.bh_finding(tie, SEQUENCES, 10)
    assert f.resolve == "more test sequences, or Human3.6M" and "What would resolve it" in fd.markdown([f])


def test_the_ratio_to_supervised_is_judged_against_the_thesis_factor():
    assert lt.thesis_factor() == pytest.approx(52.74 / 37.1)
    sup = _evaluation(_errors(40.0, 4.0, 3), name="supervised")
    near = _evaluation(sup.p_mpjpe * 1.1)
    f = lt.ratio_finding(near, sup, SEQUENCES)
    assert f.verdict == fd.SUPPORTS and "= 1.10 [1.10, 1.10]x" in f.ours and "below the thesis's 1.42x" in f.test
    assert "alignment helps both models alike" in f.note  # both 10 mm worse without alignment
    assert lt.ratio_finding(_evaluation(sup.p_mpjpe * 2.0), sup, SEQUENCES).verdict == fd.DOES_NOT
    scatter = np.random.default_rng(5).uniform(1.0, 1.9, 12)[SEQUENCES][:, None]
    around = _evaluation(sup.p_mpjpe * scatter)
    f = lt.ratio_finding(around, sup, SEQUENCES)
    assert f.verdict == fd.UNRESOLVED and _has_interval(f)
    ratio = cluster_interval(around.p_mpjpe.mean(1), SEQUENCES, sup.p_mpjpe.mean(1), "test sequences")
    assert ratio.low < lt.thesis_factor() < ratio.high
    # the interval scaled to end TIE_RATIO / 2 under the factor: a tie
    tie = _evaluation(around.p_mpjpe * (lt.thesis_factor() - lt.TIE_RATIO / 2) / ratio.high)
    assert lt.ratio_finding(tie, sup, SEQUENCES).verdict == fd.UNRESOLVED


def test_the_limb_end_ratio_is_judged_against_one():
    sup = _evaluation(_errors(40.0, 4.0, 3), name="supervised")
    grows = _evaluation(_errors(40.0, 4.0, 6, ends=2.0))
    f = lt.limb_end_finding(grows, sup, SEQUENCES)
    joints = grows.p_mpjpe[:, NON_ROOT]
    assert lt.limb_end_ratio(joints) == pytest.approx(lt.limb_end_ratio(joints.mean(0)))
    expected = cluster_interval(joints[:, [THESIS_NAMES.index(j) for j in lt.LIMB_ENDS]].mean(1), SEQUENCES,
                                joints[:, [THESIS_NAMES.index(j) for j in lt.INNER_JOINTS]].mean(1), "test sequences")
    assert f.verdict == fd.SUPPORTS and f"limb ends {expected.text('{:.2f}')}x" in f.ours and _has_interval(f)
    # Table 4.1.2: (81.97 + 92.82 + 80.05 + 80.84) / 4 over (58.01 + 52.45 + 44.78 + 25.43 + 33.39) / 5 = 1.96
    assert "limb ends 1.96x" in f.published and "hardest joint L_Ankle (92.82 mm)" in f.published
    assert f.claim == "The error grows from the inner joints to the limb ends" and "above 1" in f.test
    assert lt.limb_end_finding(_evaluation(_errors(40.0, 4.0, 6, ends=0.5)), sup, SEQUENCES).verdict == fd.DOES_NOT
    scatter = np.ones((len(SEQUENCES), 17))
    scatter[:, NON_ROOT[[THESIS_NAMES.index(j) for j in lt.LIMB_ENDS]]] = np.random.default_rng(7).uniform(
        0.6, 1.4, 12)[SEQUENCES][:, None]
    assert lt.limb_end_finding(_evaluation(_errors(40.0, 0.0, 6) * scatter), sup, SEQUENCES).verdict == fd.UNRESOLVED


def test_bh_hypotheses_never_include_the_latent_mean():
    """Why BH <= ZV does not hold by construction (the note of ``bh_finding``): every hypothesis is drawn."""
    mu, logvar = np.zeros((5, 4), np.float32), np.full((5, 4), -2.0, np.float32)
    z = sample_hypotheses(mu, logvar, 10)
    assert z.shape == (10, 5, 4) and not (z == mu).all(axis=-1).any()


def test_the_lifting_tables_and_headlines_read_the_named_columns():
    zv = _errors(50.0, 5.0, 0)
    evals = {lifting.VAE_GAN: _evaluation(zv, zv - 1.0), lifting.SUPERVISED: _evaluation(zv / 2, None, "supervised")}
    t = lt.per_joint_table(evals)
    assert t.loc["R_Ankle", lt.zv_column(lifting.VAE_GAN)] == pytest.approx(zv[:, NON_ROOT[2]].mean())
    assert t.loc["R_Ankle", lt.THESIS_JOINT_COLUMN] == 81.97
    r = lt.results_table(evals)
    assert r.loc["VAE-GAN BH, 10 hypotheses (unsupervised)", lt.OURS_P_MPJPE] == pytest.approx(zv.mean() - 1.0)
    assert np.isnan(r.loc["supervised VAE BH, 10 hypotheses", lt.OURS_P_MPJPE])
    assert lt.headline_numbers(70.0, 68.0, 46.0, 10, "synthetic")[3][1] == 1.52
    falling = "still falling (2.0 mm over its last 2 epochs in F07.4d)"
    assert lt.training_trend(np.array([9.0, 8.0, 7.0])) == falling
    assert lt.training_trend(np.array([7.0, 8.0])) == "flat"


def test_the_unaligned_error_reading_of_the_ratio_note():
    zv = _errors(50.0, 5.0, 0)
    sup = _evaluation(zv / 2, name="supervised")
    gan = replace(_evaluation(zv), mpjpe=zv + 40.0)  # alignment removes 40 mm of the VAE-GAN's error, 10 of the other
    assert "global rotation and scale" in lt.ratio_finding(gan, sup, SEQUENCES).note


# --- every finding of the three notebooks ---------------------------------------------------------------------


def test_every_quantitative_finding_states_its_interval_and_cites_its_source():
    zv = _errors(50.0, 5.0, 0)
    gan, sup = _evaluation(zv, zv - 1.0), _evaluation(zv / 2, zv / 2 - 1.0, "supervised")
    found = [hg.stack_finding(hg.stack_verdict(_runs([0.70, 0.71, 0.72], [0.80, 0.81, 0.79]), STUDY), STUDY),
             hr.ablation_finding(_hrnet_runs(**{"as designed": DESIGNED, "no batchnorm": [0.5, 0.49, 0.51]})),
             lt.bh_finding(gan, SEQUENCES, 10), lt.ratio_finding(gan, sup, SEQUENCES),
             lt.limb_end_finding(gan, sup, SEQUENCES)]
    shorts = tuple(r.short for r in REFERENCES.values())
    assert all(_has_interval(f) for f in found)
    assert all(f.source.startswith(shorts) for f in found)
    assert all("95 %" in f.test or "90 %" in f.test for f in found)
