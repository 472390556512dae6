"""The artifact registry: every figure, table and headline number a notebook produces.

``Registry.save_figure(fig, "F01.1", caption)`` writes ``figures/F01.1.png``; ``save_table(df, "T01.1", caption)``
writes ``tables/T01.1.csv``; both are recorded in ``artifacts.json`` with the notebook, profile, device, seed, git
commit and time.  ``headline(...)`` records a number for the report's front page.  Notebooks reach it through their
``poselab.report.notebook.Context`` only (``ctx.save_figure``...), the one way to save an artifact.

Under the runner, a notebook writes into a staging folder that is merged into the report
only when the whole notebook succeeded, so a failing run never leaves a half-updated report.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from pathlib import Path

from poselab.io import git_commit, now, read_json, write_json, writing

ARTIFACTS = "artifacts.json"
_ID = re.compile(r"^(?P<kind>[FT])(?P<nb>\d\d)\.(?P<n>\d+)$")


def empty_index() -> dict:
    return {"artifacts": [], "headlines": [], "trainings": [], "findings": [], "runs": {}}


class Registry:
    """Records one notebook's artifacts.  ``out_dir`` is the report or a staging folder."""

    def __init__(self, notebook: str, out_dir: Path, profile: str, device: str, seed: int):
        self.notebook = notebook
        self.out_dir = Path(out_dir)
        self.meta = {"notebook": notebook, "profile": profile, "device": device, "seed": seed,
                     "git_commit": git_commit(Path(__file__).parent)}

    def _check_id(self, artifact_id: str, kind: str) -> None:
        m = _ID.match(artifact_id)
        if not m or m["kind"] != kind:
            raise ValueError(f"{artifact_id!r} is not a {'figure' if kind == 'F' else 'table'} id like "
                             f"'{kind}{self.notebook}.1'")
        if m["nb"] != self.notebook:
            raise ValueError(f"{artifact_id!r} belongs to notebook {m['nb']}, not {self.notebook}")

    def _record(self, key: str, entries: list[dict], same) -> None:
        """Add ``entries`` under ``key`` of the index, dropping the recorded ones that ``same`` matches."""
        index_path = self.out_dir / ARTIFACTS
        index = read_json(index_path, empty_index())
        index[key] = [e for e in index.get(key, []) if not same(e)] + entries
        write_json(index_path, index)

    def save_figure(self, fig, artifact_id: str, caption: str, dpi: int = 150) -> Path:
        """Save a matplotlib figure as figures/<id>.png and record it."""
        self._check_id(artifact_id, "F")
        path = self.out_dir / "figures" / f"{artifact_id}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        with writing(path):
            fig.savefig(path, dpi=dpi, bbox_inches="tight")
        entry = {"id": artifact_id, "kind": "figure", "path": f"figures/{artifact_id}.png",
                 "caption": caption, **self.meta, "created": now()}
        self._record("artifacts", [entry], lambda e: e["id"] == artifact_id)
        return path

    def save_table(self, df, artifact_id: str, caption: str, index: bool = True) -> Path:
        """Save a DataFrame as tables/<id>.csv and record it."""
        self._check_id(artifact_id, "T")
        path = self.out_dir / "tables" / f"{artifact_id}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        if df.columns.nlevels > 1:  # one header row keeps the CSV readable by any tool
            df = df.set_axis([" · ".join(str(v) for v in col if str(v)) for col in df.columns], axis=1)
        with writing(path):
            df.to_csv(path, index=index)
        entry = {"id": artifact_id, "kind": "table", "path": f"tables/{artifact_id}.csv",
                 "caption": caption, "rows": len(df), **self.meta, "created": now()}
        self._record("artifacts", [entry], lambda e: e["id"] == artifact_id)
        return path

    def headline(self, name: str, value: float | int | str, unit: str = "", note: str = "") -> None:
        """A number for the report's front page, e.g. ``headline("PCKh@0.5, 2 stacks", 0.83)``."""
        if hasattr(value, "item"):
            value = value.item()  # numpy scalar -> Python
        entry = {"notebook": self.notebook, "name": name, "value": value, "unit": unit, "note": note,
                 "profile": self.meta["profile"], "created": now()}
        self._record("headlines", [entry], lambda e: e["notebook"] == self.notebook and e["name"] == name)

    def trainings(self, summaries: dict[str, dict]) -> None:
        """Models the notebook trained or loaded (label -> status, epochs, seconds, precision, threads, device)."""
        entries = [{"notebook": self.notebook, "label": label, **summary, "profile": self.meta["profile"]}
                   for label, summary in summaries.items()]
        self._record("trainings", entries, lambda e: e["notebook"] == self.notebook and e["label"] in summaries)

    def training(self, label: str, summary: dict) -> None:
        """One model the notebook trained or loaded."""
        self.trainings({label: summary})

    def findings(self, rows: list[dict]) -> None:
        """The notebook's findings (``poselab.findings.Finding`` as dicts), replacing the ones it recorded before."""
        entries = [{"notebook": self.notebook, **row, "profile": self.meta["profile"]} for row in rows]
        self._record("findings", entries, lambda e: e["notebook"] == self.notebook)


ENTRIES = ("artifacts", "headlines", "trainings", "findings")  # what a notebook adds to the index
STATE = ".state"  # per-notebook records under reports/: NN.json (the run), NN.index.json (its entries)


_PATH = re.compile(r"^(figures/F\d\d\.\d+\.png|tables/T\d\d\.\d+\.csv)$")  # where an artifact may lie


def _is_artifact(entry: dict) -> bool:
    return all(isinstance(entry.get(k), str) for k in ("notebook", "kind", "id", "path")) \
        and _PATH.match(entry["path"]) is not None


def _index_problem(index) -> str | None:
    """Why ``index`` (parsed JSON) is not a report index, as a phrase, or None when it is one: a mapping with a list of
    entries (mappings naming their notebook) under each of ``ENTRIES``, the runs a mapping, every artifact with its
    kind, id and a path inside ``figures/`` or ``tables/`` (a path elsewhere would be deleted when its notebook runs
    again)."""
    if not isinstance(index, dict):
        return f"a JSON {type(index).__name__}, not a mapping"
    for key in ENTRIES:
        entries = index.get(key)
        if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("notebook"), str)
                                                    for e in entries):
            return f"without a list of notebook entries under {key!r}"
    if not isinstance(index.get("runs"), dict):
        return "without a mapping under 'runs'"
    if bad := next((e for e in index["artifacts"] if not _is_artifact(e)), None):
        return f"with an artifact entry that is not one ({str(bad)[:60]})"
    return None


def load_index(reports_dir: Path) -> dict:
    """``reports/artifacts.json``; when it is missing, unreadable (truncated, not JSON) or not an index (``{}``,
    ``null``, a list), rebuilt from the per-notebook records under ``reports/.state`` that every finished notebook
    leaves, and written back.  A report without any record (a new one) has an empty index."""
    path = Path(reports_dir) / ARTIFACTS
    state = Path(reports_dir) / STATE
    try:
        index = json.loads(path.read_text())
        problem = _index_problem(index)
    except FileNotFoundError:
        problem = "missing"
    except ValueError:  # not JSON, or not text
        problem = "not JSON"
    if problem is None:
        return index
    parts, records = sorted(state.glob("*.index.json")), sorted(state.glob("[0-9][0-9].json"))
    if problem == "missing" and not parts and not records:
        return empty_index()
    index = empty_index()
    for part in parts:
        try:
            entries = json.loads(part.read_text())
        except ValueError:
            continue
        if isinstance(entries, dict):
            for key in ENTRIES:
                index[key] += [e for e in entries.get(key) or []
                               if isinstance(e, dict) and isinstance(e.get("notebook"), str)]
    for run in records:
        try:
            index["runs"][run.stem] = json.loads(run.read_text())
        except ValueError:
            continue
    index["artifacts"] = [e for e in index["artifacts"] if _is_artifact(e)]
    index["artifacts"].sort(key=lambda e: (e["notebook"], e["kind"], e["id"]))
    try:
        write_json(path, index)
    except OSError:  # a read-only report: the index is rebuilt again next time
        pass
    warnings.warn(f"{path} was {problem} and has been rebuilt from {state}", stacklevel=2)
    return index


def merge_stage(stage_dir: Path, reports_dir: Path, notebook: str) -> dict:
    """Move a finished notebook's staged files into the report; replace its old entries (and keep a copy of them
    under ``reports/.state`` from which a damaged index can be rebuilt).  The old files are moved aside first and put
    back if anything fails (a read-only folder, a full disk): the report keeps its previous outputs and index."""
    stage_dir, reports_dir = Path(stage_dir), Path(reports_dir)
    staged = read_json(stage_dir / ARTIFACTS, empty_index())
    index = load_index(reports_dir)
    part = reports_dir / STATE / f"{notebook}.index.json"
    previous_part = part.read_bytes() if part.is_file() else None
    aside, placed = [], []  # (old file, where it was moved); new files moved into the report
    try:
        for entry in [e for e in index["artifacts"] if e["notebook"] == notebook]:
            old = reports_dir / entry["path"]
            if old.exists():
                kept = stage_dir / "previous" / entry["path"]
                kept.parent.mkdir(parents=True, exist_ok=True)
                _move(old, kept, old)
                aside.append((old, kept))
        for entry in staged["artifacts"]:
            target = reports_dir / entry["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            _move(stage_dir / entry["path"], target, target)
            placed.append(target)
        index["artifacts"] = [e for e in index["artifacts"] if e["notebook"] != notebook] + staged["artifacts"]
        for key in ENTRIES[1:]:
            index[key] = [e for e in index.get(key, []) if e["notebook"] != notebook] + staged.get(key, [])
        index["artifacts"].sort(key=lambda e: (e["notebook"], e["kind"], e["id"]))
        write_json(part, {key: staged.get(key, []) for key in ENTRIES})
        write_json(reports_dir / ARTIFACTS, index)
    except BaseException:
        _put_back(placed, aside, part, previous_part)
        raise
    return index


def _move(src: Path, dst: Path, shown: Path) -> None:
    """``shutil.move`` (a rename, or a copy where the report's folder is on another file system, e.g. a linked
    ``reports/tables``); an error names the report's file ``shown`` (not the staging copy), e.g. a read-only folder."""
    try:
        shutil.move(src, dst)
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(shown)) from None  # PermissionError stays one (OSError picks by errno)


def _put_back(placed: list[Path], aside: list[tuple[Path, Path]], part: Path, previous_part: bytes | None) -> None:
    """Undo a merge that failed part way: remove the new files, return the old ones, restore the notebook's record
    of its entries (each step as far as it goes: the error that stopped the merge is the one reported)."""
    for target in placed:
        try:
            target.unlink(missing_ok=True)
        except OSError:
            pass
    for old, kept in reversed(aside):
        try:
            os.replace(kept, old)
        except OSError:
            pass
    try:
        if previous_part is None:
            part.unlink(missing_ok=True)
        else:
            part.write_bytes(previous_part)
    except OSError:
        pass
