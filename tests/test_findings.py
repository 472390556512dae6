"""Findings as the report's ledger lists them (each study's decisions: ``test_study_verdicts`` for notebooks 02, 06
and 07, ``test_skip_claims``, ``test_latent``, ``test_poseig_claims``; the decision rules: ``test_verdicts``)."""


import numpy as np
import pytest

from poselab import findings as fd
from poselab.report import registry as reg
from poselab.report.html import build_index


def test_a_finding_takes_only_the_known_verdicts():
    with pytest.raises(ValueError, match="verdict"):
        fd.Finding("c", "seed 0", "", "1", "reproduces", "t")
    text = fd.markdown([fd.Finding("More is better", "seed 9", "0.9", "0.8", fd.SUPPORTS, "p < 0.05")])
    assert "**More is better** seed 9: 0.9. Ours: 0.8. This **supports** the claim (test: p < 0.05)." in text


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


def test_the_paired_test_over_seeds_equals_scipys_and_needs_two_pairs():
    from scipy import stats

    from poselab.evaluation.stats import paired

    a, b = np.array([0.61, 0.64, 0.60]), np.array([0.58, 0.60, 0.59])
    mean, t, p = paired(a, b)
    ref = stats.ttest_rel(a, b)
    assert mean == pytest.approx(0.08 / 3) and t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    mean, t, p = paired(a[:1], b[:1])
    assert mean == pytest.approx(0.03) and np.isnan(t) and np.isnan(p)
