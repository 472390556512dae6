"""Execute the report's notebooks with papermill: ``python -m poselab.report.run --profile smoke``.

A notebook runs after those it reads models from (its metadata's ``depends_on``), and only when its fingerprint
changed (the notebook, the ``poselab`` sources its imports reach, the run's settings, the data, its upstream
notebooks) or something it left is gone (``poselab.report.outputs``); ``--force`` runs the notebooks named anyway.
Its figures and tables go to a staging folder and replace the report's only when the whole notebook succeeded.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from poselab import paths
from poselab.data.manifest import ManifestError
from poselab.io import (
    DiskFull,
    Locked,
    as_disk_full,
    disk_full,
    exclusive,
    git_commit,
    is_disk_full,
    now,
    read_json,
    write_json,
    writing,
)
from poselab.profiles import get_profile
from poselab.report import eta, machine
from poselab.report.code_digest import digest, notebook_code, reachable_sources
from poselab.report.outputs import missing_output, used_runs
from poselab.report.plan import NotebookInfo, committed_knobs, discover, identity, knob_changes, knobs_text, plan
from poselab.report.registry import ARTIFACTS, STATE, load_index, merge_stage
from poselab.training.config import LIMIT_ENV
from poselab.training.runs import USED_ENV

STAGING = ".staging"  # reports/.staging/<id>-*/: a notebook's outputs until it has finished
RUNS_USED = "runs-used.txt"  # in a notebook's staging folder: the finished runs it trained or loaded

KERNEL_NAME = "poselab"


def source_hash(nb: NotebookInfo) -> str:
    """Hash of the poselab sources that the notebook's imports reach."""
    return digest(reachable_sources(notebook_code(nb.path)))


class DataState:
    """Hash of the manifest, the synthetic-data generator, the recorded digests of the profile's synthetic sets on
    disk and when each was written, and the size and modification time of real data on disk.  A notebook that reads
    the data re-executes when any of them changes, even if its own imports never reach the generator.  What cannot
    change during a run (the manifest, the generator's source) is read once; ``of(data_dir, profile)`` reads what
    notebooks may write."""

    def __init__(self):
        from poselab.data.manifest import load_manifest
        from poselab.data.pretrained import load_checkpoints
        from poselab.data.synthetic.generate import FORMAT_VERSION, source_fingerprint

        manifest_path = paths.repo_root() / "data_manifest.yaml"
        h = hashlib.sha256(manifest_path.read_bytes())
        h.update(f"synthetic:{FORMAT_VERSION}:{source_fingerprint()}".encode())
        self.fixed = h.hexdigest()
        self.real = [ds.folder(Path(), "default") / f.path for ds in load_manifest(manifest_path).datasets.values()
                     if ds.kind == "real" for f in ds.files]
        self.real += [Path(ck.file) for ck in load_checkpoints(manifest_path).values()]  # placing one re-executes

    def of(self, data_dir: Path, profile: str = "default") -> str:
        from poselab.data.integrity import content_digest
        from poselab.data.synthetic.generate import is_partial

        h = hashlib.sha256(self.fixed.encode())
        for meta in sorted((Path(data_dir) / "synthetic" / profile).glob("*/meta.json")):
            if is_partial(meta.parent):  # a set another process is writing
                continue
            try:
                h.update(content_digest(json.loads(meta.read_text()).get("files", {})).encode())
                # when the set was written: a set made again (e.g. found damaged by `make data VERIFY=1`) re-executes
                # the notebooks that read it, although its recorded digests are the same
                h.update(str(meta.stat().st_mtime_ns).encode())
            except (ValueError, OSError):  # not JSON, or swapped for a new set while read
                h.update(b"unreadable")
        for rel in self.real:
            p = Path(data_dir) / rel
            if p.exists():
                st = p.stat()
                h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
        return h.hexdigest()


def _out_of_date(todo: list[NotebookInfo], forced: set[str], settings: dict[str, dict], codes: dict[str, str],
                 data: str, records: dict[str, dict], reports_dir: Path) -> list[str]:
    """The notebooks that will execute as things stand (what the estimate covers): forced, or their fingerprint or
    executed notebook differ (lost outputs are found later, when each notebook is checked)."""
    fps: dict[str, str] = {}
    out = []
    for nb in todo:
        fp = fps[nb.id] = fingerprint(nb, settings[nb.id], [fps[d] for d in sorted(nb.depends_on)],
                                      codes[nb.id] + data)
        if not _unchanged(nb, fp, records[nb.id], forced, reports_dir):
            out.append(nb.id)
    return out


def _unchanged(nb: NotebookInfo, fp: str, record: dict, forced: set[str], reports_dir: Path) -> bool:
    """Not forced, its inputs' fingerprint as recorded, and its executed notebook there (its other outputs are
    checked by ``poselab.report.outputs.missing_output``)."""
    executed = reports_dir / "executed" / f"{nb.name}.ipynb"
    return nb.id not in forced and record.get("fingerprint") == fp and executed.exists()


def fingerprint(nb: NotebookInfo, settings: dict, upstream: list[str], shared: str) -> str:
    """The notebook's code (``plan.identity``: not its outputs or the metadata JupyterLab writes), the run's settings,
    ``shared`` (its poselab sources and the data) and its upstream notebooks' fingerprints."""
    h = hashlib.sha256(identity(nb.path).encode())
    h.update(json.dumps(settings, sort_keys=True).encode())
    h.update(shared.encode())
    for u in upstream:
        h.update(u.encode())
    return h.hexdigest()[:20]


def ensure_kernel(reports_dir: Path, name: str = KERNEL_NAME) -> str:
    """A kernelspec for this interpreter, in a private folder that Jupyter searches first, so the
    notebooks always run on the same Python as the runner (whatever else is registered)."""
    folder = reports_dir / ".jupyter" / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    # log_level=ERROR: the kernel's start-up warnings (e.g. about local TCP transport) are noise here.
    spec = {"argv": [sys.executable, "-m", "poselab.report.kernel", "-f", "{connection_file}",
                     "--IPKernelApp.log_level=ERROR"],
            "env": {"POSELAB_KERNEL_LOG": str(reports_dir / ".jupyter" / "kernel.log")},
            "display_name": "Python (poselab)", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    jp = os.environ.get("JUPYTER_PATH", "")
    private = str(reports_dir / ".jupyter")
    if private not in jp.split(os.pathsep):
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (private, jp) if p)
    return name


class NotebookFailed(Exception):
    pass


def one_line(e: BaseException, where: Path | None = None) -> str:
    """An error as one line (a permission error or a read-only file system names its file and says what to do; so
    does a full disk, with the filesystem: ``where`` is the folder written when the error does not name a file)."""
    if isinstance(e, OSError) and e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        target = e.filename2 or e.filename or where  # a file moved into the report: where it was going
        why = "read-only file system" if e.errno == errno.EROFS else "permission denied"
        return f"cannot write {target}: {why} (make the folder writable or use another --reports-dir)"
    e = as_disk_full(e, Path(where or "."))
    return " ".join(str(e).split()) or type(e).__name__


def user_error(e: BaseException) -> bool:
    """An error a user can meet and fix, said in one line: the project's own (a failed notebook with its cell, a data
    set's problem with its fix, a locked reports folder, a full disk) and the file-system errors ``one_line``
    explains; anything else is a bug and keeps its traceback."""
    explained = isinstance(e, OSError) and e.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC)
    return explained or isinstance(e, NotebookFailed | ManifestError | ReportLocked | DiskFull)


def execute(nb: NotebookInfo, params: dict, reports_dir: Path, kernel: str, progress: bool | dict,
            knobs: dict | None = None) -> tuple[float, dict, list[str]]:
    """Run one notebook via papermill into a staging area; merge on success.  Returns the seconds it took, the
    report's index with its entries merged in, and the finished runs (checkpoints) the notebook trained or loaded.
    ``knobs``: values papermill sets in place of the parameters cell's (the committed defaults, ``--default-knobs``)."""
    import papermill as pm

    (reports_dir / STAGING).mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f"{nb.id}-", dir=reports_dir / STAGING))  # never shared
    executed = reports_dir / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    out = stage / f"{nb.name}.ipynb"
    start = time.perf_counter()
    # Progress bars inside the kernel would only add carriage-return noise to the executed notebook;
    # the kernel inherits this variable (tqdm reads it when it is imported there).
    os.environ["TQDM_DISABLE"] = "1"
    os.environ[USED_ENV] = str(stage / RUNS_USED)  # the kernel and its training workers list the runs they use
    try:
        pm.execute_notebook(
            str(nb.path), str(out), parameters={**(knobs or {}), **params, "stage_dir": str(stage)}, kernel_name=kernel,
            cwd=str(nb.path.parent), progress_bar=progress, request_save_on_cell_execute=True,
        )
    except BaseException as e:
        if not isinstance(e, pm.PapermillExecutionError):  # interrupted or broken: leave the report as it was
            full = not isinstance(e, DiskFull) and is_disk_full(e, stage)  # papermill saving the executed notebook
            shutil.rmtree(stage, ignore_errors=True)
            _remove_if_empty(stage.parent)
            if full:
                raise disk_full(out) from None
            raise
        failed = executed / "failed"
        try:
            failed.mkdir(exist_ok=True)
            if out.exists():
                shutil.copy(out, failed / out.name)
        except OSError:  # e.g. the disk is full: the error below says so; the copy is only a convenience
            pass
        shutil.rmtree(stage, ignore_errors=True)
        _remove_if_empty(stage.parent)
        if e.ename == DiskFull.__name__:  # its message names the file, the filesystem and the fix: one line
            raise NotebookFailed(f"{e.evalue} (notebook {nb.name}, cell {e.cell_index})") from None
        first_line = next((ln for ln in (e.source or "").splitlines() if ln.strip()), "")
        raise NotebookFailed(
            f"notebook {nb.name} failed in cell {e.cell_index} of the executed notebook (execution count "
            f"{e.exec_count}, starting {first_line[:60]!r}): {e.ename}: {e.evalue}\n"
            f"  the executed notebook with the traceback: {failed / out.name}"
        ) from None
    finally:
        os.environ.pop("TQDM_DISABLE", None)
        os.environ.pop(USED_ENV, None)
    seconds = time.perf_counter() - start
    runs = used_runs(stage / RUNS_USED, reports_dir)
    index = merge_stage(stage, reports_dir, nb.id)
    os.replace(out, executed / out.name)
    (executed / "failed" / out.name).unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)
    _remove_if_empty(stage.parent)
    return seconds, index, runs


def report_index(reports_dir: Path) -> dict:
    """The report's index (``load_index``); that it was missing or damaged and rebuilt is said in one line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = load_index(reports_dir)
    for w in caught:
        print(f"poselab: {w.message}", flush=True)
    return index


def _records(state_dir: Path, todo: list[NotebookInfo]) -> dict[str, dict]:
    records = {}
    for nb in todo:
        try:
            records[nb.id] = read_json(state_dir / f"{nb.id}.json", {})
        except ValueError:
            records[nb.id] = {}  # an unreadable record: the notebook runs again
    return records


def clean_staging(reports_dir: Path) -> int:
    """Remove the staging folders an interrupted run left (the caller holds the report's lock, so no run of this
    folder is using them); how many there were."""
    stale = [p for p in (Path(reports_dir) / STAGING).glob("*") if p.is_dir()]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    _remove_if_empty(Path(reports_dir) / STAGING)
    return len(stale)


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def run(
    profile: str,
    notebooks: list[str] | None = None,
    seed: int = 0,
    device: str = "auto",
    data_dir: Path | None = None,
    reports_dir: Path | None = None,
    notebooks_dir: Path | None = None,
    force: bool = False,
    html: bool = True,
    progress: bool = True,
    limit_steps: int | None = None,
    deterministic: bool = False,
    default_knobs: bool = False,
) -> int:
    """Execute notebooks (and their upstream ones) that are out of date; 0 on success.  A notebook whose knobs differ
    from the committed ones is said before it runs and marked in the report; ``default_knobs`` runs the committed
    values instead, without editing the notebook."""
    from poselab.report.notebook import DETERMINISTIC_ENV, deterministic_kernels, resolve_device
    from poselab.training.distributed import gpus_note

    prof = get_profile(profile)
    dev = resolve_device(device)
    if (note := gpus_note(dev)) is not None:
        print(f"poselab: {note}")
    data_dir = paths.data_dir(data_dir)
    reports_dir = paths.reports_dir(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    available = discover(notebooks_dir or paths.notebooks_dir())
    todo = plan(notebooks, available)
    forced: set[str] = set()
    if force:  # the notebooks asked for (all when none is named), not those upstream of them
        forced = {n.zfill(2) for n in notebooks} if notebooks else {n.id for n in todo}
    if (stale := clean_staging(reports_dir)) > 0:
        print(f"poselab: removed {stale} staging folder(s) that an interrupted run left in {reports_dir / STAGING}")
    kernel = ensure_kernel(reports_dir)
    # the kernels inherit these: every training run stops after that many steps; deterministic kernels on CUDA
    _set_env(LIMIT_ENV, None if limit_steps is None else str(limit_steps))
    _set_env(DETERMINISTIC_ENV, "1" if deterministic else None)
    settings = {"profile": prof.name, "profile_config": prof.fingerprint(), "seed": seed, "device": dev,
                "limit_steps": limit_steps, "deterministic": deterministic_kernels(dev)}
    params = {"profile": prof.name, "device": dev, "seed": seed, "data_dir": str(data_dir),
              "reports_dir": str(reports_dir)}
    state_dir = reports_dir / STATE
    data = DataState()
    fps: dict[str, str] = {}
    host = machine.describe()
    print(f"poselab: profile={prof.name} device={dev} seed={seed} notebooks={' '.join(n.id for n in todo)}")
    print(f"machine: {machine.one_line(host)}")
    if limit_steps is not None:
        print(f"LIMIT_STEPS={limit_steps}: every training run stops after {limit_steps} steps; the numbers exercise "
              "the code path, they are not results")
    codes = {nb.id: source_hash(nb) for nb in todo}  # the runner does not change the sources: hashed once
    changed = {nb.id: knob_changes(nb.path) or {} for nb in todo}
    overrides = {nb.id: committed_knobs(nb.path) if default_knobs else {} for nb in todo}
    for nb in todo:
        if changed[nb.id]:
            how = ("runs with the committed values instead (--default-knobs)" if default_knobs else
                   "`make report DEFAULT_KNOBS=1` (--default-knobs) runs the committed values without editing it")
            print(f"{nb.id}: {knobs_text(changed[nb.id])} differ from the report's defaults (committed in git); {how}")
    knobs_now = {nid: {} if default_knobs else {k: now for k, (_, now) in c.items()} for nid, c in changed.items()}
    settings_of = {nid: {**settings, "knobs": overrides[nid]} for nid in changed}
    records = _records(state_dir, todo)
    will_run = _out_of_date(todo, forced, settings_of, codes, data.of(data_dir, prof.name), records, reports_dir)
    expected = {} if limit_steps is not None else {nid: eta.estimate(nid, prof.name, host, records) for nid in will_run}
    if any(e.source == "none" for e in expected.values()):  # a notebook without a time recorded here
        calibration = eta.machine_calibration(state_dir, host)
        expected = {nid: eta.estimate(nid, prof.name, host, records, calibration) for nid in will_run}
    status = 0
    for k, nb in enumerate(todo, 1):
        upstream = [fps[d] for d in sorted(nb.depends_on)]
        # the data as it is now (an earlier notebook of this run may have generated it)
        code = codes[nb.id]
        fp = fps[nb.id] = fingerprint(nb, settings_of[nb.id], upstream, code + data.of(data_dir, prof.name))
        state = records[nb.id]
        head = f"[{k}/{len(todo)}] {nb.name}"
        why = "executing ..."
        if _unchanged(nb, fp, state, forced, reports_dir):
            lost = missing_output(reports_dir, nb.id, state, report_index(reports_dir))
            if lost is None:
                print(f"{head}: up to date (ran {state.get('finished')}, {state.get('wall_seconds', 0):.1f} s), "
                      "skipped")
                # a failure since (of other inputs, or forced) is no longer what the report shows
                (reports_dir / "executed" / "failed" / f"{nb.name}.ipynb").unlink(missing_ok=True)
                continue
            why = f"{lost}: executing again ..."
        guess = expected.get(nb.id, eta.Estimate(None, "none"))
        left = [expected[n.id].seconds for n in todo[k - 1:] if n.id in expected]  # this one and those after it
        if guess.seconds is not None:
            why += f" (expected {guess.text()}; about {eta.minutes(sum(left))} left in all)" if None not in left \
                else f" (expected {guess.text()})"
        print(f"{head}: {why}", flush=True)
        bar = {"desc": f"{nb.id} (expected {eta.minutes(guess.seconds)})"} if progress and guess.seconds else progress
        started = now()
        try:
            seconds, index, runs = execute(nb, params, reports_dir, kernel, bar, overrides[nb.id])
        except NotebookFailed as e:
            sep = "\n  " if "\n" in str(e) else ": "  # a failing cell names the executed notebook on a second line
            print(f"{head}: FAILED{sep}{e}", file=sys.stderr)
            status = 1
            break
        # recorded with the data the notebook left (it may have generated it), so that a rerun finds it up to date
        fp = fps[nb.id] = fingerprint(nb, settings_of[nb.id], upstream, code + data.of(data_dir, prof.name))
        record = {"fingerprint": fp, "profile": prof.name, "device": dev, "seed": seed,
                  "started": started, "finished": now(), "wall_seconds": round(seconds, 2),
                  "git_commit": git_commit(paths.repo_root()), "title": nb.title,
                  "executed": f"executed/{nb.name}.ipynb", "machine": host, "limit_steps": limit_steps,
                  "deterministic": settings["deterministic"], "runs": runs,
                  "artifacts": sorted(a["id"] for a in index["artifacts"] if a["notebook"] == nb.id),
                  "estimated_seconds": None if guess.seconds is None else round(guess.seconds, 1),
                  "estimate_source": guess.source, "knobs": knobs_now[nb.id]}
        write_json(state_dir / f"{nb.id}.json", record)
        index["runs"][nb.id] = record
        write_json(reports_dir / ARTIFACTS, index)
        print(f"{head}: done in {seconds:.1f} s")
    if html and status == 0:
        from poselab.report.html import build_report

        with writing(reports_dir / "html"):
            index_html = build_report(reports_dir, notebooks_dir or paths.notebooks_dir())
        print(f"report: {index_html}")
    return status


class ReportLocked(RuntimeError):
    pass


@contextmanager
def report_lock(reports_dir: Path):
    """One run per reports folder at a time (``poselab.io.exclusive`` on ``reports/.lock`` for the whole run); a second
    run stops at once with a message that names the holder."""
    try:
        with exclusive(Path(reports_dir) / ".lock"):
            yield
    except Locked as e:
        raise ReportLocked(f"another poselab run (PID {e.holder}) is writing {reports_dir}; wait for it to finish, "
                           "or stop it, or use another --reports-dir") from None


_SAVED_STDERR: list[int] = []


def _interrupt(signum, frame):  # noqa: ARG001 (signal handler signature)
    """Ctrl-C and SIGTERM: silence the tracebacks that the kernel and the event loop print while they unwind (the
    real stderr is kept for the one line ``main`` prints), then stop as on KeyboardInterrupt."""
    if not _SAVED_STDERR:
        sys.stderr.flush()
        _SAVED_STDERR.append(os.dup(2))
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    raise KeyboardInterrupt


def _say_on_real_stderr(message: str) -> None:
    fd = _SAVED_STDERR[0] if _SAVED_STDERR else 2
    os.write(fd, (message + "\n").encode())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m poselab.report.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="default", help="smoke, default or full (default: default)")
    ap.add_argument("--notebooks", nargs="*", help="ids to run, e.g. 01 03 (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--reports-dir", type=Path)
    ap.add_argument("--notebooks-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--force", action="store_true", help="re-execute even if nothing changed")
    ap.add_argument("--no-html", action="store_true", help="skip the HTML export")
    ap.add_argument("--quiet", action="store_true", help="no per-cell progress bar")
    ap.add_argument("--debug", action="store_true", help="show Python tracebacks instead of one-line errors")
    ap.add_argument("--deterministic", action="store_true",
                    help="deterministic kernels on CUDA too (always on for the CPU; 10-30 %% slower on a GPU)")
    ap.add_argument("--default-knobs", action="store_true",
                    help="run every notebook with its committed knob values, whatever its parameters cell now says")
    ap.add_argument("--limit-steps", type=int, metavar="N",
                    help="stop every training run after N steps (exercise a profile's full-size code path quickly)")
    a = ap.parse_args(argv)
    try:
        get_profile(a.profile)
    except ValueError as e:
        ap.error(str(e))
    if a.limit_steps is not None and a.limit_steps < 1:
        ap.error("--limit-steps must be a positive number of steps")
    try:  # the device and GPUS (for torchrun) are checked before any notebook runs
        from poselab.report.notebook import resolve_device
        from poselab.training.distributed import gpus_note

        gpus_note(resolve_device(a.device))
    except ValueError as e:
        print(f"poselab: error: {e}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # a kill is shut down like Ctrl-C
    signal.signal(signal.SIGINT, _interrupt)
    try:
        with report_lock(paths.reports_dir(a.reports_dir)):
            return run(a.profile, a.notebooks, a.seed, a.device, a.data_dir, a.reports_dir, a.notebooks_dir,
                       a.force, not a.no_html, not a.quiet, a.limit_steps, a.deterministic, a.default_knobs)
    except KeyboardInterrupt:
        _say_on_real_stderr("poselab: interrupted; the notebook that was running was stopped and the report keeps its "
                            "previous state (rerun to continue: finished notebooks and trained models are reused)")
        os._exit(130)  # nothing left to clean up that would not print more tracebacks
    except Exception as e:
        if a.debug or not user_error(e):
            raise
        print(f"poselab: error: {one_line(e, paths.reports_dir(a.reports_dir))}", file=sys.stderr)
        return 2 if isinstance(e, ReportLocked | ManifestError) else 1


if __name__ == "__main__":
    sys.exit(main())
