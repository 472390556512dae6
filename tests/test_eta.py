"""The expected wall time printed before a run: from this machine's recorded times, else a calibration."""

import json

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


def test_the_calibration_workload_runs_and_the_shipped_reference_covers_the_default_profile():
    assert eta.calibrate(steps=1, rounds=2) > 0
    reference = eta.load_reference()
    assert reference["calibration_seconds"] > 0 and reference["workload"] == eta.WORKLOAD
    assert set(reference["profiles"]["default"]) == {"01", "02", "03", "04", "05", "06", "07"}


def test_the_runner_prints_the_estimate_from_recorded_times(tmp_path, monkeypatch, capsys):
    from poselab import run as runner
    from poselab.plan import discover

    todo = list(discover(runner.paths.notebooks_dir()).values())[:2]
    records = {todo[0].id: _record(600.0), todo[1].id: {}}
    monkeypatch.setattr(eta, "calibrate", lambda: 1.0)
    found = runner.expected_times(todo, [nb.id for nb in todo], "default", HOST, tmp_path, records)
    assert found[todo[0].id] == eta.Estimate(600.0, "recorded")
    reference = eta.load_reference()
    want = reference["profiles"]["default"][todo[1].id] / reference["calibration_seconds"]
    assert found[todo[1].id] == eta.Estimate(want, "calibrated")
