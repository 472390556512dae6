"""``make gpu-check`` (``poselab.tools.gpu_check``): each step bounded by the time left, a clean cut-off at the
deadline, and the runner's records read back."""

import json
import re
import sys
import time

from poselab.tools.gpu_check import main, notebook_times, run_steps, run_until

SLEEPER = ("import signal, sys, time\n"
           "signal.signal(signal.SIGTERM, lambda *a: (print('stopped cleanly', flush=True), sys.exit(130)))\n"
           "print('started', flush=True)\ntime.sleep(60)\n")


def test_a_command_past_the_deadline_is_stopped_as_by_ctrl_c(tmp_path):
    rc, seconds, cut = run_until([sys.executable, "-c", SLEEPER], 2.0, tmp_path / "log")
    assert cut and rc == 130 and seconds < 30
    assert (tmp_path / "log").read_text().split() == ["started", "stopped", "cleanly"]
    rc, _, cut = run_until([sys.executable, "-c", "print('done')"], 30.0, tmp_path / "log")
    assert (rc, cut) == (0, False)


def test_each_step_gets_the_time_left_and_is_skipped_when_less_than_it_needs_is_left(tmp_path):
    given = {}

    def sleeper(left):  # as gpu_check runs a command: one that would take a minute, stopped before the deadline
        given["first"] = left
        rc, _, cut = run_until([sys.executable, "-c", SLEEPER], left - 3, tmp_path / "log")
        return f"cut {cut}, exit code {rc}"

    start = time.monotonic()
    notes = run_steps({"fails": (0, lambda left: 1 / 0), "first": (2, sleeper),
                       "second": (5, lambda left: given.setdefault("second", left)),
                       "last": (1, lambda left: f"ran with {given.setdefault('last', left):.1f} s left")}, 7.0)
    assert list(notes) == ["fails", "first", "second", "last"] and time.monotonic() - start < 15
    assert notes["fails"].startswith("failed: ZeroDivisionError")  # and the others still ran
    assert 6 < given["first"] <= 7 and notes["first"].startswith("cut True, exit code 130")  # stopped after ~4 s
    assert "second" not in given and re.fullmatch(r"skipped: [0-3] s left, needs about 5 s", notes["second"])
    assert 1 <= given["last"] < 3 and notes["last"].startswith("ran with")  # given what was left, not its need


def test_with_no_time_left_only_the_device_is_recorded(tmp_path):
    assert main(["--device", "cpu", "--minutes", "0", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["device"] == json.loads((tmp_path / "device.json").read_text())
    assert summary["device"]["device"] == "cpu" and summary["notebooks"] == {}
    assert list(summary["steps"]) == ["bench", "check-full", "report-default"]
    assert all(note.startswith("skipped: 0 s left") for note in summary["steps"].values())


def test_notebook_times_come_from_the_runner_records(tmp_path):
    state = tmp_path / ".state"
    state.mkdir()
    (state / "01.json").write_text(json.dumps({"wall_seconds": 12.5}))
    (state / "02.json").write_text("not json")
    (state / "02.index.json").write_text(json.dumps({"wall_seconds": 1}))
    assert notebook_times(tmp_path) == {"01": 12.5}
