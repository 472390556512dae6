"""The bench's efficiency rows (``poselab.tools.bench``): training images/s and FLOP/s of a profile's model families
beside this machine's GEMM FLOP/s, measured in the same process and threads, and their ratio."""

import csv

import pytest

from poselab.profiles import PROFILES
from poselab.tools import bench


def test_the_rows_are_the_arithmetic_of_the_timed_seconds(monkeypatch):
    """Stubbed timers: a training step takes 0.5 s (0.25 s for HRNet) and counts 3 GFLOP, a 100 x 100 product 1 ms."""
    def fake_train_steps(model, image_size, cfg, device="cpu"):
        step = 0.25 if type(model).__name__ == "HRNet" else 0.5
        return lambda n: n * step

    monkeypatch.setattr(bench, "train_steps", fake_train_steps)
    monkeypatch.setattr(bench, "gemm_timer", lambda n, device: lambda k: k * 1e-3)
    monkeypatch.setattr("poselab.models.complexity.training_flops", lambda model, shape, batch: 3e9)
    rows = {r["variant"]: r for r in bench.bench_efficiency("smoke", steps=2, rounds=3, gemm=100)}
    gemm = rows.pop("float32 GEMM 100x100")
    assert (gemm["value"], gemm["unit"], gemm["seconds"]) == (2.0, "GFLOP/s", 0.006)  # 2 x 100^3 FLOP / 1 ms
    hg, hr = PROFILES["smoke"].hourglass, PROFILES["smoke"].hrnet
    names = [f"hourglass, {s} stack(s), {hg.input_size}px" for s in hg.stacks] + [
        f"hrnet (as designed), {hr.input_size}px"]
    assert sorted(rows) == sorted(f"train {n}{suffix}" for n in names for suffix in ("", " speed", " / GEMM"))
    batches = [hg.train.batch_size] * len(hg.stacks) + [hr.train.batch_size]
    for name, step, batch in zip(names, [0.5] * len(hg.stacks) + [0.25], batches, strict=True):
        assert rows[f"train {name}"]["value"] == pytest.approx(3 / step)  # GFLOP/s
        assert rows[f"train {name} speed"]["value"] == pytest.approx(batch / step)  # images/s
        assert rows[f"train {name} / GEMM"]["value"] == pytest.approx(100 * 3 / step / 2)  # per cent of 2 GFLOP/s


def test_the_timers_interleave_their_rounds_in_a_rotating_order():
    order = []
    runs = {k: (lambda n, k=k: order.append(k) or n * 1.0) for k in "abc"}
    assert bench.side_by_side(runs, 2, 3) == {"a": [2.0] * 3, "b": [2.0] * 3, "c": [2.0] * 3}
    assert "".join(order) == "abcbcacab"


def test_make_bench_appends_measured_rows_to_the_csv(tmp_path, monkeypatch):
    from poselab.models import build_model

    hr = PROFILES["smoke"].hrnet
    assert bench.train_steps(build_model(hr.spec("as designed")), hr.input_size, hr.train)(1) > 0
    real = bench.bench_efficiency
    monkeypatch.setattr(bench, "bench_efficiency",
                        lambda profile, device: real(profile, device, steps=1, rounds=1, gemm=64))
    out = tmp_path / "bench" / "bench.csv"
    for _ in range(2):
        assert bench.main(["--out", str(out), "--profile", "smoke", "--device", "cpu"]) == 0
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * (1 + 3 * 3) and {r["benchmark"] for r in rows} == {"efficiency"}  # header written once
    values = {r["variant"]: float(r["value"]) for r in rows}
    assert all(v > 0 for v in values.values())
    for name in [k for k in values if k.startswith("train ") and k[-6:] not in ("/ GEMM", " speed")]:
        assert values[f"{name} / GEMM"] == pytest.approx(100 * values[name] / values["float32 GEMM 64x64"], rel=1e-2)
