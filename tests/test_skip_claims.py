"""Notebook 03's decisions (poselab.studies.skips.tables), judged over the training seeds, on hand-made ablations."""

from types import SimpleNamespace

import numpy as np

from poselab import findings as fd
from poselab.data.joints import MPII16
from poselab.studies.skips import tables
from poselab.studies.skips.experiment import SkipAblation

SMALL = [MPII16.index(n) for n in tables.SMALL_JOINTS]


def _evaluation(per_joint: np.ndarray, per_sample=(1.0, 0.5)):
    keep = [j for j in range(MPII16.n_joints) if MPII16.names[j] not in ("pelvis", "thorax")]
    return SimpleNamespace(per_joint_pckh=per_joint, pckh=float(per_joint[keep].mean()),
                           per_sample=np.asarray(per_sample, float))


def _ablation(on: float, off: float, small_drop: float, other_drop: float, scales=(0.0, 0.2)) -> SkipAblation:
    """Skips on at ``on`` for every joint, all off at ``off``; with only the finest off, the small joints lose
    ``small_drop`` and the others ``other_drop``; each coarser scale off loses ``scales[k]`` overall."""
    on_j = np.full(MPII16.n_joints, on)
    fine = on_j - other_drop
    fine[SMALL] = on - small_drop
    per_scale = {0: _evaluation(fine)}
    per_scale.update({k: _evaluation(on_j - d) for k, d in enumerate(scales[1:], 1)})
    return SkipAblation(_evaluation(on_j), _evaluation(np.full(MPII16.n_joints, off), (0.0, 0.0)), per_scale,
                        [16 >> k for k in range(len(scales))])


def test_a_collapse_is_a_ratio_below_half_over_the_seeds():
    clear = {s: _ablation(0.8, 0.05 + 0.01 * s, 0.3, 0.1) for s in range(3)}
    f = tables.collapse(clear)
    assert f.verdict == fd.SUPPORTS and "Student's t over 3 seeds" in f.test and "[" in f.ours
    assert tables.collapse({s: _ablation(0.8, 0.7 + 0.01 * s, 0.3, 0.1) for s in range(3)}).verdict == fd.DOES_NOT
    near = tables.collapse({0: _ablation(0.8, 0.30, 0.3, 0.1), 1: _ablation(0.8, 0.50, 0.3, 0.1),
                            2: _ablation(0.8, 0.42, 0.3, 0.1)})  # ratios 0.38-0.63 around the threshold
    assert near.verdict == fd.UNRESOLVED and near.resolve == tables.MORE_SEEDS
    assert tables.collapse({0: _ablation(0.8, 0.05, 0.3, 0.1)}).verdict == fd.UNRESOLVED  # one seed: no interval


def test_small_joints_are_judged_on_the_finest_skip_over_the_seeds():
    assert tables.small_joints({s: _ablation(0.8, 0.1, 0.40 + 0.01 * s, 0.15) for s in range(3)},
                               "mpii16").verdict == fd.SUPPORTS
    assert tables.small_joints({s: _ablation(0.8, 0.1, 0.10 + 0.01 * s, 0.35) for s in range(3)},
                               "mpii16").verdict == fd.DOES_NOT
    flips = {0: _ablation(0.8, 0.1, 0.30, 0.20), 1: _ablation(0.8, 0.1, 0.18, 0.25), 2: _ablation(0.8, 0.1, 0.26, 0.2)}
    assert tables.small_joints(flips, "mpii16").verdict == fd.UNRESOLVED  # the sign changes with the seed


def test_the_finest_skip_matters_most_when_its_margin_holds_over_the_seeds():
    assert tables.finest_matters_most({s: _ablation(0.8, 0.1, 0.5, 0.4, (0.0, 0.05 + 0.01 * s))
                                       for s in range(3)}).verdict == fd.SUPPORTS
    assert tables.finest_matters_most({s: _ablation(0.8, 0.1, 0.05, 0.02, (0.0, 0.3 + 0.01 * s))
                                       for s in range(3)}).verdict == fd.DOES_NOT
    assert tables.finest_matters_most({0: _ablation(0.8, 0.1, 0.3, 0.1, (0.0,))}) is None  # one scale: no claim
    t = tables.scale_table({s: _ablation(0.8, 0.1, 0.3, 0.1) for s in range(2)})
    assert list(t.columns) == ["seed 0", "seed 1", "mean", "std over seeds"] and t.index[0] == "16x16"


def test_the_seed_table_averages_the_seeds_and_keeps_their_spread():
    ablations = {0: _ablation(0.8, 0.1, 0.4, 0.1), 1: _ablation(0.6, 0.1, 0.2, 0.1)}
    t = tables.seed_table(ablations, "mpii16")
    assert t.loc["mean", tables.ON] == np.mean([0.8, 0.6])
    assert t.loc[MPII16.labels[SMALL[0]], "drop, 16x16 skip off, std over seeds"] == np.std([0.4, 0.2], ddof=1)
    assert len(tables.headline_numbers(ablations, "mpii16")) == 6
