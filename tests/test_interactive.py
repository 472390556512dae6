"""Interactive use that leaves the report honest: a notebook is identified by its code, not by what JupyterLab saves
with it; knobs that differ from the committed ones are said and shown; an interactive run says where it stands."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from poselab.report import plan

REPO = Path(__file__).resolve().parents[1]


def _notebook(path: Path, body: str = "pass", person: str = "None") -> None:
    params = ('profile = "default"\ndevice = "auto"\nseed = 0\ndata_dir = None\nreports_dir = None\nstage_dir = None\n'
              f"person = {person}  # a knob\njoint = \"r_wrist\"")
    cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), nbformat.v4.new_code_cell(params),
             nbformat.v4.new_code_cell(body)]
    cells[1].metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["poselab"] = {"depends_on": []}
    nbformat.write(nb, path)


def _as_jupyterlab_saves_it(path: Path) -> None:
    """What opening, running and saving a notebook in JupyterLab does to the file without changing a cell: outputs,
    execution counts, language_info and kernelspec metadata, other cell ids, another JSON layout."""
    nb = json.loads(path.read_text())
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python",
                                       "codemirror_mode": {"name": "ipython", "version": 3}}
    nb["metadata"]["kernelspec"] = {"name": "poselab", "display_name": "Python (poselab)", "language": "python"}
    for k, cell in enumerate(nb["cells"]):
        cell["id"] = f"lab-{k}"
        cell["metadata"]["jupyter"] = {"source_hidden": False}
        if cell["cell_type"] == "code":
            cell["execution_count"] = k + 1
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hello\n"]}]
    path.write_text(json.dumps(nb, indent=2, sort_keys=True))


def test_a_notebook_saved_by_jupyterlab_keeps_its_identity_and_an_edit_changes_it(tmp_path):
    path = tmp_path / "05_x.ipynb"
    _notebook(path)
    before = plan.identity(path)
    _as_jupyterlab_saves_it(path)
    assert plan.identity(path) == before
    nb = json.loads(path.read_text())
    nb["cells"][2]["source"] = ["x = 1\n"]  # a changed line of code
    path.write_text(json.dumps(nb))
    assert plan.identity(path) != before


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def committed(tmp_path) -> Path:
    """A notebooks folder in a git repository with one committed notebook."""
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "t")
    _notebook(repo / "notebooks" / "05_x.ipynb")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "notebook")
    return repo / "notebooks" / "05_x.ipynb"


def test_knobs_that_differ_from_the_committed_ones_are_found(committed, tmp_path):
    assert plan.knob_changes(committed) == {}
    _as_jupyterlab_saves_it(committed)
    assert plan.knob_changes(committed) == {}  # saved by JupyterLab, no knob changed
    nb = json.loads(committed.read_text())
    nb["cells"][1]["source"] = [s.replace("person = None", "person = 1") for s in nb["cells"][1]["source"]]
    committed.write_text(json.dumps(nb))
    changes = plan.knob_changes(committed)
    assert changes == {"person": (None, 1)} and plan.knobs_text(changes) == "person = 1"
    assert plan.committed_knobs(committed) == {"person": None}
    outside = tmp_path / "05_y.ipynb"
    _notebook(outside, person="2")
    assert plan.knob_changes(outside) is None  # not in git: cannot tell


def test_the_report_shows_the_knobs_beside_the_notebook_and_its_verdicts(tmp_path):
    from poselab.report.html import build_index

    reports = tmp_path / "reports"
    reports.mkdir()
    index = {"artifacts": [], "headlines": [], "trainings": [], "runs": {
        "05": {"title": "05 · PoseIG", "wall_seconds": 1.0, "profile": "smoke", "knobs": {"person": 1, "joint": "x"}}},
        "findings": [{"notebook": "05", "claim": "c", "source": "He et al. 2023", "published": "", "ours": "1 [0, 2]",
                      "verdict": "supports", "test": "t", "resolve": ""}]}
    (reports / "artifacts.json").write_text(json.dumps(index))
    page = build_index(reports).read_text()
    assert page.count("knobs differ from the report's defaults: person = 1, joint = &#x27;x&#x27;") == 2


def test_a_joint_the_person_lacks_is_replaced_out_loud():
    import numpy as np
    import torch

    from poselab.data.joints import MPII16
    from poselab.studies.poseig.attribute import Samples
    from poselab.studies.poseig.experiment import explained_joint

    ann = np.ones((1, 16), bool)
    ann[0, MPII16.index("l_ankle")] = False
    people = Samples(torch.zeros(1, 3, 8, 8), torch.zeros(1, 8, 8, dtype=torch.bool), torch.zeros(1, 16, 2), ann,
                     np.ones(1), np.arange(1), MPII16)
    j, used = explained_joint(people, 0, "r_wrist")
    assert j == MPII16.index("r_wrist") and used == ""
    j, used = explained_joint(people, 0, "l_ankle")
    assert j != MPII16.index("l_ankle") and "'l_ankle' is not annotated for person 0" in used
    assert f"explains her {MPII16.names[j]!r} instead" in used


def test_an_interactive_run_without_the_upstream_models_stops_in_one_clean_line(tmp_path):
    """The first cell of notebook 03, run outside the runner on a profile whose models are not there: one line that
    says what to run or which profile has them, before anything is generated or trained."""
    reports = tmp_path / "reports"
    (reports / "checkpoints" / "smoke" / "hourglass-2-0123456789abcdef").mkdir(parents=True)
    (reports / "checkpoints" / "smoke" / "hourglass-2-0123456789abcdef" / "final.pt").write_bytes(b"x")
    code = ("from poselab.report import notebook\n"
            f"notebook.start('03', 'default', 'cpu', 0, {str(tmp_path / 'data')!r}, {str(reports)!r})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("poselab.report.notebook.NotReady: the default models of notebook(s) 02 are not in")
    assert "make notebooks NB=\"02\" PROFILE=default" in last and "set profile = 'smoke'" in last
    assert not (tmp_path / "data" / "synthetic").exists()  # nothing generated
    from poselab.report.notebook import NotReady

    assert NotReady("x")._render_traceback_() == ["NotReady: x"]  # what Jupyter shows: one line, no traceback
