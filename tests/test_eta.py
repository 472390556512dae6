"""The expected wall time printed before a run: from this machine's recorded times, else a calibration."""

import json

import pytest

from poselab import eta

HOST = {"cpu": "Xeon", "cpu_cores": 2, "gpu": None}
OTHER = {"cpu": "EPYC", "cpu_cores": 2, "gpu": None}
REFERENCE = {"calibration_seconds": 2.0, "workload": eta.WORKLOAD, "profiles": {"default": {"02": 1000.0, "03": 40.0}}}


def _record(seconds, profile="default", host=HOST, limit=None):
    return {"wall_seconds": seconds, "profile": profile, "machine": host, "limit_steps": limit}


def test_a_recorded_time_on_this_machine_and_profile_comes_first():
    records = {"02": _record(1200.0)}
    assert eta.estimate("02", "default", HOST, records, REFERENCE, 4.0) == eta.Estimate(1200.0, "recorded")


def test_without_a_usable_record_the_reference_is_scaled_by_the_calibration():
    # another machine's record, another profile's, and a step-limited one are not this machine's time
    for records in ({"02": _record(1200.0, host=OTHER)}, {"02": _record(1200.0, "smoke")},
                    {"02": _record(3.0, limit=2)}, {}):
        assert eta.estimate("02", "default", HOST, records, REFERENCE, 3.0) == eta.Estimate(1500.0, "calibrated")
    assert eta.estimate("02", "default", HOST, {}, REFERENCE, None) == eta.Estimate(None, "none")
    assert eta.estimate("05", "default", HOST, {}, REFERENCE, 3.0).source == "none"  # not in the reference
    assert eta.estimate("02", "full", HOST, {}, REFERENCE, 3.0).text() == "no estimate"


def test_times_read_as_a_person_would_say_them():
    assert eta.minutes(45) == "45 s"
    assert eta.minutes(210) == "3.5 min"
    assert eta.minutes(3900) == "1 h 05 min"
    assert eta.Estimate(1500.0, "calibrated").text() == "about 25.0 min (calibrated)"


def test_the_calibration_is_measured_once_per_machine(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(eta, "calibrate", lambda: calls.append(1) or 2.5)
    assert eta.machine_calibration(tmp_path, HOST) == 2.5
    assert eta.machine_calibration(tmp_path, HOST) == 2.5 and len(calls) == 1
    assert eta.machine_calibration(tmp_path, OTHER) == 2.5 and len(calls) == 2  # another machine: measured again
    kept = json.loads((tmp_path / eta.CALIBRATION).read_text())
    assert kept["machine"] == OTHER and kept["workload"] == eta.WORKLOAD
    (tmp_path / eta.CALIBRATION).write_text(json.dumps(kept | {"workload": "12 steps in one round"}))
    assert eta.machine_calibration(tmp_path, OTHER) == 2.5 and len(calls) == 3  # another workload: measured again


def test_a_reference_calibrated_on_another_workload_is_not_scaled():
    other = REFERENCE | {"workload": "12 steps in one round"}
    assert eta.estimate("02", "default", HOST, {}, other, 3.0) == eta.Estimate(None, "none")


def test_the_calibration_workload_runs_and_the_shipped_references_cover_the_default_profile():
    assert eta.calibrate(steps=1, rounds=2) > 0
    references = eta.load_reference()["references"]
    assert {r["machine"]["torch_capability"] for r in references} >= {"AVX2", "AVX512"}  # one per kernel set
    for reference in references:
        assert reference["calibration_seconds"] > 0 and reference["workload"] == eta.WORKLOAD
        assert set(reference["profiles"]["default"]) == {"01", "02", "03", "04", "05", "06", "07"}


def _timed(monkeypatch, times):
    """``calibrate`` with its rounds taking ``times`` seconds, one after the other; returns the rounds it timed."""
    from poselab import bench

    timed = []

    def fake_train_steps(*args, **kwargs):
        def run(steps):
            timed.append(times[len(timed)])
            return timed[-1]
        return run

    monkeypatch.setattr(bench, "train_steps", fake_train_steps)
    return timed


def test_a_calibration_disturbed_for_several_rounds_takes_more_rounds(monkeypatch):
    timed = _timed(monkeypatch, [0.5, 0.52, 0.51, 0.5, 0.53] + [9.0] * 20)
    assert eta.calibrate() == 0.51 and len(timed) == eta.ROUNDS  # rounds that agree: five, as always
    timed = _timed(monkeypatch, [0.5, 0.8, 0.8, 0.8, 0.52] + [0.5] * 20)
    assert eta.calibrate() == 0.5 and len(timed) > eta.ROUNDS  # three disturbed rounds no longer set the median
    assert sum(timed) <= eta.BUDGET
    timed = _timed(monkeypatch, [1.0, 3.0] * 20)
    eta.calibrate()
    assert sum(timed) <= eta.BUDGET + 3.0  # a machine that never settles: stopped by the budget


AVX512 = {"calibration_seconds": 1.0, "workload": eta.WORKLOAD, "machine": {"torch_capability": "AVX512"},
          "profiles": {"default": {"02": 800.0, "06": 500.0}}}
AVX2 = {"calibration_seconds": 2.0, "workload": eta.WORKLOAD, "machine": {"torch_capability": "AVX2"},
        "profiles": {"default": {"02": 1400.0, "06": 900.0}}}


def test_the_reference_measured_with_this_machines_kernels_is_used():
    both = {"references": [AVX512, AVX2]}
    assert eta.reference_for({"torch_capability": "AVX2"}, both) is AVX2
    assert eta.reference_for({"torch_capability": "AVX512"}, both) is AVX512
    assert eta.reference_for({"torch_capability": "DEFAULT"}, both) is AVX512  # none alike: the first
    assert eta.reference_for({"torch_capability": "AVX2"}, {}) == {}
    # the kernels change the mix: an AVX2 machine as fast as the AVX2 reference gets its times, not 1.75x 800 s
    host = {"torch_capability": "AVX2"}
    assert eta.estimate("02", "default", host, {}, eta.reference_for(host, both), 2.0) == \
        eta.Estimate(1400.0, "calibrated")


def _whole_run(reports, host, times, limit=None):
    state = reports / ".state"
    state.mkdir(parents=True)
    for nid, seconds in times.items():
        (state / f"{nid}.json").write_text(json.dumps(_record(seconds, host=host, limit=limit) | {"git_commit": "abc"}))
    return state


def test_a_whole_run_replaces_the_reference_of_its_kernels_and_keeps_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(eta, "calibrate", lambda: 4.0)
    host = {"cpu": "EPYC", "cpu_cores": 2, "gpu": None, "torch_capability": "AVX2"}
    path = tmp_path / "reference.json"
    path.write_text(json.dumps({"references": [AVX512, AVX2 | {"profiles": {"smoke": {"02": 10.0}}}]}))
    state = _whole_run(tmp_path / "run", host, {"02": 1365.2, "06": 875.9})
    (state / eta.CALIBRATION).write_text(json.dumps({"seconds": 3.0, "machine": host, "workload": eta.WORKLOAD}))
    entry = eta.write_reference(tmp_path / "run", path)
    written = eta.load_reference(path)["references"]
    assert written[0] == AVX512 and written[1] == entry and len(written) == 2
    assert entry["calibration_seconds"] == 3.0  # the run's own calibration, measured at its start
    assert entry["profiles"] == {"default": {"02": 1365.2, "06": 875.9}, "smoke": {"02": 15.0}}  # smoke: rescaled
    assert entry["machine"] == host and entry["git_commit"] == "abc"
    (state / eta.CALIBRATION).unlink()
    assert eta.write_reference(tmp_path / "run", path)["calibration_seconds"] == 4.0  # none kept: measured now


def test_a_reference_is_made_only_from_one_whole_run_on_one_machine(tmp_path):
    _whole_run(tmp_path / "limited", HOST, {"02": 3.0}, limit=2)
    with pytest.raises(ValueError, match="step limit"):
        eta.write_reference(tmp_path / "limited", tmp_path / "reference.json")
    state = _whole_run(tmp_path / "mixed", HOST, {"02": 1200.0})
    (state / "06.json").write_text(json.dumps(_record(800.0, host=OTHER)))
    with pytest.raises(ValueError, match="more than one machine"):
        eta.write_reference(tmp_path / "mixed", tmp_path / "reference.json")


def test_the_runner_prints_the_estimate_from_recorded_times(tmp_path, monkeypatch, capsys):
    from poselab import run as runner
    from poselab.plan import discover

    todo = list(discover(runner.paths.notebooks_dir()).values())[:2]
    records = {todo[0].id: _record(600.0), todo[1].id: {}}
    monkeypatch.setattr(eta, "calibrate", lambda: 1.0)
    found = runner.expected_times(todo, [nb.id for nb in todo], "default", HOST, tmp_path, records)
    assert found[todo[0].id] == eta.Estimate(600.0, "recorded")
    reference = eta.reference_for(HOST)
    want = reference["profiles"]["default"][todo[1].id] / reference["calibration_seconds"]
    assert found[todo[1].id] == eta.Estimate(want, "calibrated")
