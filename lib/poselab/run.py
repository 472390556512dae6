"""Execute the report's notebooks with papermill: ``python -m poselab.run --profile smoke``.

* Notebooks are ``notebooks/NN_name.ipynb``; a notebook lists the notebooks it reads
  checkpoints from in its metadata (``{"poselab": {"depends_on": ["02"]}}``), and the runner
  runs upstream notebooks first.
* A notebook is re-executed only when its inputs changed: the notebook itself, the
  ``poselab`` sources its imports reach (``poselab.code_digest``), the profile, seed and device,
  the data manifest, the synthetic data's generation fingerprints, the real data and the official checkpoints on disk,
  or an upstream notebook.  ``--force`` re-executes regardless.
* Each notebook writes its figures and tables into a staging folder; they replace the
  previous ones only when the whole notebook succeeded.  On a failing cell the runner stops,
  names the notebook and the cell, and exits non-zero; the previous report stays as it was.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from poselab import machine, paths
from poselab.code_digest import digest, notebook_code, reachable_sources
from poselab.data.manifest import ManifestError
from poselab.io import git_commit, now, read_json, write_json
from poselab.plan import NotebookInfo, discover, plan
from poselab.profiles import get_profile
from poselab.reporting.registry import ARTIFACTS, STATE, merge_stage
from poselab.training.config import LIMIT_ENV

KERNEL_NAME = "poselab"


def source_hash(nb: NotebookInfo) -> str:
    """Hash of the poselab sources that the notebook's imports reach."""
    return digest(reachable_sources(notebook_code(nb.path)))


class DataState:
    """Hash of the manifest, the synthetic-data generator, the recorded digests of the profile's synthetic sets on
    disk, and the size and modification time of real data on disk.  A notebook that reads the data re-executes when
    any of them changes, even if its own imports never reach the generator.  What cannot change during a run (the
    manifest, the generator's source) is read once; ``of(data_dir, profile)`` reads what notebooks may write."""

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

        h = hashlib.sha256(self.fixed.encode())
        for meta in sorted((Path(data_dir) / "synthetic" / profile).glob("*/meta.json")):
            try:
                h.update(content_digest(json.loads(meta.read_text()).get("files", {})).encode())
            except ValueError:
                h.update(b"unreadable")
        for rel in self.real:
            p = Path(data_dir) / rel
            if p.exists():
                st = p.stat()
                h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
        return h.hexdigest()


def fingerprint(nb: NotebookInfo, settings: dict, upstream: list[str], shared: str) -> str:
    h = hashlib.sha256(nb.path.read_bytes())
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
    spec = {"argv": [sys.executable, "-m", "poselab.kernel", "-f", "{connection_file}",
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


def one_line(e: BaseException) -> str:
    """An error as one line (a permission error names its file and says what to do)."""
    if isinstance(e, PermissionError):
        return f"cannot write {e.filename}: permission denied (make the folder writable or use another --reports-dir)"
    return " ".join(str(e).split()) or type(e).__name__


# Errors a user can meet and fix; anything else is a bug and keeps its traceback.
USER_ERRORS = (NotebookFailed, ManifestError, ValueError, FileNotFoundError, PermissionError, OSError, RuntimeError)


def execute(nb: NotebookInfo, params: dict, reports_dir: Path, kernel: str, progress: bool) -> tuple[float, dict]:
    """Run one notebook via papermill into a staging area; merge on success.  Returns the seconds it took and the
    report's index with its entries merged in."""
    import papermill as pm

    (reports_dir / ".staging").mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f"{nb.id}-", dir=reports_dir / ".staging"))  # never shared
    executed = reports_dir / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    out = stage / f"{nb.name}.ipynb"
    start = time.perf_counter()
    # Progress bars inside the kernel would only add carriage-return noise to the executed notebook;
    # the kernel inherits this variable (tqdm reads it when it is imported there).
    os.environ["TQDM_DISABLE"] = "1"
    try:
        pm.execute_notebook(
            str(nb.path), str(out), parameters={**params, "stage_dir": str(stage)}, kernel_name=kernel,
            cwd=str(nb.path.parent), progress_bar=progress, request_save_on_cell_execute=True,
        )
    except BaseException as e:
        if not isinstance(e, pm.PapermillExecutionError):  # interrupted or broken: leave the report as it was
            shutil.rmtree(stage, ignore_errors=True)
            _remove_if_empty(stage.parent)
            raise
        failed = executed / "failed"
        failed.mkdir(exist_ok=True)
        if out.exists():
            shutil.copy(out, failed / out.name)
        shutil.rmtree(stage, ignore_errors=True)
        _remove_if_empty(stage.parent)
        first_line = next((ln for ln in (e.source or "").splitlines() if ln.strip()), "")
        raise NotebookFailed(
            f"notebook {nb.name} failed in cell {e.cell_index} of the executed notebook (execution count "
            f"{e.exec_count}, starting {first_line[:60]!r}): {e.ename}: {e.evalue}\n"
            f"  the executed notebook with the traceback: {failed / out.name}"
        ) from None
    finally:
        os.environ.pop("TQDM_DISABLE", None)
    seconds = time.perf_counter() - start
    index = merge_stage(stage, reports_dir, nb.id)
    os.replace(out, executed / out.name)
    (executed / "failed" / out.name).unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)
    _remove_if_empty(stage.parent)
    return seconds, index


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
) -> int:
    """Execute notebooks (and their upstream ones) that are out of date; 0 on success."""
    from poselab.notebook import DETERMINISTIC_ENV, deterministic_kernels, resolve_device
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
    status = 0
    for k, nb in enumerate(todo, 1):
        upstream = [fps[d] for d in sorted(nb.depends_on)]
        # the data as it is now (an earlier notebook of this run may have generated it)
        code = source_hash(nb)  # the runner does not change the sources: hashed once per notebook
        fp = fps[nb.id] = fingerprint(nb, settings, upstream, code + data.of(data_dir, prof.name))
        try:
            state = read_json(state_dir / f"{nb.id}.json", {})
        except ValueError:
            state = {}  # an unreadable record: the notebook runs again
        executed = reports_dir / "executed" / f"{nb.name}.ipynb"
        head = f"[{k}/{len(todo)}] {nb.name}"
        if not force and state.get("fingerprint") == fp and executed.exists():
            print(f"{head}: up to date (ran {state.get('finished')}, {state.get('wall_seconds', 0):.1f} s), skipped")
            continue
        print(f"{head}: executing ...", flush=True)
        started = now()
        try:
            seconds, index = execute(nb, params, reports_dir, kernel, progress)
        except NotebookFailed as e:
            print(f"{head}: FAILED\n  {e}", file=sys.stderr)
            status = 1
            break
        # recorded with the data the notebook left (it may have generated it), so that a rerun finds it up to date
        fp = fps[nb.id] = fingerprint(nb, settings, upstream, code + data.of(data_dir, prof.name))
        record = {"fingerprint": fp, "profile": prof.name, "device": dev, "seed": seed,
                  "started": started, "finished": now(), "wall_seconds": round(seconds, 2),
                  "git_commit": git_commit(paths.repo_root()), "title": nb.title,
                  "executed": f"executed/{nb.name}.ipynb", "machine": host, "limit_steps": limit_steps,
                  "deterministic": settings["deterministic"]}
        write_json(state_dir / f"{nb.id}.json", record)
        index["runs"][nb.id] = record
        write_json(reports_dir / ARTIFACTS, index)
        print(f"{head}: done in {seconds:.1f} s")
    if html and status == 0:
        from poselab.reporting.html import build_report

        index_html = build_report(reports_dir, notebooks_dir or paths.notebooks_dir())
        print(f"report: {index_html}")
    return status


class ReportLocked(RuntimeError):
    pass


@contextmanager
def report_lock(reports_dir: Path):
    """One run per reports folder at a time: an exclusive lock on ``reports/.lock`` (with the holder's PID in it)
    for the whole run; a second run stops at once with a message that names the holder."""
    import fcntl

    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / ".lock"
    fh = open(path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        raise ReportLocked(f"another poselab run (PID {holder}) is writing {reports_dir}; wait for it to finish, "
                           "or stop it, or use another --reports-dir") from None
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()  # releases the lock


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
    ap = argparse.ArgumentParser(prog="python -m poselab.run", description=__doc__.split("\n\n")[0])
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
    ap.add_argument("--limit-steps", type=int, metavar="N",
                    help="stop every training run after N steps (exercise a profile's full-size code path quickly)")
    a = ap.parse_args(argv)
    try:
        get_profile(a.profile)
    except ValueError as e:
        ap.error(str(e))
    if a.limit_steps is not None and a.limit_steps < 1:
        ap.error("--limit-steps must be a positive number of steps")
    signal.signal(signal.SIGTERM, _interrupt)  # a kill is shut down like Ctrl-C
    signal.signal(signal.SIGINT, _interrupt)
    try:
        with report_lock(paths.reports_dir(a.reports_dir)):
            return run(a.profile, a.notebooks, a.seed, a.device, a.data_dir, a.reports_dir, a.notebooks_dir,
                       a.force, not a.no_html, not a.quiet, a.limit_steps, a.deterministic)
    except KeyboardInterrupt:
        _say_on_real_stderr("poselab: interrupted; the notebook that was running was stopped and the report keeps its "
                            "previous state (rerun to continue: finished notebooks and trained models are reused)")
        os._exit(130)  # nothing left to clean up that would not print more tracebacks
    except Exception as e:
        if a.debug or not isinstance(e, USER_ERRORS):
            raise
        print(f"poselab: error: {one_line(e)}", file=sys.stderr)
        return 2 if isinstance(e, ReportLocked | ManifestError) else 1


if __name__ == "__main__":
    sys.exit(main())
