"""The bench's efficiency rows: training FLOP/s of the default profile's model families beside this machine's GEMM
FLOP/s, measured in the same process and threads, and their ratio."""

import pytest


def test_efficiency_rows_are_flop_rates_and_their_ratio_to_the_gemm():
    from poselab.bench import BENCHMARKS, bench_efficiency

    assert BENCHMARKS["efficiency"] is bench_efficiency
    rows = {r["variant"]: r for r in bench_efficiency(steps=1, rounds=1, gemm=256)}
    gemm = rows.pop("float32 GEMM 256x256")
    assert gemm["unit"] == "GFLOP/s" and gemm["value"] > 0
    trains = {k: r for k, r in rows.items() if not k.endswith("/ GEMM")}
    assert len(trains) == 3 and any(k.startswith("train hrnet") for k in trains)  # 1 and 2 stacks, HRNet
    for name, r in trains.items():
        ratio = rows[f"{name} / GEMM"]
        assert ratio["unit"] == "%" and ratio["value"] == pytest.approx(100 * r["value"] / gemm["value"], rel=1e-2)
