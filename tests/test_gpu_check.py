"""``make gpu-check`` (``poselab.gpu_check``): its verdicts and its clean cut-off at the deadline."""

import json
import sys

from poselab.gpu_check import judged, notebook_times, run_until


def test_targets_are_judged_on_cuda_only():
    assert judged("hourglass 2 stacks", 2100.0, cuda=True)["verdict"] == "met"
    assert judged("hourglass 8 stacks", 599.0, cuda=True)["verdict"] == "missed"
    assert judged("full projected", 2.9, cuda=True)["verdict"] == "met"
    assert judged("default report", 5.5, cuda=True)["verdict"] == "missed"
    assert judged("HRNet-W32", None, cuda=True)["verdict"] == "not measured"
    assert judged("HRNet-W32", 3.0, cuda=False)["verdict"].startswith("needs CUDA")


def test_a_command_past_the_deadline_is_stopped_as_by_ctrl_c(tmp_path):
    script = ("import signal, sys, time\n"
              "signal.signal(signal.SIGTERM, lambda *a: (print('stopped cleanly', flush=True), sys.exit(130)))\n"
              "print('started', flush=True)\ntime.sleep(60)\n")
    rc, seconds, cut = run_until([sys.executable, "-c", script], 2.0, tmp_path / "log")
    assert cut and rc == 130 and seconds < 30
    assert (tmp_path / "log").read_text().split() == ["started", "stopped", "cleanly"]
    rc, _, cut = run_until([sys.executable, "-c", "print('done')"], 30.0, tmp_path / "log")
    assert (rc, cut) == (0, False)


def test_notebook_times_come_from_the_runner_records(tmp_path):
    state = tmp_path / ".state"
    state.mkdir()
    (state / "01.json").write_text(json.dumps({"wall_seconds": 12.5}))
    (state / "02.json").write_text("not json")
    (state / "02.index.json").write_text(json.dumps({"wall_seconds": 1}))
    assert notebook_times(tmp_path) == {"01": 12.5}
