"""The papermill runner, on notebook 01 (smoke) and on small notebooks written here."""

import json
from pathlib import Path

import pytest

from conftest import run_poselab as _run
from conftest import toy_notebook as _notebook
from poselab.report.plan import discover, plan

REPO = Path(__file__).resolve().parents[1]


FIGURE = """
import matplotlib.pyplot as plt
from poselab.report import notebook
ctx = notebook.start("{nb}", profile, device, seed, data_dir, reports_dir, stage_dir)
fig, ax = plt.subplots(); ax.plot([0, 1], [{y}, {y}])
ctx.save_figure(fig, "F{nb}.1", "a line at {y}")
ctx.headline("level", {y})
"""


def test_plan_orders_upstream_notebooks_first(tmp_path):
    _notebook(tmp_path / "01_a.ipynb", "pass")
    _notebook(tmp_path / "02_b.ipynb", "pass", ["01"])
    _notebook(tmp_path / "03_c.ipynb", "pass", ["02"])
    nbs = discover(tmp_path)
    assert [n.id for n in plan(["03"], nbs)] == ["01", "02", "03"]
    assert [n.id for n in plan(None, nbs)] == ["01", "02", "03"]
    _notebook(tmp_path / "01_a.ipynb", "pass", ["03"])
    with pytest.raises(SystemExit, match="cycle"):
        plan(["03"], discover(tmp_path))


@pytest.mark.notebook
def test_runner_executes_notebook_01_on_smoke_and_registers_its_artifacts(tmp_path):
    reports, data = tmp_path / "reports", tmp_path / "data"
    done = _run("--profile", "smoke", "--notebooks", "01", "--reports-dir", str(reports), "--data-dir", str(data),
                "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    index = json.loads((reports / "artifacts.json").read_text())
    ids = {a["id"] for a in index["artifacts"]}
    assert {"T01.1", "T01.2", "F01.1", "F01.2", "F01.3"} <= ids
    for a in index["artifacts"]:
        assert (reports / a["path"]).stat().st_size > 0
        assert a["profile"] == "smoke" and a["device"] == "cpu" and a["notebook"] == "01"
    assert index["runs"]["01"]["wall_seconds"] > 0
    html = (reports / "html" / "index.html").read_text()
    assert "F01.3" in html and "01_data_prep.html" in html
    assert (reports / "html" / "01_data_prep.html").exists()
    # Nothing changed: the second run skips the notebook.
    again = _run("--profile", "smoke", "--notebooks", "01", "--reports-dir", str(reports), "--data-dir", str(data),
                 "--quiet")
    assert again.returncode == 0 and "up to date" in again.stdout


@pytest.mark.notebook
def test_failing_notebook_exits_non_zero_naming_it_and_keeps_the_last_report(tmp_path):
    nbdir, reports = tmp_path / "notebooks", tmp_path / "reports"
    nbdir.mkdir()
    _notebook(nbdir / "01_first.ipynb", FIGURE.format(nb="01", y=1))
    _notebook(nbdir / "02_second.ipynb", FIGURE.format(nb="02", y=2), ["01"])
    args = ["--profile", "smoke", "--reports-dir", str(reports), "--notebooks-dir", str(nbdir), "--quiet"]
    ok = _run(*args)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    before = (reports / "figures" / "F02.1.png").read_bytes()
    # Notebook 02 now draws a different figure, then fails.
    _notebook(nbdir / "02_second.ipynb", FIGURE.format(nb="02", y=5) + "\nraise RuntimeError('boom')", ["01"])
    failed = _run(*args)
    assert failed.returncode != 0
    # Cell 3 of the executed notebook: papermill inserts the injected parameters after cell 1.
    assert "02_second" in failed.stderr and "cell 3" in failed.stderr and "RuntimeError: boom" in failed.stderr
    assert "01_first: up to date" in failed.stdout
    # The previous successful report is intact: figure, executed notebook, registry, HTML.
    assert (reports / "figures" / "F02.1.png").read_bytes() == before
    index = json.loads((reports / "artifacts.json").read_text())
    assert next(h for h in index["headlines"] if h["notebook"] == "02")["value"] == 2
    assert (reports / "executed" / "02_second.ipynb").exists()
    assert (reports / "executed" / "failed" / "02_second.ipynb").exists()
    assert (reports / "html" / "02_second.html").exists()


@pytest.mark.notebook
def test_a_step_limit_stops_every_training_and_says_so(tmp_path):
    reports = tmp_path / "reports"
    done = _run("--profile", "smoke", "--notebooks", "02", "--reports-dir", str(reports), "--data-dir",
                str(tmp_path / "data"), "--quiet", "--limit-steps", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "LIMIT_STEPS=2" in done.stdout
    index = json.loads((reports / "artifacts.json").read_text())
    assert {t["step limit"] for t in index["trainings"]} == {2}
    assert all(t["epochs"] == 1 for t in index["trainings"])  # 2 steps end the first epoch
    assert "not results" in (reports / "html" / "index.html").read_text()
    executed = (reports / "executed" / "02_hourglass_training.ipynb").read_text()
    assert "LIMIT_STEPS=2" in executed
