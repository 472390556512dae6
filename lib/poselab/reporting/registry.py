"""The artifact registry: every figure, table and headline number a notebook produces.

``Registry.save_figure(fig, "F01.1", caption)`` writes ``figures/F01.1.png``; ``save_table(df, "T01.1", caption)``
writes ``tables/T01.1.csv``; both are recorded in ``artifacts.json`` with the notebook, profile, device, seed, git
commit and time.  ``headline(...)`` records a number for the report's front page.  Notebooks reach it through their
``poselab.notebook.Context`` only (``ctx.save_figure``...), the one way to save an artifact.

Under the runner, a notebook writes into a staging folder that is merged into the report
only when the whole notebook succeeded, so a failing run never leaves a half-updated report.
"""

from __future__ import annotations

import json
import os
import re
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


def load_index(reports_dir: Path) -> dict:
    """``reports/artifacts.json``; when it is unreadable (truncated, not JSON), rebuilt from the per-notebook
    records under ``reports/.state`` that every finished notebook leaves, and written back."""
    path = Path(reports_dir) / ARTIFACTS
    try:
        return read_json(path, empty_index())
    except ValueError:
        pass
    index = empty_index()
    state = Path(reports_dir) / STATE
    for part in sorted(state.glob("*.index.json")):
        try:
            entries = json.loads(part.read_text())
        except ValueError:
            continue
        for key in ENTRIES:
            index[key] += entries.get(key, [])
    for run in sorted(state.glob("[0-9][0-9].json")):
        try:
            index["runs"][run.stem] = json.loads(run.read_text())
        except ValueError:
            continue
    index["artifacts"].sort(key=lambda e: (e["notebook"], e["kind"], e["id"]))
    write_json(path, index)
    warnings.warn(f"{path} was unreadable and has been rebuilt from {state}", stacklevel=2)
    return index


def merge_stage(stage_dir: Path, reports_dir: Path, notebook: str) -> dict:
    """Move a finished notebook's staged files into the report; replace its old entries (and keep a copy of them
    under ``reports/.state`` from which a damaged index can be rebuilt)."""
    stage_dir, reports_dir = Path(stage_dir), Path(reports_dir)
    staged = read_json(stage_dir / ARTIFACTS, empty_index())
    index = load_index(reports_dir)
    for entry in [e for e in index["artifacts"] if e["notebook"] == notebook]:
        (reports_dir / entry["path"]).unlink(missing_ok=True)
    for entry in staged["artifacts"]:
        target = reports_dir / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage_dir / entry["path"], target)
    index["artifacts"] = [e for e in index["artifacts"] if e["notebook"] != notebook] + staged["artifacts"]
    for key in ENTRIES[1:]:
        index[key] = [e for e in index.get(key, []) if e["notebook"] != notebook] + staged.get(key, [])
    index["artifacts"].sort(key=lambda e: (e["notebook"], e["kind"], e["id"]))
    write_json(reports_dir / STATE / f"{notebook}.index.json",
               {key: staged.get(key, []) for key in ENTRIES})
    write_json(reports_dir / ARTIFACTS, index)
    return index
