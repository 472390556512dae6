"""What a finished notebook left in the report, and whether it is all still there: the runner's up-to-date test.

Under the runner every finished run a notebook trains or loads is listed in a file (``poselab.training.runs.USED_ENV``);
the runner records that list with the notebook (``used_runs``), and the ids of the figures and tables it left.  A
notebook whose inputs are unchanged is skipped only when ``missing_output`` finds each of its recorded checkpoints,
figures and tables listed in the report's index, on disk and readable; a checkpoint that no longer loads is set aside
(as the trainers do) so that the re-executed notebook trains it again.
"""

from __future__ import annotations

import csv
from pathlib import Path

from poselab.checkpoints import CheckpointError, plain_reason, set_aside
from poselab.data.manifest import unreadable_images
from poselab.report.registry import ARTIFACTS
from poselab.training.runs import load_run_file


def used_runs(log: Path, reports_dir: Path) -> list[str]:
    """The finished runs listed in ``log`` (absolute paths, one a line), without repeats, relative to ``reports_dir``
    where they lie inside it."""
    try:
        lines = Path(log).read_text().splitlines()
    except FileNotFoundError:
        return []
    root = Path(reports_dir).resolve()
    found = []
    for line in dict.fromkeys(ln.strip() for ln in lines if ln.strip()):
        p = Path(line)
        found.append(p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p))
    return sorted(found)


def _checkpoint_problem(path: Path, shown: str) -> str | None:
    if not path.is_file():
        return f"its checkpoint {shown} is missing"
    try:
        load_run_file(path)
    except CheckpointError as e:
        moved = set_aside(path, plain_reason(e))
        return f"its checkpoint {shown} cannot be read (set aside as {moved.name}, with the reason beside it)"
    return None


def _artifact_problem(path: Path, shown: str) -> str | None:
    if not path.is_file() or path.stat().st_size == 0:
        return f"its output {shown} is missing" if not path.is_file() else f"its output {shown} is empty"
    if path.suffix == ".png":
        if unreadable_images([path]):
            return f"its figure {shown} is not a PNG image"
    elif path.suffix == ".csv":
        try:
            with open(path, newline="") as fh:
                rows = list(csv.reader(fh))
        except (UnicodeDecodeError, csv.Error):
            rows = []
        if not rows:
            return f"its table {shown} cannot be read as CSV"
    return None


def missing_output(reports_dir: Path, notebook: str, record: dict, index: dict) -> str | None:
    """Why a notebook's recorded outputs are not all there (the first problem, as a phrase), or None when every
    checkpoint in ``record["runs"]`` loads, every figure and table ``index`` lists for it is readable, and the index
    still lists every one in ``record["artifacts"]`` (the ids the notebook left when it ran)."""
    reports_dir = Path(reports_dir)
    for rel in record.get("runs", []):
        path = Path(rel) if Path(rel).is_absolute() else reports_dir / rel
        if (why := _checkpoint_problem(path, rel)) is not None:
            return why
    listed = [entry for entry in index.get("artifacts", []) if entry.get("notebook") == notebook]
    for entry in listed:
        if (why := _artifact_problem(reports_dir / entry["path"], entry["path"])) is not None:
            return why
    lost = sorted(set(record.get("artifacts", [])) - {entry.get("id") for entry in listed})
    if lost:  # the index was lost with the records it is rebuilt from
        return f"its output {lost[0]} is no longer listed in the report's index ({ARTIFACTS})"
    return None
