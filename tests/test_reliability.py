"""Reliability and security: nothing runs from a file, corrupt data is caught, interrupted and concurrent runs
are safe, errors are one line.  Real subprocesses and real signals where the case is about processes."""

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from poselab.checkpoints import CheckpointError, load_checkpoint, save_atomic
from poselab.data.pose_files import UnsafeFileError, convert_pickled, load_flat, save_flat
from poselab.io import write_json
from poselab.report import registry as reg

REPO = Path(__file__).resolve().parents[1]


class Payload:
    """Unpickling this writes a marker file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "code ran"))


def _plant_checkpoint(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": {}, "key": "k", "history": [Payload(marker)]}, path)


# ----------------------------------------------------------------------------------------- nothing runs


def test_a_checkpoint_with_a_payload_is_refused_naming_the_file(tmp_path):
    marker = tmp_path / "ran.txt"
    _plant_checkpoint(tmp_path / "final.pt", marker)
    with pytest.raises(CheckpointError, match="final.pt cannot be read"):
        load_checkpoint(tmp_path / "final.pt")
    assert not marker.exists()


def test_a_planted_final_checkpoint_never_runs_and_the_model_is_trained_again(tiny_sets, tmp_path):
    from poselab.models.hourglass import StackedHourglass
    from poselab.training.loop import TrainConfig, train_or_load
    from test_train import _sets

    marker = tmp_path / "ran.txt"
    _plant_checkpoint(tmp_path / "run" / "final.pt", marker)
    _plant_checkpoint(tmp_path / "run" / "last.pt", marker)
    train_set, _ = _sets(tiny_sets)
    model = StackedHourglass(1, width=8, n_joints=16, depth=1, stem=(4, 8))
    with pytest.warns(UserWarning, match="set aside"):
        result = train_or_load(model, train_set, TrainConfig(epochs=1, batch_size=8), tmp_path / "run", "k",
                               progress=False)
    assert result.status == "finished" and not marker.exists()
    assert len(list((tmp_path / "run").glob("final.pt.corrupt-*.txt"))) == 1  # the note beside the bad file
    assert load_checkpoint(tmp_path / "run" / "final.pt")["key"] == "k"  # the new one is clean


def test_a_truncated_checkpoint_is_set_aside_and_training_restarts(tiny_sets, tmp_path):
    from poselab.models.hourglass import StackedHourglass
    from poselab.training.loop import TrainConfig, train
    from test_train import _sets

    train_set, _ = _sets(tiny_sets)
    model = StackedHourglass(1, width=8, n_joints=16, depth=1, stem=(4, 8))
    train(model, train_set, TrainConfig(epochs=1, batch_size=8), tmp_path, progress=False)
    data = (tmp_path / "last.pt").read_bytes()
    (tmp_path / "last.pt").write_bytes(data[: len(data) // 3])
    with pytest.warns(UserWarning, match="last.pt cannot be read.*set aside"):
        again = train(StackedHourglass(1, width=8, n_joints=16, depth=1, stem=(4, 8)), train_set,
                      TrainConfig(epochs=1, batch_size=8), tmp_path, progress=False)
    assert again.status == "finished" and list(tmp_path.glob("last.pt.corrupt-*"))


def test_pickled_pose_files_are_not_opened_unless_pinned_or_converted(tmp_path):
    from poselab.studies.lifting.data import load_videopose3d

    marker = tmp_path / "ran.txt"
    pos3d = {"S1": {"Walking 1": np.zeros((4, 17, 3), np.float32)}}
    pos2d = {"S1": {"Walking 1": [np.zeros((4, 17, 2), np.float32)] * 4}}
    np.savez(tmp_path / "data_3d_h36m.npz", positions_3d=np.array(pos3d, dtype=object))
    np.savez(tmp_path / "data_2d_h36m_gt.npz", positions_2d=np.array({**pos2d, "S9": Payload(marker)}, dtype=object),
             metadata=np.array({"num_joints": 17}, dtype=object))
    with pytest.raises(UnsafeFileError, match=r"data_3d_h36m.npz stores pickled.*poselab.data convert h36m"):
        load_videopose3d(tmp_path)
    assert not marker.exists()
    from poselab.data.pose_files import sha256sum

    pinned = (sha256sum(tmp_path / "data_3d_h36m.npz"), sha256sum(tmp_path / "data_2d_h36m_gt.npz"))
    # pinned, but the payload is still refused: the unpickler builds numpy arrays and containers only
    with pytest.raises(UnsafeFileError, match=r"data_2d_h36m_gt.npz: member positions_2d is refused.*pathlib"):
        load_videopose3d(tmp_path, trusted=pinned)
    with pytest.raises(UnsafeFileError, match=r"data_2d_h36m_gt.npz: member positions_2d is refused"):
        convert_pickled(tmp_path / "data_3d_h36m.npz", tmp_path / "data_2d_h36m_gt.npz")
    assert not marker.exists()
    (tmp_path / "data_2d_h36m_gt.npz").unlink()
    np.savez(tmp_path / "data_2d_h36m_gt.npz", positions_2d=np.array(pos2d, dtype=object),
             metadata=np.array({"num_joints": 17, "symmetry": [[1, 2], [3]], "n": np.int64(4)},
                               dtype=object))
    pinned = (pinned[0], sha256sum(tmp_path / "data_2d_h36m_gt.npz"))
    got3d, _ = load_videopose3d(tmp_path, trusted=pinned)  # pinned: the user's own files, read as they are
    assert got3d["S1"]["Walking 1"].shape == (4, 17, 3)
    # the explicit conversion leaves pickle-free copies that load without a pin
    convert_pickled(tmp_path / "data_3d_h36m.npz", tmp_path / "data_2d_h36m_gt.npz")
    got3d, got2d = load_videopose3d(tmp_path)
    assert got3d["S1"]["Walking 1"].shape == (4, 17, 3) and len(got2d["S1"]["Walking 1"]) == 4
    assert not marker.exists()


def test_a_flat_pose_file_with_an_object_array_is_refused(tmp_path):
    marker = tmp_path / "ran.txt"
    save_flat(tmp_path / "good.npz", positions_3d={"S1": {"A 1": np.ones((2, 17, 3))}}, metadata={"num_joints": 17})
    assert load_flat(tmp_path / "good.npz")[0]["S1"]["A 1"].shape == (2, 17, 3)
    np.savez(tmp_path / "bad.npz", **{"3d|S1|A 1": np.array([Payload(marker)], dtype=object)},
             metadata=np.array("{}"))
    with pytest.raises(UnsafeFileError, match="bad.npz"):
        load_flat(tmp_path / "bad.npz")
    assert not marker.exists()


def test_the_lifting_checkpoint_with_a_payload_is_retrained_not_run(tmp_path):
    from poselab.studies.lifting.train import _finished_run

    marker = tmp_path / "ran.txt"
    _plant_checkpoint(tmp_path / "final.pt", marker)
    for name in ("log.csv", "validation.csv"):
        (tmp_path / name).write_text("")
    assert _finished_run(tmp_path, "k", 1, {}) is None
    assert not marker.exists() and list(tmp_path.glob("final.pt.corrupt-*"))


# ----------------------------------------------------------------------------------------- data integrity


def test_corrupt_truncated_or_missing_synthetic_files_are_regenerated(tmp_path, capsys):
    from conftest import TINY
    from poselab.data.synthetic.generate import content_fingerprint, ensure_image_sets

    root = ensure_image_sets(tmp_path / "pose2d", TINY.images, workers=1, progress=False)
    digest = content_fingerprint(root)
    images = root / "train" / "images.npy"
    good = images.read_bytes()
    noise = np.random.default_rng(0).integers(0, 255, len(good) - 128, dtype=np.uint8).tobytes()
    images.write_bytes(good[:128] + noise)  # the same size, other pixels
    ensure_image_sets(tmp_path / "pose2d", TINY.images, workers=1, progress=True)
    assert "train/images.npy differs from what was written" in capsys.readouterr().out
    assert images.read_bytes() == good and content_fingerprint(root) == digest
    images.write_bytes(good[:1000])  # truncated
    ensure_image_sets(tmp_path / "pose2d", TINY.images, workers=1, progress=True)
    assert "bytes" in capsys.readouterr().out and images.read_bytes() == good
    (root / "val" / "masks.npy").unlink()
    ensure_image_sets(tmp_path / "pose2d", TINY.images, workers=1, progress=True)
    assert "val/masks.npy is missing" in capsys.readouterr().out and (root / "val" / "masks.npy").exists()


def test_the_data_command_regenerates_and_says_so(tmp_path):
    data = tmp_path / "data"
    first = subprocess.run([sys.executable, "-m", "poselab.data", "--profile", "smoke", "--data-dir", str(data)],
                           capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    images = data / "synthetic" / "smoke" / "pose2d" / "train" / "images.npy"
    images.write_bytes(b"\0" * images.stat().st_size)
    again = subprocess.run([sys.executable, "-m", "poselab.data", "--profile", "smoke", "--data-dir", str(data)],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "differs from what was written" in again.stdout and "generating" in again.stdout


# ----------------------------------------------------------------------------------------- processes


def _write_after(path: str, seconds: float) -> None:
    time.sleep(seconds)
    Path(path).write_text("finished")


SLOW_NOTEBOOK = """
import multiprocessing as mp, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from poselab.training.processes import die_with_parent
import test_reliability
Path(r"{started}").write_text("started")
with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn"), initializer=die_with_parent) as pool:
    list(pool.map(test_reliability._write_after, [r"{done}a", r"{done}b"], [6, 6]))
"""


@pytest.mark.notebook
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_the_runner_stops_its_kernel_and_workers(tmp_path, sig):
    from test_runner import _notebook

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    started, done = tmp_path / "started", tmp_path / "done"
    _notebook(nbs / "01_slow.ipynb", SLOW_NOTEBOOK.format(started=started, done=done))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "poselab.report.run", "--notebooks-dir", str(nbs), "--reports-dir",
                             str(tmp_path / "reports"), "--quiet", "--no-html"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not started.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert started.exists(), proc.communicate(timeout=5)
    time.sleep(2)  # the workers are running
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    time.sleep(10)  # longer than the workers had left
    assert not Path(f"{done}a").exists() and not Path(f"{done}b").exists()  # they died with their parents
    if sig == signal.SIGTERM:
        assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "reports" / "executed" / "01_slow.ipynb").exists()


@pytest.mark.notebook
def test_a_second_run_on_the_same_reports_stops_with_the_holders_pid(tmp_path):
    reports = tmp_path / "reports"
    with HeldLock(reports) as pid:
        done = subprocess.run([sys.executable, "-m", "poselab.report.run", "--profile", "smoke", "--notebooks", "01",
                               "--reports-dir", str(reports), "--quiet"], cwd=REPO, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 2 and f"PID {pid}" in done.stderr and "Traceback" not in done.stderr


class HeldLock:
    """Hold the runner's lock from this process, as a first run would."""

    def __init__(self, reports: Path):
        self.reports = reports

    def __enter__(self):
        from poselab.report.run import report_lock

        self.cm = report_lock(self.reports)
        self.cm.__enter__()
        return os.getpid()

    def __exit__(self, *exc):
        self.cm.__exit__(*exc)


def _writer(path: str, n: int) -> int:
    for i in range(n):
        save_atomic({"i": torch.full((20000,), float(i))}, Path(path))
    return n


def _reader(path: str, n: int) -> int:
    bad = 0
    for _ in range(n):
        try:
            obj = load_checkpoint(Path(path))
            bad += int(not torch.all(obj["i"] == obj["i"][0]))
        except FileNotFoundError:
            pass
        except CheckpointError:
            bad += 1
    return bad


def test_concurrent_writers_and_readers_of_one_checkpoint_never_collide(tmp_path):
    path = str(tmp_path / "last.pt")
    _writer(path, 1)
    with mp.get_context("spawn").Pool(3) as pool:
        writes = [pool.apply_async(_writer, (path, 40)) for _ in range(2)]
        reads = pool.apply_async(_reader, (path, 150))
        assert [w.get(timeout=300) for w in writes] == [40, 40]
        assert reads.get(timeout=300) == 0  # no partly written file was ever seen
    assert not list(tmp_path.glob("*.tmp"))


# ----------------------------------------------------------------------------------------- report index


def test_a_truncated_report_index_is_rebuilt_from_the_notebook_records(tmp_path):
    stage = tmp_path / "stage"
    r = reg.Registry("02", stage, "smoke", "cpu", 0)
    r.headline("PCKh", 0.5)
    reg.merge_stage(stage, tmp_path, "02")
    write_json(tmp_path / ".state" / "02.json", {"title": "02", "wall_seconds": 3.0})
    text = (tmp_path / "artifacts.json").read_text()
    (tmp_path / "artifacts.json").write_text(text[: len(text) // 2])
    with pytest.warns(UserWarning, match="rebuilt"):
        index = reg.load_index(tmp_path)
    assert index["headlines"][0]["value"] == 0.5 and index["runs"]["02"]["wall_seconds"] == 3.0
    assert json.loads((tmp_path / "artifacts.json").read_text()) == index


# ----------------------------------------------------------------------------------------- one-line errors


def _one_line_error(cmd: list[str], code: int, *needles: str, cwd=REPO) -> None:
    done = subprocess.run([sys.executable, "-m", *cmd], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == code, done.stdout + done.stderr
    lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_user_errors_are_one_line_with_the_fix(tmp_path):
    _one_line_error(["poselab.data", "--profile", "nope", "--data-dir", str(tmp_path)], 2, "unknown profile 'nope'")
    if not torch.cuda.is_available():
        _one_line_error(["poselab.report.run", "--profile", "smoke", "--notebooks", "01", "--device", "cuda",
                         "--reports-dir", str(tmp_path / "r")], 2, "no CUDA GPU")


def test_a_folder_that_cannot_be_written_is_one_line_with_the_fix(tmp_path):
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        if os.access(readonly, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root): the read-only case cannot be made")
        _one_line_error(["poselab.report.run", "--profile", "smoke", "--notebooks", "01", "--reports-dir",
                         str(readonly / "reports")], 1, "permission denied")
    finally:
        readonly.chmod(0o700)


def test_a_bad_manifest_is_one_line_under_the_runner(tmp_path):
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(REPO / "notebooks", repo / "notebooks")
    (repo / "data_manifest.yaml").write_text("version: 1\ndatasets:\n  x: {title: X}\n")
    cmd = [sys.executable, "-m", "poselab.report.run", "--profile", "smoke", "--notebooks", "01", "--reports-dir",
           str(tmp_path / "r")]
    env = {**os.environ, "POSELAB_ROOT": str(repo)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2 and "data set 'x': missing key(s)" in done.stderr and "Traceback" not in done.stderr


def test_manifest_checksums_and_mpii_records_are_checked(tmp_path):
    from poselab.data.manifest import VALIDATORS, ManifestError, load_manifest

    entry = {"title": "T", "kind": "real", "acquisition": "manual", "root": "t", "licence": "x", "used_by": ["01"],
             "files": [{"path": "a.json", "md5": "z" * 32}]}
    import yaml

    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"version": 1, "datasets": {"t": entry}}))
    with pytest.raises(ManifestError, match="not 32 hex digits"):
        load_manifest(tmp_path / "m.yaml")
    person = {"image": "a.jpg", "center": [1.0, 2.0], "scale": 1.0, "joints": [[0, 0]] * 16, "joints_vis": [1] * 16}
    (tmp_path / "p.json").write_text(json.dumps([person, 7]))
    with pytest.raises(ValueError, match="item 1 is a int, not a person record"):
        VALIDATORS["mpii_json"](tmp_path / "p.json")


def test_a_checkpoint_written_by_another_program_is_set_aside_not_a_crash(tmp_path):
    """A dict without poselab's run key (e.g. {'state_dict': {}, 'epoch': 3}) is set aside like a corrupt file, with a
    plain-text note, and the run starts again without it."""
    import warnings

    from poselab.training.runs import readable_or_set_aside

    path = tmp_path / "last.pt"
    torch.save({"state_dict": {}, "epoch": 3}, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert readable_or_set_aside(path) is None
    assert not path.exists() and "no run key" in str(caught[0].message)
    notes = list(tmp_path.glob("last.pt.corrupt-*.txt"))
    assert len(notes) == 1 and "not a poselab checkpoint" in notes[0].read_text()


def test_set_aside_notes_are_plain_text_without_torchs_advice_to_load_anyway():
    import pickle

    from poselab.checkpoints import plain_reason

    torch_message = ("Weights only load failed. This file can still be loaded, to do so you have two options, "
                     "\x1b[1mdo those steps only if you trust the source of the checkpoint\x1b[0m.\n (1) ...")
    assert plain_reason(pickle.UnpicklingError(torch_message)) == "Weights only load failed."
    assert plain_reason(EOFError()) == "EOFError"


def test_gpus_is_validated_and_says_it_does_nothing_without_cuda(monkeypatch):
    from poselab.training.distributed import GPUS_ENV, gpus_note

    monkeypatch.delenv(GPUS_ENV, raising=False)
    assert gpus_note("cpu") is None
    monkeypatch.setenv(GPUS_ENV, "2")
    assert gpus_note("cpu") == "GPUS=2 has no effect without CUDA: every run trains on the cpu"
    monkeypatch.setenv(GPUS_ENV, "abc")
    with pytest.raises(ValueError, match="GPUS='abc'.*positive whole number"):
        gpus_note("cpu")


# ----------------------------------------------------------------------------------------- issue 37: bad files


@pytest.mark.parametrize("junk, error", [(b"hello world\n", "KeyError: 101"),
                                         (b"root:x:0:0:root:/root:/bin/bash\n", "IndexError"),  # /etc/passwd
                                         (b"", "EOFError")], ids=["text", "passwd", "empty"])
def test_junk_bytes_in_a_checkpoint_are_set_aside_by_the_up_to_date_check(tmp_path, junk, error):
    """torch's weights-only unpickler raises KeyError or IndexError on junk: still a ``CheckpointError`` naming the
    file, so that the runner sets it aside with its note and the notebook trains it again, instead of a traceback."""
    from poselab.report.outputs import missing_output

    path = tmp_path / "checkpoints" / "hourglass-2-k" / "final.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(junk)
    with pytest.raises(CheckpointError, match=f"final.pt cannot be read as a poselab checkpoint \\({error}"):
        load_checkpoint(path)
    why = missing_output(tmp_path, "02", {"runs": ["checkpoints/hourglass-2-k/final.pt"]}, {"artifacts": []})
    assert why.startswith("its checkpoint checkpoints/hourglass-2-k/final.pt cannot be read (set aside as final.pt.")
    assert not path.exists()
    note = next(path.parent.glob("final.pt.corrupt-*.txt")).read_text()
    assert note.startswith("final.pt was set aside: ") and f"checkpoint ({error}" in note


def test_a_finished_run_copied_over_the_unfinished_one_is_set_aside_and_training_restarts(tiny_sets, tmp_path):
    """A run file with the run key but not what a resumed run reads (``final.pt`` copied over ``last.pt``, or
    ``{'key': ..., 'state_dict': {}, 'epoch': 3}``) is set aside with its note, not trusted (was KeyError: 'config')."""
    import shutil

    from poselab.models.hourglass import StackedHourglass
    from poselab.training.loop import TrainConfig, train_or_load
    from test_train import _sets

    train_set, _ = _sets(tiny_sets)
    cfg = TrainConfig(epochs=1, batch_size=8)

    def model():
        torch.manual_seed(0)
        return StackedHourglass(1, width=8, n_joints=16, depth=1, stem=(4, 8))

    run = tmp_path / "run"
    first = train_or_load(model(), train_set, cfg, run, "k", progress=False)
    shutil.copy(run / "final.pt", run / "last.pt")
    (run / "final.pt").unlink()
    with pytest.warns(UserWarning, match=r"last.pt holds a run key but not 'optimizer', 'epoch', 'config'.*set aside"):
        again = train_or_load(model(), train_set, cfg, run, "k", progress=False)
    assert again.status == "finished" and again.history["loss"].tolist() == first.history["loss"].tolist()
    assert "not the checkpoint expected here" in next(run.glob("last.pt.corrupt-*.txt")).read_text()
    for name in ("last.pt", "final.pt"):  # a foreign dict that carries the run key, in either place
        for old in ("last.pt", "final.pt"):
            (run / old).unlink(missing_ok=True)
        torch.save({"key": "k", "state_dict": {}, "epoch": 3}, run / name)
        with pytest.warns(UserWarning, match=f"{name} holds a run key but not 'model'"):
            assert train_or_load(model(), train_set, cfg, run, "k", progress=False).status == "finished"
