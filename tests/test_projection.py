"""The full profile's projected time (``poselab.projection``): the arithmetic on given speeds, and the schedule."""

import pytest

from poselab.profiles import PROFILES
from poselab.projection import (
    GPU_ROWS,
    GPURow,
    Part,
    Speed,
    flop_rate,
    gpu_row,
    project,
    schedule,
    stated_speed,
    stated_speeds,
)


def test_hours_are_work_times_runs_over_speed():
    parts = [Part("a", "hourglass", work=7200.0, runs=2), Part("b", "lifting", work=360.0, unit="iterations")]
    rows, total = project(parts, {"a": Speed(4.0, "x"), "b": Speed(0.5, "y")})
    assert [r["hours"] for r in rows] == pytest.approx([1.0, 0.2])  # 2 x 7200 / 4 / 3600; 360 / 0.5 / 3600
    assert total == pytest.approx(1.2) and rows[1]["source"] == "y" and rows[0]["runs"] == 2


def test_a_model_with_its_own_row_takes_it_and_others_are_scaled_by_flops():
    rows = (GPURow("hourglass", 2, 256, 64, 900.0, "bf16", "a GPU"), GPURow("hrnet", None, 256, 32, 200.0, "fp32", "b"))
    own = stated_speed(Part("hg", "hourglass", 1, spec={"n_stacks": 2}, size=256, batch=64), 5e9, None, rows)
    assert own.value == 900.0 and "a GPU" in own.source
    # no row at batch 32: the reference's achieved FLOP/s (900 img/s x 6 x 8 GMAC) over this model's 6 x 4 GMAC
    scaled = stated_speed(Part("hg", "hourglass", 1, spec={"n_stacks": 2}, size=256, batch=32), 4e9, (rows[0], 8e9),
                          rows)
    assert scaled.value == pytest.approx(1800.0) and scaled.source.startswith("estimate")
    assert flop_rate(rows[1], 1e10) == pytest.approx(200 * 6 * 1e10)
    assert gpu_row("hrnet", None, 256, 32, rows) is rows[1] and gpu_row("hrnet", None, 256, 64, rows) is None
    with pytest.raises(ValueError, match="no GPU row"):
        stated_speed(Part("sb", "simplebaseline", 1, spec={}, size=256, batch=32), 1e9, None, rows)


@pytest.mark.parametrize("real", [False, True])
def test_full_fits_three_hours_on_one_h100_by_the_stated_rows(real):
    full = PROFILES["full"]
    parts = schedule(full, mpii=real, h36m=real)
    rows, total = project(parts, stated_speeds(parts, full))
    assert total <= full.budget_minutes / 60 == 3
    measured = {r["name"]: r for r in rows if not r["source"].startswith("estimate")}
    assert {"hourglass 2 stacks: training (02)", "hourglass 8 stacks: training (02)"} <= measured.keys()
    assert all(r["source"].startswith(("H100", "estimate")) for r in rows)
    assert len(GPU_ROWS) == 4
