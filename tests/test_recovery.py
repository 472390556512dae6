"""Recovery from what a user can break between runs: a lost or damaged checkpoint, figure or table of a notebook
that is otherwise up to date, left-over staging folders, ``--force`` on one notebook.  Real runner subprocesses on
two small notebooks: one trains (saves) a run, the next loads it from the run store."""

import json
import re
from pathlib import Path

import pytest

from conftest import run_poselab as _run
from conftest import toy_notebook as _notebook
from poselab.report.outputs import missing_output, used_runs
from poselab.training.runs import FINAL, run_key, save_run

KEY = run_key("toy")

TRAIN = f"""
import matplotlib.pyplot as plt
from poselab.report import notebook
from poselab.training.runs import finished_run, save_run
ctx = notebook.start("01", profile, device, seed, data_dir, reports_dir, stage_dir)
path = ctx.runs.folder("toy", "{KEY}") / "final.pt"
if finished_run(path, "{KEY}") is None:
    save_run(path, "{KEY}", model={{"w": [1.0, 2.0]}})
    print("trained toy")
fig, ax = plt.subplots(); ax.plot([0, 1], [0, 1])
ctx.save_figure(fig, "F01.1", "a line")
"""

LOAD = f"""
from poselab.report import notebook
ctx = notebook.start("02", profile, device, seed, data_dir, reports_dir, stage_dir)
saved, _ = ctx.runs.load("toy", "{KEY}", "run the notebook that trains it first (make notebooks NB=01)")
ctx.headline("w", saved["model"]["w"][1])
"""


@pytest.fixture
def two(tmp_path):
    nbdir, reports = tmp_path / "notebooks", tmp_path / "reports"
    nbdir.mkdir()
    _notebook(nbdir / "01_train.ipynb", TRAIN)
    _notebook(nbdir / "02_load.ipynb", LOAD, ["01"])
    args = ["--profile", "smoke", "--reports-dir", str(reports), "--notebooks-dir", str(nbdir), "--quiet",
            "--no-html", "--data-dir", str(tmp_path / "data")]
    first = _run(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    return reports, args


def _final(reports):
    return reports / "checkpoints" / "smoke" / f"toy-{KEY}" / FINAL


@pytest.mark.notebook
def test_a_truncated_or_deleted_upstream_checkpoint_re_executes_the_notebook_that_trained_it(two):
    reports, args = two
    record = json.loads((reports / ".state" / "01.json").read_text())
    assert record["runs"] == [f"checkpoints/smoke/toy-{KEY}/{FINAL}"]  # listed by the kernel as it saved it
    assert json.loads((reports / ".state" / "02.json").read_text())["runs"] == record["runs"]  # and as 02 loaded it
    final = _final(reports)
    final.write_bytes(final.read_bytes()[:40])  # truncated
    again = _run(*args, "--notebooks", "02")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"01_train: its checkpoint checkpoints/smoke/toy-{KEY}/{FINAL} cannot be read (set aside as " \
           in again.stdout and "executing again" in again.stdout
    assert len(list(final.parent.glob("final.pt.corrupt-*.txt"))) == 1
    assert final.is_file()  # trained again
    # deleted: the same, and the notebook that only loads it stays up to date (its inputs did not change)
    import shutil

    shutil.rmtree(reports / "checkpoints")
    third = _run(*args, "--notebooks", "02")
    assert third.returncode == 0, third.stdout + third.stderr
    assert f"its checkpoint checkpoints/smoke/toy-{KEY}/{FINAL} is missing: executing again" in third.stdout
    assert "02_load: up to date" in third.stdout
    # a lost figure is an output too
    (reports / "figures" / "F01.1.png").unlink()
    fourth = _run(*args)
    assert "01_train: its output figures/F01.1.png is missing: executing again" in fourth.stdout
    assert (reports / "figures" / "F01.1.png").is_file()


@pytest.mark.notebook
def test_force_on_one_notebook_re_executes_only_that_one_and_stale_staging_is_removed(two):
    reports, args = two
    stale = reports / ".staging" / "02-abandoned"
    stale.mkdir(parents=True)
    (stale / "artifacts.json").write_text("{}")
    forced = _run(*args, "--notebooks", "02", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "01_train: up to date" in forced.stdout and "02_load: done" in forced.stdout
    assert "removed 1 staging folder(s) that an interrupted run left" in forced.stdout
    assert not (reports / ".staging").exists()
    everything = _run(*args, "--force")  # no notebook named: all of them
    assert "01_train: done" in everything.stdout and "02_load: done" in everything.stdout


def test_the_up_to_date_check_names_the_first_lost_or_unreadable_output(tmp_path):
    reports = tmp_path
    path = reports / "checkpoints" / "toy" / FINAL
    save_run(path, KEY, model={})
    (reports / "tables").mkdir()
    (reports / "tables" / "T01.1.csv").write_text("a,b\n1,2\n")
    (reports / "figures").mkdir()
    (reports / "figures" / "F01.1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 10)
    record = {"runs": ["checkpoints/toy/final.pt"]}
    index = {"artifacts": [{"notebook": "01", "path": "tables/T01.1.csv"},
                           {"notebook": "01", "path": "figures/F01.1.png"},
                           {"notebook": "02", "path": "tables/T02.1.csv"}]}
    assert missing_output(reports, "01", record, index) is None  # 02's missing table is not 01's
    (reports / "figures" / "F01.1.png").write_bytes(b"GIF89a")
    assert missing_output(reports, "01", record, index) == "its figure figures/F01.1.png is not a PNG image"
    (reports / "tables" / "T01.1.csv").write_text("")
    assert missing_output(reports, "01", record, index) == "its output tables/T01.1.csv is empty"
    import torch

    torch.save({"state_dict": {}, "epoch": 3}, path)  # another program's file: no run key
    assert "its checkpoint checkpoints/toy/final.pt cannot be read (set aside as final.pt.corrupt-" in \
        missing_output(reports, "01", record, index)
    assert missing_output(reports, "01", record, index) == "its checkpoint checkpoints/toy/final.pt is missing"


def test_used_runs_are_listed_once_relative_to_the_reports(tmp_path):
    log = tmp_path / "used.txt"
    inside = tmp_path / "reports" / "checkpoints" / "a" / FINAL
    log.write_text(f"{inside}\n{inside}\n/elsewhere/b/{FINAL}\n\n")
    assert used_runs(log, tmp_path / "reports") == ["/elsewhere/b/final.pt", "checkpoints/a/final.pt"]
    assert used_runs(tmp_path / "absent.txt", tmp_path) == []


# ----------------------------------------------------------------------------------------- a full disk


def _fake_full_disk(monkeypatch):
    """The filesystem reports nothing free (as a full one does while the half-written file still holds its bytes)."""
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(30 << 20, 30 << 20, 0))


def test_torchs_error_on_a_full_disk_names_the_filesystem_and_the_file_and_keeps_the_old_checkpoint(
        tmp_path, monkeypatch):
    import torch

    from poselab.checkpoints import load_checkpoint, save_atomic
    from poselab.io import DiskFull

    path = tmp_path / "run" / FINAL
    save_atomic({"key": "old"}, path)

    def full(obj, fh):
        fh.write(b"PK" * 100)
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1693120 vs 1693012")

    monkeypatch.setattr(torch, "save", full)
    _fake_full_disk(monkeypatch)
    with pytest.raises(DiskFull) as caught:
        save_atomic({"key": "new"}, path)
    message = str(caught.value)
    assert message.startswith("no space left on /") and f"writing {path}: free some space there" in message
    assert "\n" not in message and "MB free" in message
    monkeypatch.undo()
    assert load_checkpoint(path)["key"] == "old"  # nothing half-written replaced it
    assert sorted(p.name for p in path.parent.iterdir()) == [FINAL]  # and no temporary file is left


def test_an_error_that_is_not_a_full_disk_is_left_as_it_is(tmp_path, monkeypatch):
    import torch

    from poselab.checkpoints import save_atomic

    monkeypatch.setattr(torch, "save", lambda obj, fh: (_ for _ in ()).throw(RuntimeError("unexpected pos 1 vs 2")))
    with pytest.raises(RuntimeError, match="unexpected pos"):  # the disk has room: not said to be full
        save_atomic({"key": "k"}, tmp_path / FINAL)


def test_a_real_enospc_anywhere_reads_no_space_left_on_the_filesystem_writing_the_file(tmp_path, monkeypatch):
    import errno
    import pickle

    from poselab.io import DiskFull, write_json, writing
    from poselab.report.run import one_line

    with pytest.raises(DiskFull, match=r"no space left on /dev \(devtmpfs|no space left on /dev "):
        with writing(Path("/dev/full")), open("/dev/full", "w") as fh:  # the kernel's always-full device
            fh.write("x")
    monkeypatch.setattr(json, "dump", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))
    with pytest.raises(DiskFull, match=f"writing {tmp_path / 'a.json'}"):
        write_json(tmp_path / "a.json", {})
    assert list(tmp_path.iterdir()) == []  # its temporary file removed
    bare = OSError(errno.ENOSPC, "No space left on device")  # e.g. papermill saving the executed notebook
    assert one_line(bare, tmp_path).startswith(f"no space left on {Path(tmp_path).anchor}")
    assert one_line(bare, tmp_path).count(str(tmp_path)) == 1
    again = pickle.loads(pickle.dumps(DiskFull("no space left on /x writing /x/y")))  # from a training worker
    assert isinstance(again, DiskFull) and str(again) == "no space left on /x writing /x/y"


# ----------------------------------------------------------------------------------------- malformed MPII


def test_mpii_records_need_finite_numbers_and_images_that_can_be_read(tiny_sets, tmp_path):
    from PIL import Image

    from poselab.data.dataset import ImageSet
    from poselab.data.fixtures import write_mpii
    from poselab.data.manifest import check_dataset, load_manifest
    from poselab.data.mpii import MPIISource, check_people

    person = {"image": "a.jpg", "center": [1.0, 2.0], "scale": 1.0, "joints": [[0, 0]] * 16, "joints_vis": [1] * 16}
    check_people([person])
    for bad, match in (({"joints": [[float("nan"), 0]] + [[0, 0]] * 15}, "'joints' must be 16 .* finite"),
                       ({"scale": float("nan")}, "'scale' a positive number"),
                       ({"center": [float("inf"), 2.0]}, "'center' must be"),
                       ({"joints_vis": [float("nan")] * 16}, "'joints_vis' must be 16 finite")):
        with pytest.raises(ValueError, match=match):
            check_people([{**person, **bad}])
    pose2d = tiny_sets["pose2d"]
    root = write_mpii(tmp_path / "mpii", ImageSet(pose2d, "train"), ImageSet(pose2d, "val"), n_train=4, n_val=3)
    mpii = load_manifest()["mpii"]
    assert check_dataset(mpii, tmp_path).state == "verified"
    people = json.loads((root / "annot" / "valid.json").read_text())
    (root / "images" / people[0]["image"]).write_bytes(b"")  # a 0-byte image
    status = check_dataset(mpii, tmp_path)
    assert status.state == "corrupt"
    assert f"1 file(s) are empty or not images (e.g. {people[0]['image']})" in status.detail
    with pytest.raises(ValueError, match=f"{people[0]['image']} cannot be read as an image"):
        MPIISource(root, "valid").image(0)  # where status was not asked: named when first read
    Image.new("RGB", (4, 4)).save(root / "images" / people[0]["image"])
    (root / "images" / people[1]["image"]).unlink()
    status = check_dataset(mpii, tmp_path)
    assert status.state == "corrupt" and f"(e.g. {people[1]['image']})" in status.detail
    raw = (root / "annot" / "train.json").read_text().replace('"scale": ', '"scale": NaN, "x": ', 1)
    (root / "annot" / "train.json").write_text(raw)
    (root / "images" / people[1]["image"]).write_bytes((root / "images" / people[0]["image"]).read_bytes())
    status = check_dataset(mpii, tmp_path)
    assert status.state == "corrupt" and "annot/train.json: person 0: 'center' must be [x, y] and 'scale'" in \
        status.detail


# ----------------------------------------------------------------------------------------- generation


GENERATE = """
import sys
from poselab.data.synthetic.generate import ensure_synthetic
from conftest import TINY
ensure_synthetic(sys.argv[1], TINY, "tiny", workers=1)
print("generated")
"""


def _generator(data_dir, out=None):
    """A generating process; its output piped, or written to the open file ``out``."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c", GENERATE, str(data_dir)], cwd=Path(__file__).parent,
                            stdout=subprocess.PIPE if out is None else out, stderr=subprocess.STDOUT, text=True)


def test_two_generations_into_one_data_folder_take_turns_and_both_succeed(tmp_path):
    import fcntl
    import os
    import time

    base = tmp_path / "synthetic" / "tiny"
    base.mkdir(parents=True)
    (base / "pose2d.partial-999-stale").mkdir()  # what a killed generation left
    log = tmp_path / "first.log"
    waiting = f"waiting for another poselab process (PID {os.getpid()}) generating data in {base}"
    with open(base / ".lock", "a+") as held, open(log, "w") as out:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(str(os.getpid()))
        held.flush()
        first = _generator(tmp_path, out)
        deadline = time.monotonic() + 120  # however long its imports take on a slow machine
        while waiting not in log.read_text() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert first.poll() is None, log.read_text()  # waiting for the lock, not failing
    second = _generator(tmp_path)
    first.wait(timeout=300)
    out1, out2 = log.read_text(), second.communicate(timeout=300)[0]
    assert first.returncode == 0 and second.returncode == 0, out1 + out2
    assert waiting in out1
    assert "removed pose2d.partial-999-stale, a set that an interrupted generation left half-written" in out1 + out2
    assert sorted(p.name for p in base.iterdir()) == [".lock", "lifting", "pose2d"]


def test_verify_hashes_a_file_whose_size_and_time_were_kept(tiny_sets, tmp_path):
    import os
    import shutil

    from poselab.data import integrity

    folder = tmp_path / "set"
    shutil.copytree(tiny_sets["pose2d"], folder)
    recorded = json.loads((folder / "meta.json").read_text())["files"]
    assert integrity.problems(folder, recorded) == []  # fills the digest cache
    target = folder / "train" / "images.npy"
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF  # bit rot, or a damaged `cp -p`: same size, same time
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert integrity.problems(folder, recorded) == []  # the cache trusts size and time
    assert integrity.problems(folder, recorded, rehash=True) == ["train/images.npy differs from what was written "
                                                                 "(sha256)"]


# ----------------------------------------------------------------------------------------- memory


def test_training_memory_is_estimated_from_the_network_and_sizes_the_workers():
    from torch import nn

    from poselab.training.memory import PROCESS_BYTES, activation_elements, parallel_runs, training_bytes

    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
    # by hand: conv 4x8x8 + ReLU 4x8x8 + conv 2x8x8 outputs per sample; (3*9+1)*4 + (4+1)*2 = 122 parameters
    assert activation_elements(net, (3, 8, 8)) == 256 + 256 + 128
    spec = {"arch": "hourglass", "n_stacks": 1, "width": 16, "n_joints": 16, "depth": 1, "stem": (8, 16)}
    one, four = training_bytes(spec, 32, 1), training_bytes(spec, 32, 4)
    assert PROCESS_BYTES < one < four and (four - PROCESS_BYTES) < 4 * (one - PROCESS_BYTES)  # weights once
    gb = 2**30
    assert parallel_runs([2 * gb, 3 * gb], 2, 16 * gb) == (2, None)
    fit, note = parallel_runs([2 * gb, 10 * gb], 2, 16 * gb)
    assert fit == 1 and note == ("training 1 run(s) at a time instead of 2: the largest needs about 10.0 GB and "
                                 "16.0 GB are available")
    fit, note = parallel_runs([30 * gb], 2, 16 * gb)
    assert fit == 1 and "only 16.0 GB are available (it may swap" in note
    assert parallel_runs([30 * gb, 30 * gb], 2, None) == (2, None)  # unknown memory: as asked


def test_a_current_set_is_used_without_waiting_for_the_data_lock(tiny_sets, capsys):
    import fcntl
    import threading

    from conftest import TINY
    from poselab.data.synthetic.generate import ensure_synthetic

    base = tiny_sets["pose2d"].parent
    data_dir = base.parents[1]
    found = []
    with open(base / ".lock", "a+") as held:  # another process generating or checking, as far as this one knows
        fcntl.flock(held, fcntl.LOCK_EX)
        reader = threading.Thread(target=lambda: found.append(ensure_synthetic(data_dir, TINY, "tiny")), daemon=True)
        reader.start()
        reader.join(timeout=30)
        assert not reader.is_alive(), "a current set waited for the lock"
    assert found == [tiny_sets]
    assert "waiting for another poselab process" not in capsys.readouterr().out


# ----------------------------------------------------------------------------------------- issue 37


@pytest.mark.notebook
def test_a_deleted_index_is_rebuilt_and_a_stale_failed_copy_removed(two):
    """Deleting reports/artifacts.json left every notebook 'up to date' and the report empty; now the index is rebuilt
    from the notebooks' records, said in one line, and a notebook found up to date drops its old failed copy."""
    reports, args = two
    before = json.loads((reports / "artifacts.json").read_text())
    (reports / "artifacts.json").unlink()
    failed = reports / "executed" / "failed" / "01_train.ipynb"
    failed.parent.mkdir()
    failed.write_text("{}")  # what an earlier failing run left
    again = _run(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"poselab: {reports / 'artifacts.json'} was missing and has been rebuilt from {reports / '.state'}" \
        in again.stdout
    assert "01_train: up to date" in again.stdout and "02_load: up to date" in again.stdout
    after = json.loads((reports / "artifacts.json").read_text())
    assert [a["id"] for a in after["artifacts"]] == ["F01.1"] and after["headlines"] == before["headlines"]
    assert not failed.exists()


def test_a_set_made_again_re_executes_the_notebooks_that_read_it(tiny_sets, tmp_path):
    """Outputs computed while a file was damaged with its time kept stayed 'up to date' after `make data VERIFY=1`
    restored its bytes (the recorded digests are the same): the data fingerprint now changes with the set's making."""
    import os
    import shutil

    from conftest import TINY
    from poselab.data.synthetic.generate import ensure_image_sets
    from poselab.report.run import DataState

    root = tmp_path / "synthetic" / "tiny" / "pose2d"
    shutil.copytree(tiny_sets["pose2d"], root)
    state = DataState()
    clean = state.of(tmp_path, "tiny")
    target = root / "val" / "images.npy"
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert state.of(tmp_path, "tiny") == clean  # damaged, unseen: the notebooks compute on it
    ensure_image_sets(root, TINY.images, workers=1, progress=False, verify=True)  # make data VERIFY=1
    assert target.read_bytes()[-1] != data[-1]  # the bytes as written again
    assert state.of(tmp_path, "tiny") != clean  # so the notebooks run again on them


def test_nan_or_inf_in_the_official_validation_truth_is_named(tiny_sets, tmp_path):
    """An infinite head box dropped a person from PCKh without a word; NaN joints passed `status` as verified."""
    import numpy as np
    from scipy.io import loadmat, savemat

    from poselab.data.dataset import ImageSet
    from poselab.data.fixtures import write_mpii
    from poselab.data.manifest import check_dataset, load_manifest
    from poselab.data.mpii import read_gt_valid

    pose2d = tiny_sets["pose2d"]
    root = write_mpii(tmp_path / "mpii", ImageSet(pose2d, "train"), ImageSet(pose2d, "val"), n_train=4, n_val=3)
    path = root / "annot" / "gt_valid.mat"
    good = {k: v for k, v in loadmat(str(path)).items() if not k.startswith("__")}
    assert len(read_gt_valid(path).joints) == 3
    for name, index, value, said in (("headboxes_src", (0, 0, 1), np.inf, "headboxes_src of person 1 (of 3; 1 in all) "
                                      "must be a finite head box of positive size"),
                                     ("pos_gt_src", (2, 0, 2), np.nan, "pos_gt_src of person 2 (of 3; 1 in all) must "
                                      "be finite coordinates for each annotated joint"),
                                     ("jnt_missing", (2, 0), np.nan, "jnt_missing of person 0 (of 3; 1 in all) must be "
                                      "0 or 1 for each joint")):
        bad = {k: v.copy() for k, v in good.items()}
        bad[name][index] = value
        if name == "pos_gt_src":
            bad["jnt_missing"][index[0], index[2]] = 0  # an annotated joint
        savemat(str(path), bad)
        with pytest.raises(ValueError, match=f"^{re.escape(f'{path}: {said}')}: not the official"):
            read_gt_valid(path)
        status = check_dataset(load_manifest()["mpii"], tmp_path)
        assert status.state == "corrupt" and said in status.detail
    savemat(str(path), good)
    assert check_dataset(load_manifest()["mpii"], tmp_path).state == "verified"


def test_a_corrupt_generated_set_is_generated_again_not_fetched(tiny_sets, tmp_path, capsys):
    import shutil

    from poselab.data.__main__ import main

    lifting = tmp_path / "synthetic" / "smoke" / "lifting"
    shutil.copytree(tiny_sets["lifting"], lifting)
    (lifting / "data_3d_synth.npz").write_bytes(b"not an npz")
    assert main(["status", "--profile", "smoke", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert ("error: corrupt generated data set(s): synthetic_lifting; `python -m poselab.data --profile smoke "
            "--verify` (make data PROFILE=smoke VERIFY=1) generates them again") in err and "fetch" not in err
