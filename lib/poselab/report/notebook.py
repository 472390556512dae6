"""What every notebook does first: ``ctx = start("01", profile, device, seed, data_dir, reports_dir, stage_dir)``.

Under the runner (``stage_dir`` set) a notebook writes the report.  Run any other way (JupyterLab, nbconvert, papermill
by hand) it is *interactive*: it writes only under ``reports/interactive/``, trains new models under their own keys
there and only reads the report's.  ``with_knobs(settings, **knobs)`` applies a notebook's parameters-cell knobs."""

from __future__ import annotations

import os
import random
import types
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from poselab import findings as fd
from poselab import paths
from poselab.figures import use_style
from poselab.io import read_json
from poselab.profiles import Profile, get_profile
from poselab.report import registry as reg
from poselab.training.config import step_limit
from poselab.training.runs import RunStore

INTERACTIVE = "interactive"  # reports/interactive/: everything a notebook run outside the runner writes


class NotReady(Exception):
    """What a notebook needs is not there (the models of an upstream notebook for this profile): said in one line,
    without a traceback, in Jupyter (IPython shows ``_render_traceback_``'s lines instead of the traceback)."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def upstream_models(notebook: str, profile: str, reports_dir: Path) -> tuple[list[str], list[str]]:
    """(the notebooks whose trained models ``notebook`` loads and which are not in ``reports_dir`` for ``profile``, the
    other profiles that have all of them there), from the notebooks' metadata: ``depends_on`` and the run labels an
    upstream notebook ``trains``."""
    from poselab.report.plan import discover

    notebooks = discover(paths.notebooks_dir())
    upstream = [d for d in (notebooks[notebook].depends_on if notebook in notebooks else ()) if notebooks[d].trains]

    def has(prof: str, nid: str) -> bool:
        store = Path(reports_dir) / "checkpoints" / prof
        return any(next(store.glob(f"{label}-*/final.pt"), None) for label in notebooks[nid].trains)

    missing = [d for d in upstream if not has(profile, d)]
    others = [p.name for p in sorted((Path(reports_dir) / "checkpoints").glob("*"))
              if p.name != profile and all(has(p.name, d) for d in upstream)]
    return missing, others


def where_it_stands(ctx: Context) -> None:
    """An interactive run's first words: the profile, whether its data and the upstream notebooks' models are here,
    and this machine's last time for the notebook; ``NotReady`` (one line) when the models are missing, saying what to
    run or which profile has them."""
    nid, prof = ctx.notebook, ctx.profile_name
    data = ctx.data_dir / "synthetic" / prof
    made = "here" if any(data.glob("*/meta.json")) else "not made yet (the first cell that needs it generates it)"
    print(f"profile {prof!r}: synthetic data {made} ({_shown(data)})")
    try:
        record = read_json(ctx.reports_dir / reg.STATE / f"{nid}.json", {})
    except ValueError:
        record = {}
    if record.get("profile") == prof and record.get("wall_seconds") and not record.get("limit_steps"):
        print(f"this machine's last run of notebook {nid} on {prof!r} took {record['wall_seconds'] / 60:.1f} min "
              f"(finished {record.get('finished', '?')})")
    missing, others = upstream_models(nid, prof, ctx.reports_dir)
    if missing:
        other = f", or set profile = {others[0]!r} (its models are here)" if others else ""
        raise NotReady(f"the {prof} models of notebook(s) {', '.join(missing)} are not in {_shown(ctx.reports_dir)}: "
                       f"`make notebooks NB=\"{' '.join(missing)}\" PROFILE={prof}` trains them{other}")


def resolve_device(device: str = "auto") -> str:
    """'auto' -> 'cuda' when a GPU is available, else 'cpu'; asking for an absent GPU is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'")
    return device


# "1": deterministic kernels on CUDA too (python -m poselab.report.run --deterministic)
DETERMINISTIC_ENV = "POSELAB_DETERMINISTIC"


def deterministic_kernels(device: str) -> bool:
    """Whether torch runs deterministic algorithms: always on the CPU (it costs nothing there); on CUDA only when
    asked for (``POSELAB_DETERMINISTIC=1``), since it costs 10-30 % there (measured on an H100)."""
    return not str(device).startswith("cuda") or os.environ.get(DETERMINISTIC_ENV, "") == "1"


def seed_everything(seed: int, device: str = "cpu") -> bool:
    """Seed Python, NumPy and torch and set deterministic kernels as ``deterministic_kernels`` says; returns that."""
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (seeds third-party code that uses the global generator)
    torch.manual_seed(seed)
    deterministic = deterministic_kernels(device)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    return deterministic


@dataclass
class Context:
    notebook: str
    profile: Profile
    device: str
    seed: int
    data_dir: Path
    reports_dir: Path
    registry: reg.Registry
    interactive: bool = False  # run outside the runner: writes only under reports/interactive/
    found: list = field(default_factory=list)  # the findings decided so far (``verdict``)
    unresolved_because: tuple[str, str] | None = None  # (why, what would resolve it): see ``gate``

    @property
    def profile_name(self) -> str:
        return self.profile.name

    @property
    def synthetic(self):
        """The profile's synthetic data settings (``SyntheticConfig``)."""
        return self.profile.data

    @property
    def runs(self) -> RunStore:
        """Where this profile's trained models live, by label and key.  Interactive runs reuse the report's models
        read-only and train new ones under ``reports/interactive/checkpoints``."""
        report = self.reports_dir / "checkpoints" / self.profile.name
        if not self.interactive:
            return RunStore(report)
        return RunStore(self.reports_dir / INTERACTIVE / "checkpoints" / self.profile.name, read=(report,))

    # These return nothing, so that a notebook cell ending in a save shows the figure, not a path.
    def save_figure(self, fig, artifact_id: str, caption: str) -> None:
        self.registry.save_figure(fig, artifact_id, caption)

    def save_table(self, df, artifact_id: str, caption: str, index: bool = True) -> None:
        self.registry.save_table(df, artifact_id, caption, index)

    def headline(self, name: str, value, unit: str = "", note: str = "") -> None:
        self.registry.headline(name, value, unit, note)

    def findings(self, found: list) -> None:
        """Record the study's findings (``poselab.findings.Finding``) for the report's ledger."""
        self.registry.findings([asdict(f) for f in found])

    def gate(self, why: str, resolve: str) -> None:
        """From now on every verdict of this notebook is "not resolved" because of ``why`` (a checkpoint that fails
        its accuracy gate), with what would resolve it."""
        self.unresolved_because = (why, resolve)

    def verdict(self, finding: fd.Finding) -> None:
        """Record one finding for the ledger (with the notebook's others decided so far) and show its verdict under
        the table that decides it (not resolved after a failed ``gate``)."""
        from IPython.display import Markdown, display

        if self.unresolved_because:
            (finding,) = fd.not_resolved([finding], *self.unresolved_because)
        self.found = [f for f in self.found if f.claim != finding.claim] + [finding]  # a cell run twice replaces
        self.findings(self.found)
        display(Markdown(fd.markdown([finding])))

    def summary(self) -> None:
        """The notebook's closing list: every verdict it decided, each with its test and interval."""
        from IPython.display import Markdown, display

        display(Markdown(fd.markdown(self.found) if self.found else "No claim was decided in this run."))

    def record_trainings(self, results: dict) -> None:
        """Record how each model was trained (label -> an object with ``summary()``: precision, threads, ...)."""
        self.registry.trainings({label: result.summary() for label, result in results.items()})


def _shown(path: Path) -> str:
    """A path as the notebook prints it: relative to the repository when inside it (no machine folders in the
    report), else as given."""
    try:
        return Path(path).resolve().relative_to(paths.repo_root().resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def interactive_dir(reports_dir: Path, notebook: str) -> Path:
    return Path(reports_dir) / INTERACTIVE / notebook


def start(
    notebook: str,
    profile: str = "default",
    device: str = "auto",
    seed: int = 0,
    data_dir: str | None = None,
    reports_dir: str | None = None,
    stage_dir: str | None = None,
) -> Context:
    """Set up a notebook run: seeds, device, figure style and the artifact registry behind ``Context``.  Without
    ``stage_dir`` (given by the runner only) the run is interactive and writes under ``reports/interactive/``."""
    prof = get_profile(profile)
    dev = resolve_device(device)
    deterministic = seed_everything(seed, dev)
    use_style()
    rdir = paths.reports_dir(reports_dir)
    interactive = not stage_dir
    out = interactive_dir(rdir, notebook) if interactive else Path(stage_dir)
    registry = reg.Registry(notebook, out, prof.name, dev, seed)
    ctx = Context(notebook, prof, dev, seed, paths.data_dir(data_dir), rdir, registry, interactive)
    print(f"poselab notebook {notebook}: profile={prof.name} device={dev} seed={seed} "
          f"data={_shown(ctx.data_dir)} reports={_shown(rdir)} commit={registry.meta['git_commit']}")
    if interactive:
        print(f"Interactive run (not under `make report`): figures, tables and new models go to {_shown(out)} and "
              f"{_shown(ctx.runs.write)}; the report's models are only read, the report is left as it is.")
        where_it_stands(ctx)
    if not deterministic:
        print(f"Deterministic kernels are off on {dev} (faster): the numbers are not bitwise reproducible from run to "
              f"run; {DETERMINISTIC_ENV}=1 (python -m poselab.report.run --deterministic) turns them on.")
    if prof.code_check:
        print(f"CODE CHECK: profile {prof.name} runs every size of the paper-scale profile with capped counts (a few "
              "training steps, a handful of people); the numbers below exercise the code, they are not results.")
    if (limit := step_limit()) is not None:
        print(f"LIMIT_STEPS={limit}: every training run stops after {limit} steps; the numbers below exercise the "
              "code, they are not results.")
    return ctx


def _fits(value, hint) -> bool:
    """Whether ``value`` is of the declared type ``hint`` (the types of a study's settings: whole numbers, numbers,
    strings, booleans, tuples of them, ``X | None``); a bool is not a number."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(_fits(v, a) for v, a in zip(value, args, strict=True))
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint) if isinstance(hint, type) else True


def _kind(hint) -> str:
    """A declared type in words, for a message."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_kind(a) for a in args)
    if typing.get_origin(hint) is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_kind(args[0]).removeprefix('a ')}s"
        if len(set(args)) == 1:
            return f"a list of {len(args)} {_kind(args[0]).removeprefix('a ')}s"
        return f"a list of {len(args)}: " + ", ".join(_kind(a) for a in args)
    return {int: "a whole number", float: "a number", str: "a string", bool: "a bool",
            type(None): "None"}.get(hint, getattr(hint, "__name__", str(hint)))


def with_knobs(settings, **knobs):
    """``settings`` (a study's frozen dataclass) with each knob that is not None put in place of the profile's value;
    lists become tuples (papermill passes lists).  A knob of another type than its setting declares, or a value the
    settings refuse (their ``__post_init__``), is one ``ValueError`` line naming the knob, its value and what is
    allowed.  Prints what changed, so an executed notebook says it."""
    names = {f.name for f in fields(settings)}
    unknown = [k for k in knobs if k not in names]
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown} of {type(settings).__name__}; its settings: {sorted(names)}")
    changed = {k: tuple(v) if isinstance(v, list) else v for k, v in knobs.items() if v is not None}
    hints = typing.get_type_hints(type(settings))
    for k, v in changed.items():
        if not _fits(v, hints[k]):
            knob = getattr(settings, "KNOBS", {}).get(k, k)
            given = "" if isinstance(v, tuple) else ", not a decimal number" if isinstance(v, float) \
                else f", not {_kind(type(v))}"  # '[1]': a string, not a list
            raise ValueError(f"{knob}={knobs[k]!r} ({type(settings).__name__}.{k}): must be {_kind(hints[k])}{given} "
                             f"(the profile's value: {getattr(settings, k)!r})")
    changed = {k: v for k, v in changed.items() if v != getattr(settings, k)}
    out = replace(settings, **changed)  # the settings check the values (``poselab.studies.require``)
    if changed:
        print("knobs: " + ", ".join(f"{k}={v!r} (profile: {getattr(settings, k)!r})" for k, v in changed.items()))
    return out
