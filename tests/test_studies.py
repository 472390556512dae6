"""The notebooks' study layer on tiny data: subsets, training, divergence reporting, comparisons."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from conftest import TINY
from poselab.data.joints import MPII16
from poselab.profiles import PROFILES
from poselab.studies import hourglass as hg
from poselab.studies import hrnet as hr
from poselab.studies import pose2d as p2
from poselab.train import TrainConfig, train

SMOKE = PROFILES["smoke"]


@pytest.fixture
def ctx(tiny_sets, tmp_path):
    data_dir = tiny_sets["pose2d"].parents[2]
    profile = replace(SMOKE, name="tiny", data=TINY)
    return SimpleNamespace(profile=profile, data_dir=data_dir, seed=0, checkpoints_dir=tmp_path, device="cpu")


def test_pose_data_subsets_are_fixed_by_the_seed(ctx):
    a = p2.pose_data(ctx, "mpii16", 32, train_samples=10, val_samples=4)
    b = p2.pose_data(ctx, "mpii16", 32, train_samples=10, val_samples=4)
    assert len(a.train_set) == 10 and len(a.val_set) == 4 and a.name == "synthetic"
    np.testing.assert_array_equal(a.train_set.indices, b.train_set.indices)
    assert a.train_set.augment is not None and a.val_set.augment is None


def test_hrnet_experiments_report_a_diverged_run(ctx):
    study = replace(SMOKE.hrnet, train=TrainConfig(epochs=2, batch_size=8, lr=1e-3, optimizer="adam"), seeds=(0, 1))
    data = p2.pose_data(ctx, study.convention, study.input_size)
    ctx.profile = replace(ctx.profile, hrnet=study)
    runs = hr.run_experiments(study, ctx, data, workers=2)
    assert [r.result.status for r in runs] == ["finished"] * 6
    # Continue one run with a NaN in its head: its loss is NaN at once, so it is recorded as diverged.
    bad = runs[3]
    with torch.no_grad():
        bad.model.final_layer.bias.fill_(float("nan"))
    result = train(bad.model, data.train_set, replace(study.train, seed=9), ctx.checkpoints_dir / "nan", progress=False)
    runs[3] = hr.Run(bad.experiment, bad.seed, bad.model, result, None)
    table = hr.summary_table(runs, study.convention)
    assert table.loc["no batchnorm", "seeds diverged"] == 1 and table.loc["no batchnorm", "diverged at epoch"] == "1"
    assert table.loc["as designed", "seeds finished"] == 2
    assert list(hr.curves(runs).query("experiment == 'no batchnorm' and seed == 1")["status"]) == ["diverged"]
    comparison = hr.compare(runs)
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
    groups = hg.by_joint_group(t, "mpii16")
    assert groups.loc["small joints", "drop"] == pytest.approx((1.0 + 4 * 0.5) / 5)
    assert groups.loc["other joints", "drop"] == 0.5
    assert "pelvis" not in groups.loc["other joints", "joints"] and "small joint" not in groups.columns


def test_trained_models_are_reused_and_reloaded(ctx):
    study = replace(SMOKE.hourglass, train=TrainConfig(epochs=1, batch_size=8), stacks=(1,))
    ctx.profile = replace(ctx.profile, hourglass=study)
    model, first = hg.train_variants(study, ctx, workers=1)[1]
    again, second = hg.train_variants(study, ctx, workers=2)[1]
    assert second.seconds == first.seconds  # loaded, not retrained
    loaded, saved = p2.load_trained(ctx.checkpoints_dir / study.label(1))
    assert saved["spec"]["n_stacks"] == 1
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k])
    with pytest.raises(FileNotFoundError, match="run the notebook"):
        p2.load_trained(ctx.checkpoints_dir / "nothing-here")
