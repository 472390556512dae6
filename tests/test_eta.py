"""The expected wall time printed before a run: this machine's recorded time, else the reference scaled by a
calibration."""

import json

from poselab.report import eta

HOST = {"cpu": "Xeon", "cpu_cores": 2, "gpu": None}
OTHER = {"cpu": "EPYC", "cpu_cores": 2, "gpu": None}


def _record(seconds, profile="default", host=HOST, limit=None):
    return {"wall_seconds": seconds, "profile": profile, "machine": host, "limit_steps": limit}


def test_a_recorded_time_on_this_machine_and_profile_comes_first():
    assert eta.estimate("02", "default", HOST, {"02": _record(1200.0)}, 4.0) == eta.Estimate(1200.0, "recorded")


def test_without_a_usable_record_the_reference_is_scaled_by_the_calibration():
    ref = eta.REFERENCE["profiles"]["default"]["02"]
    twice = 2 * eta.REFERENCE["calibration_seconds"]  # a machine half as fast as the reference's
    # another machine's record, another profile's, and a step-limited one are not this machine's time
    for records in ({"02": _record(1200.0, host=OTHER)}, {"02": _record(1200.0, "smoke")},
                    {"02": _record(3.0, limit=2)}, {}):
        assert eta.estimate("02", "default", HOST, records, twice) == eta.Estimate(2 * ref, "calibrated")
    assert eta.estimate("02", "default", HOST, {}, None) == eta.Estimate(None, "none")
    assert eta.estimate("02", "full", HOST, {}, twice).text() == "no estimate"  # no reference for full


def test_the_reference_covers_the_default_profile():
    assert set(eta.REFERENCE["profiles"]["default"]) == {"01", "02", "03", "04", "05", "06", "07"}
    assert eta.REFERENCE["calibration_seconds"] > 0


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
    assert kept["machine"] == OTHER and kept["steps"] == eta.STEPS
    (tmp_path / eta.CALIBRATION).write_text(json.dumps(kept | {"steps": eta.STEPS + 8}))
    assert eta.machine_calibration(tmp_path, OTHER) == 2.5 and len(calls) == 3  # another workload: measured again
    (tmp_path / eta.CALIBRATION).write_text("{not json")
    assert eta.machine_calibration(tmp_path, OTHER) == 2.5 and len(calls) == 4  # unreadable: measured again


def test_the_calibration_times_real_training_steps():
    assert 0 < eta.calibrate(rounds=1) < 60
