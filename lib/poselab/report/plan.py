"""The numbered notebooks and the order they run in: each declares what it depends on in its metadata
(``metadata.poselab.depends_on``); the runner executes a request plus everything upstream of it, and the HTML
report lists them in the same terms.

A notebook is identified by its code (``identity``): the source of its code and markdown cells and its poselab
metadata, not the outputs, execution counts or notebook metadata that JupyterLab writes when it saves a notebook, so
opening, running and saving one without changing a cell leaves it up to date.  Its knobs are the assignments of its
``parameters`` cell; ``knob_changes`` compares them with the values committed in git, the report's defaults.
"""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NotebookInfo:
    id: str  # "01"
    name: str  # "01_data_prep"
    path: Path
    depends_on: tuple[str, ...]
    title: str
    trains: tuple[str, ...] = ()  # the labels of the runs it trains that other notebooks load (``metadata.poselab``)


def _title(nb: dict) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("# ").strip()
    return ""


def identity(path: Path) -> str:
    """A hash of what the notebook computes: each cell's type and source (code and markdown), and its poselab
    metadata (its dependencies).  Outputs, execution counts, cell ids and other metadata do not count."""
    nb = json.loads(Path(path).read_text())
    cells = [(c.get("cell_type"), "".join(c.get("source", ""))) for c in nb.get("cells", [])
             if c.get("cell_type") in ("code", "markdown")]
    body = json.dumps({"cells": cells, "poselab": nb.get("metadata", {}).get("poselab", {})}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def knobs(source: str) -> dict[str, object]:
    """The values a parameters cell assigns (name -> a Python literal; a value that is not a literal is its source)."""
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                out[node.targets[0].id] = ast.unparse(node.value)
    return out


def _parameters_cell(nb: dict) -> str:
    for c in nb.get("cells", []):
        if c.get("cell_type") == "code" and "parameters" in c.get("metadata", {}).get("tags", []):
            return "".join(c.get("source", ""))
    return ""


RUNNER = ("profile", "device", "seed", "data_dir", "reports_dir", "stage_dir")  # set by the runner, not knobs


def knob_changes(path: Path) -> dict[str, tuple[object, object]] | None:
    """The knobs of a notebook's parameters cell that differ from the values committed in git (the report's
    defaults): name -> (committed, now); None when git cannot tell (no repository, or the notebook is not
    committed)."""
    path = Path(path).resolve()
    try:
        rel = subprocess.run(["git", "ls-files", "--full-name", "--error-unmatch", path.name], cwd=path.parent,
                             capture_output=True, text=True, check=True).stdout.strip()
        committed = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=path.parent, capture_output=True, text=True,
                                   check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    then, now = (knobs(_parameters_cell(json.loads(text))) for text in (committed, path.read_text()))
    return {k: (then.get(k), now.get(k)) for k in sorted(set(then) | set(now))
            if k not in RUNNER and then.get(k) != now.get(k)}


def committed_knobs(path: Path) -> dict[str, object]:
    """The committed values of the knobs that differ now (what ``--default-knobs`` runs the notebook with)."""
    return {k: then for k, (then, _) in (knob_changes(path) or {}).items()}


def knobs_text(changes: dict[str, tuple[object, object]]) -> str:
    """"person = 1, joint = 'l_ankle'" for the knobs that differ."""
    return ", ".join(f"{k} = {now!r}" for k, (_, now) in changes.items())


def discover(notebooks_dir: Path) -> dict[str, NotebookInfo]:
    """The numbered notebooks in a folder, by id."""
    found = {}
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        meta = nb.get("metadata", {}).get("poselab", {})
        nid = path.name[:2]
        found[nid] = NotebookInfo(nid, path.stem, path, tuple(meta.get("depends_on", [])), _title(nb),
                                  tuple(meta.get("trains", [])))
    return found


def plan(requested: list[str] | None, notebooks: dict[str, NotebookInfo]) -> list[NotebookInfo]:
    """Requested notebooks plus everything upstream of them, in dependency order."""
    wanted = list(notebooks) if not requested else [r.zfill(2) for r in requested]
    unknown = [w for w in wanted if w not in notebooks]
    if unknown:
        raise SystemExit(f"unknown notebook(s) {unknown}; available: {', '.join(notebooks)}")
    order: list[str] = []

    def visit(nid: str, trail: tuple[str, ...]) -> None:
        if nid in trail:
            raise SystemExit(f"notebook dependency cycle: {' -> '.join((*trail, nid))}")
        if nid in order:
            return
        if nid not in notebooks:
            raise SystemExit(f"notebook {trail[-1]} depends on {nid}, which does not exist")
        for dep in sorted(notebooks[nid].depends_on):
            visit(dep, (*trail, nid))
        order.append(nid)

    for nid in sorted(wanted):
        visit(nid, ())
    return [notebooks[n] for n in order]
