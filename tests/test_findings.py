"""Each study's findings: the verdicts and thresholds that notebooks print and the report's ledger lists."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from poselab import findings as fd
from poselab.reporting import registry as reg
from poselab.reporting.html import build_index
from poselab.studies.hourglass import tables as hg
from poselab.studies.hourglass.settings import HourglassStudy
from poselab.studies.hrnet import tables as hr
from poselab.studies.latent import tables as lt
from poselab.studies.lifting import tables as lifting_tables
from poselab.studies.skips import tables as skips
from poselab.studies.skips.experiment import SkipAblation


def test_a_finding_takes_only_the_known_verdicts():
    with pytest.raises(ValueError, match="verdict"):
        fd.Finding("c", "seed 0", "", "1", "reproduces", "t")
    assert fd.verdict(True) == fd.SUPPORTS and fd.verdict(False, True) == fd.PARTLY and fd.verdict(False) == fd.DOES_NOT
    text = fd.markdown([fd.Finding("More is better", "seed 9", "0.9", "0.8", fd.SUPPORTS, "p < 0.05")])
    assert "**More is better** seed 9: 0.9. Ours: 0.8. This **supports** the claim (test: p < 0.05)." in text


def _evaluation(pckh, per_sample=(1,)):
    return SimpleNamespace(pckh=pckh, per_sample=np.asarray(per_sample, float))


def _ablation(on, off, per_scale=(0.5,)):
    """A skip ablation whose finest skip is at 16x16, with one evaluation per switched-off scale."""
    return SkipAblation(on, off, {k: _evaluation(v) for k, v in enumerate(per_scale)},
                        [16 >> k for k in range(len(per_scale))])


def test_skip_findings_call_a_collapse_below_half_and_judge_small_joints_at_the_finest_skip():
    groups = pd.DataFrame({"drop": [0.6, 0.6], "drop, 16x16 skip off": [0.20, 0.05]},
                          index=["small joints", "other joints"])
    collapse, small, _ = skips.findings(_ablation(_evaluation(0.8, [1, 1]), _evaluation(0.3, [0, 1])), groups)
    assert collapse.verdict == fd.SUPPORTS and "50% of the samples lose every joint" in collapse.ours
    assert small.verdict == fd.SUPPORTS
    swapped = groups.assign(**{"drop, 16x16 skip off": [0.05, 0.20]})
    collapse, small, _ = skips.findings(_ablation(_evaluation(0.8), _evaluation(0.41)), swapped)
    assert collapse.verdict == fd.DOES_NOT and small.verdict == fd.DOES_NOT  # 0.41 > 0.4; 0.05 < 0.20
    partly = swapped.assign(drop=[0.7, 0.6])
    assert skips.findings(_ablation(_evaluation(0.8), _evaluation(0.41)), partly)[1].verdict == fd.PARTLY
    assert {f.source for f in skips.findings(_ablation(_evaluation(0.8), _evaluation(0.41)), partly)[:2]} == {
        "“Understanding the Model” (n.d.), §1.2"}


def test_the_stack_finding_maps_an_unresolved_verdict():
    study = HourglassStudy(stacks=(1, 2), seeds=(0, 1))
    seeds = pd.DataFrame({"PCKh@0.5 mean": [0.6, 0.62], "PCKh@0.5 std": [0.01, np.nan],
                          "PCK@0.2 (torso) mean": [0.5, 0.55], "PCKh@0.5 seed 0": [0.61, 0.63]},
                         index=["hourglass-1", "hourglass-2"])
    v = hg.StackVerdict(1, 2, 0.02, 1.0, 0.4, 0.05, fd.UNRESOLVED)
    (f,) = hg.findings(v, seeds, study)
    assert f.verdict == fd.UNRESOLVED and "0.620 ± 0.000 (hourglass-2)" in f.ours and "p < 0.05" in f.test
    assert f.note.startswith("Mean gain +0.020, Welch's t = 1.00, p = 0.400 over the seeds.")  # not the verdict again


def _clusters(k, ami):
    sweep = SimpleNamespace(best_k=k, table=pd.DataFrame({"best": [0.30, 0.25, 0.28]}, index=[2, 3, 4]))
    meaning = pd.DataFrame({"fully annotated": [0.9, 0.2], "action: walking": [0.5, 0.1],
                            "action: sitting": [0.5, 0.9]})
    ami = {"number of annotated joints": 0.05, "completeness (fully annotated or not)": 0.0, "action": 0.0,
           "dynamic vs stationary action": 0.0, **ami}
    return SimpleNamespace(sweep=sweep, meaning=meaning, ami=pd.Series(ami))


def test_latent_findings_use_the_ami_threshold_and_k_equal_two():
    rand = _clusters(2, {"completeness (fully annotated or not)": lt.AMI_VISIBLE})
    full = _clusters(3, {"action": 0.02, "dynamic vs stationary action": 0.09})
    k, completeness, motion = lt.findings(rand, full, 0.37)
    assert k.verdict == fd.PARTLY and completeness.verdict == fd.SUPPORTS and motion.verdict == fd.DOES_NOT


def test_hrnet_finding_supports_only_without_a_significant_difference():
    summary = pd.DataFrame({"mean PCKh@0.5": [0.5, 0.49], "std over seeds": [0.01, 0.02], "seeds finished": [3, 2],
                            "seeds diverged": [0, 1]}, index=["as designed", "no batchnorm"])
    calm = pd.DataFrame({"difference to as designed": [-0.01], "p-value": [0.3]}, index=["no batchnorm"])
    assert hr.findings(summary, calm)[0].verdict == fd.SUPPORTS
    sharp = calm.assign(**{"p-value": [0.01]})
    (f,) = hr.findings(summary, sharp)
    assert f.verdict == fd.DOES_NOT and "no batchnorm -0.010" in f.ours


def test_lifting_findings_compare_bh_with_zv_and_the_ratio_with_the_thesis():
    bh, ratio = lifting_tables.findings(zv=70.0, bh=68.0, supervised=46.0, hypotheses=10)
    assert bh.verdict == fd.SUPPORTS and ratio.verdict == fd.DOES_NOT  # 1.52x > the thesis's 52.74 / 37.1 = 1.42x
    assert lifting_tables.findings(50.0, 51.0, 40.0, 10)[0].verdict == fd.DOES_NOT


def test_findings_reach_the_ledger_through_the_stage(tmp_path):
    report, stage = tmp_path / "reports", tmp_path / "stage"
    r = reg.Registry("06", stage, "smoke", "cpu", 0)
    r.findings([{"claim": "ablations barely matter", "source": "Henderson and Houser 2023", "published": "0.70",
                 "ours": "0.5 ± 0.01", "verdict": fd.SUPPORTS, "test": "Welch p >= 0.05"}])
    r.findings([{"claim": "ablations barely matter", "source": "Henderson and Houser 2023", "published": "0.70",
                 "ours": "0.5 ± 0.02", "verdict": fd.DOES_NOT, "test": "Welch p >= 0.05"}])
    index = reg.merge_stage(stage, report, "06")
    assert [f["ours"] for f in index["findings"]] == ["0.5 ± 0.02"]  # recorded again: replaced, not appended
    page = build_index(report).read_text()
    assert page.index("<h2>Findings</h2>") < page.index("<h2>Run</h2>")
    assert "ablations barely matter" in page and "1 does not support" in page


def test_skip_findings_add_the_scale_finding_and_the_headlines():
    groups = pd.DataFrame({"drop": [0.6, 0.5], "drop, 16x16 skip off": [0.20, 0.05]},
                          index=["small joints", "other joints"])
    on, off = _evaluation(0.8, [1, 1]), _evaluation(0.3, [0, 1])
    *_, scale = skips.findings(_ablation(on, off, (0.4, 0.7, 0.75)), groups)
    assert scale.verdict == fd.SUPPORTS and "16x16 0.400, 8x8 0.700" in scale.ours
    *_, scale = skips.findings(_ablation(on, off, (0.7, 0.4)), groups)
    assert scale.verdict == fd.DOES_NOT
    heads = {name: value for name, value, _, _ in skips.headline_numbers(_ablation(on, off), groups)}
    assert heads["PCKh drop, small joints, finest skip off"] == 0.20 and heads["training PCKh@0.5, skips off"] == 0.3


def test_latent_notes_name_the_runner_up_k_and_the_cluster_shares():
    rand = _clusters(2, {"completeness (fully annotated or not)": 0.2})
    k, completeness, motion = lt.findings(rand, rand, 0.4)
    assert "runner-up K = 4" in k.note and "90%, 20%" in completeness.note
    assert "dynamic actions per cluster: 50%, 10%" in motion.note  # walking is dynamic, sitting is not
    assert [h[0] for h in lt.headline_numbers(rand, rand, 0.4)][-1] == "PCA variance explained (2 components)"


def test_hrnet_notes_count_diverged_runs_and_headlines_carry_the_spread():
    summary = pd.DataFrame({"mean PCKh@0.5": [0.5, 0.2], "std over seeds": [0.01, 0.02], "seeds finished": [3, 2],
                            "seeds diverged": [0, 1]}, index=["as designed", "no batchnorm + identity"])
    comparison = pd.DataFrame({"difference to as designed": [-0.3], "p-value": [0.001]},
                              index=["no batchnorm + identity"])
    (f,) = hr.findings(summary, comparison)
    assert "1 run(s) diverged" in f.note and "significant at p < 0.05: no batchnorm + identity" in f.note
    assert "linear in its input" in f.note
    assert hr.headline_numbers(summary)[1] == ("HRNet no batchnorm + identity: final PCKh@0.5", 0.2, "",
                                               "± 0.020 over 2 seeds")


def test_lifting_notes_read_the_alignment_gap_and_the_training_trend():
    _, ratio = lifting_tables.findings(70.0, 68.0, 46.0, 10, {"vae-gan": 100.0, "supervised": 50.0})
    assert "global rotation and scale" in ratio.note  # 30 mm more aligned vs 4 mm: above GLOBAL_SHARE
    _, ratio = lifting_tables.findings(70.0, 68.0, 46.0, 10, {"vae-gan": 75.0, "supervised": 50.0})
    assert "alignment helps both models alike" in ratio.note
    falling = "still falling (2.0 mm over its last 2 epochs in F07.4d)"
    assert lifting_tables.training_trend(np.array([9.0, 8.0, 7.0])) == falling
    assert lifting_tables.training_trend(np.array([7.0, 8.0])) == "flat"
    assert lifting_tables.headline_numbers(70.0, 68.0, 46.0, 10, "synthetic")[3][1] == 1.52


def test_the_paired_test_over_seeds_equals_scipys_and_needs_two_pairs():
    from scipy import stats

    from poselab.evaluation.stats import paired

    a, b = np.array([0.61, 0.64, 0.60]), np.array([0.58, 0.60, 0.59])
    mean, t, p = paired(a, b)
    ref = stats.ttest_rel(a, b)
    assert mean == pytest.approx(0.08 / 3) and t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    mean, t, p = paired(a[:1], b[:1])
    assert mean == pytest.approx(0.03) and np.isnan(t) and np.isnan(p)


def test_the_lifting_per_joint_finding_compares_the_limb_ends_with_the_inner_joints():
    joints = [*lifting_tables.INNER_JOINTS, *lifting_tables.LIMB_ENDS]
    per_joint = pd.DataFrame({"vae-gan ZV, ours": [50.0] * 5 + [80.0] * 4,
                              "supervised ZV, ours": [40.0] * 5 + [44.0] * 4,
                              lifting_tables.THESIS_JOINT_COLUMN: [40.0] * 5 + [70.0] * 4}, index=joints)
    *_, grows = lifting_tables.findings(70.0, 68.0, 46.0, 10, per_joint=per_joint)
    assert grows.verdict == fd.SUPPORTS and "limb ends 1.60x" in grows.ours and "(supervised VAE 1.10x)" in grows.ours
    assert "limb ends 1.75x" in grows.published and grows.source == "Budaraju 2020, Table 4.1.2"
    flat = per_joint.assign(**{"vae-gan ZV, ours": [60.0] * 9})
    assert lifting_tables.findings(70.0, 68.0, 46.0, 10, per_joint=flat)[-1].verdict == fd.DOES_NOT
    assert len(lifting_tables.findings(70.0, 68.0, 46.0, 10)) == 2  # without T07.3, no per-joint finding


def test_every_study_cites_its_source_by_author_and_year():
    from poselab.references import REFERENCES

    shorts = tuple(r.short for r in REFERENCES.values())
    study = HourglassStudy(stacks=(1, 2), seeds=(0, 1))
    seeds = pd.DataFrame({"PCKh@0.5 mean": [0.6, 0.62], "PCKh@0.5 std": [0.01, 0.01],
                          "PCK@0.2 (torso) mean": [0.5, 0.55], "PCKh@0.5 seed 0": [0.61, 0.63]},
                         index=["hourglass-1", "hourglass-2"])
    found = [*hg.findings(hg.StackVerdict(1, 2, 0.02, 1.0, 0.4, 0.05, fd.UNRESOLVED), seeds, study),
             *lifting_tables.findings(70.0, 68.0, 46.0, 10)]
    assert all(f.source.startswith(shorts) for f in found)
