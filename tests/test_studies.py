"""The notebooks' study layer on tiny data: subsets, training, divergence reporting, comparisons."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from conftest import tiny_place
from poselab.data.joints import MPII16
from poselab.data.pose2d import pose_data
from poselab.evaluation import pck as evaluation
from poselab.evaluation import tables as accuracy
from poselab.findings import markdown
from poselab.profiles import PROFILES
from poselab.studies.hourglass import experiment as hg
from poselab.studies.hourglass import tables as hg_tables
from poselab.studies.hrnet import experiment as hr
from poselab.studies.hrnet import tables as hr_tables
from poselab.studies.skips import tables as skip_tables
from poselab.training import jobs
from poselab.training.loop import TrainConfig, train
from poselab.training.runs import RunMissing

SMOKE = PROFILES["smoke"]


@pytest.fixture
def ctx(tiny_sets, tmp_path):
    return tiny_place(tiny_sets, tmp_path)


def test_pose_data_subsets_are_fixed_by_the_seed(ctx):
    a = pose_data(jobs.data_choice(ctx, False), "mpii16", 32, train_samples=10, val_samples=4)
    b = pose_data(jobs.data_choice(ctx, False), "mpii16", 32, train_samples=10, val_samples=4)
    assert len(a.train_set) == 10 and len(a.val_set) == 4 and a.name == "synthetic"
    np.testing.assert_array_equal(a.train_set.indices, b.train_set.indices)
    assert a.train_set.augment is not None and a.val_set.augment is None


def test_hrnet_experiments_report_a_diverged_run(ctx):
    study = replace(SMOKE.hrnet, train=TrainConfig(epochs=2, batch_size=8, lr=1e-3, optimizer="adam"), seeds=(0, 1))
    data = jobs.study_data(ctx, study.convention, study.input_size)
    runs = hr.run_experiments(study, ctx, data, workers=2)
    assert [r.result.status for r in runs] == ["finished"] * 6
    # Continue one run with a NaN in its head: its loss is NaN at once, so it is recorded as diverged.
    bad = runs[3]
    with torch.no_grad():
        bad.model.final_layer.bias.fill_(float("nan"))
    result = train(bad.model, data.train_set, replace(study.train, seed=9), ctx.runs.write / "nan", progress=False)
    runs[3] = hr.Run(bad.experiment, bad.seed, bad.model, result, None)
    table = hr_tables.summary_table(runs, study.convention)
    assert table.loc["no batchnorm", "seeds diverged"] == 1 and table.loc["no batchnorm", "diverged at epoch"] == "1"
    assert table.loc["as designed", "seeds finished"] == 2
    assert list(hr.curves(runs).query("experiment == 'no batchnorm' and seed == 1")["status"]) == ["diverged"]
    comparison = hr_tables.compare(runs)
    a = [r.evaluation.pckh for r in runs if r.experiment == "no batchnorm + identity"]
    b = [r.evaluation.pckh for r in runs if r.experiment == "as designed"]
    expected = stats.ttest_ind(a, b, equal_var=False)
    assert comparison.loc["no batchnorm + identity", "p-value"] == pytest.approx(expected.pvalue, nan_ok=True)
    assert comparison.loc["no batchnorm", "seeds"] == "1 vs 2"


def test_small_joint_groups(ctx):
    labels = [*MPII16.labels, "mean"]
    t = pd.DataFrame({"skips on": 1.0, "skips off": 0.5, "drop": 0.5}, index=labels)
    t.loc["r wrist", ["skips off", "drop"]] = [0.0, 1.0]
    t["small joint"] = False
    groups = skip_tables.by_joint_group(t, "mpii16")
    assert groups.loc["small joints", "drop"] == pytest.approx((1.0 + 4 * 0.5) / 5)
    assert groups.loc["other joints", "drop"] == 0.5
    assert "pelvis" not in groups.loc["other joints", "joints"] and "small joint" not in groups.columns


def test_trained_models_are_reused_and_reloaded(ctx):
    study = replace(SMOKE.hourglass, train=TrainConfig(epochs=1, batch_size=8), stacks=(1,), seeds=(0, 1),
                    main_stacks=1)
    runs = hg.train_variants(study, ctx, workers=1)
    model, first = runs[(1, 0)]
    again, second = hg.train_variants(study, ctx, workers=2)[(1, 0)]
    assert second.seconds == first.seconds  # loaded, not retrained
    assert not torch.equal(runs[(1, 1)][0].outs[0].conv.weight, model.outs[0].conv.weight)  # another seed
    key = hg.training_jobs(ctx, study)[(1, 1)].key()
    assert (ctx.runs.write / f"hourglass-1-seed1-{key}" / "final.pt").exists()
    loaded, saved = jobs.load_trained(hg.main_job(ctx, study))
    assert saved["spec"]["n_stacks"] == 1 and saved["key"] == hg.main_job(ctx, study).key()
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k])
    other = replace(study, seeds=(5,))  # settings no run was trained with: told which notebook to run
    with pytest.raises(RunMissing, match="run notebook 02 first"):
        hg.dissected(ctx, other, 4)


def _evaluation(pckh: float, pck: float = 0.5) -> evaluation.Evaluation:
    return evaluation.Evaluation(None, np.full(16, pckh), pckh, np.full(16, pck), pck, np.full(3, pckh),
                         {"head": 0, "torso": 0})


def _seed_runs(few: list[float], many: list[float]) -> dict:
    """(stacks, seed) -> evaluation with the given PCKh for 1 and 2 stacks, seeds 0, 1, 2."""
    return {(s, seed): _evaluation(v) for s, values in ((1, few), (2, many)) for seed, v in enumerate(values)}


def test_stack_verdict_uses_the_seed_spread():
    study = replace(SMOKE.hourglass, stacks=(1, 2), seeds=(0, 1, 2))
    few, many = [0.70, 0.71, 0.72], [0.80, 0.81, 0.79]
    ev = _seed_runs(few, many)
    v = hg_tables.stack_verdict(ev, study)
    expected = stats.ttest_ind(many, few, equal_var=False)
    assert v.verdict == "supports" and v.gain == pytest.approx(0.09) and v.p == pytest.approx(expected.pvalue)
    table = hg_tables.seed_table(ev, study)
    assert table.loc["hourglass-2", "PCKh@0.5 mean"] == pytest.approx(0.80)
    assert table.loc["hourglass-2", "PCKh@0.5 std"] == pytest.approx(np.std(many, ddof=1))
    assert table.loc["hourglass-1", "PCKh@0.5 seed 2"] == 0.72
    # the same mean gain, but the seeds scatter more than the gap: not resolved
    assert hg_tables.stack_verdict(_seed_runs([0.60, 0.80, 0.73], [0.75, 0.70, 0.95]), study).verdict == (
        "not resolved")
    assert hg_tables.stack_verdict(_seed_runs(many, few), study).verdict == "does not support"
    single = replace(study, seeds=(0,))
    one = hg_tables.stack_verdict({(1, 0): _evaluation(0.7), (2, 0): _evaluation(0.75)}, single)
    assert one.verdict == "not resolved" and np.isnan(one.p) and "one run per variant" in one.sentence
    text = markdown([hg_tables.stack_finding(v, study, "synthetic")])
    assert "**supports**" in text and "0.800 ± 0.010" in text


def test_runs_of_other_seeds_get_their_own_names():
    study = replace(SMOKE.hourglass, seeds=(3, 4))
    assert study.label(2) == study.label(2, 3) == "hourglass-2" and study.label(2, 4) == "hourglass-2-seed4"


def test_published_numbers_stand_apart_from_ours():
    ev = {"hourglass-2": _evaluation(0.8)}
    quote = accuracy.Quote(0.901, "reference", "8 stacks", "MPII validation", "all 16 joints",
                             "PCKh@0.5, its normaliser")
    t = accuracy.pck_table(ev, "mpii16", (quote,))
    assert t.loc["mean (14 joints, ours)", ("PCKh@0.5", "hourglass-2")] == 0.8
    col = ("published (theirs)", quote.label)
    assert "MPII validation" in quote.label and "all 16 joints" in quote.label and "normaliser" in quote.label
    assert t[col].notna().sum() == 1 and t.loc[accuracy.PUBLISHED_MEAN, col] == 0.901
    assert np.isnan(t.loc[accuracy.PUBLISHED_MEAN, ("PCKh@0.5", "hourglass-2")])
    assert list(accuracy.pck_table(ev, "mpii16").index)[-1] == "mean (14 joints, ours)"
