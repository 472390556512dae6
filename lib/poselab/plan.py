"""The numbered notebooks and the order they run in: each declares what it depends on in its metadata
(``metadata.poselab.depends_on``); the runner executes a request plus everything upstream of it, and the HTML
report lists them in the same terms."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NotebookInfo:
    id: str  # "01"
    name: str  # "01_data_prep"
    path: Path
    depends_on: tuple[str, ...]
    title: str


def _title(nb: dict) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("# ").strip()
    return ""


def discover(notebooks_dir: Path) -> dict[str, NotebookInfo]:
    """The numbered notebooks in a folder, by id."""
    found = {}
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        meta = nb.get("metadata", {}).get("poselab", {})
        nid = path.name[:2]
        found[nid] = NotebookInfo(nid, path.stem, path, tuple(meta.get("depends_on", [])), _title(nb))
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
