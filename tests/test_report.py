"""The whole smoke report, executed once by the runner, then every notebook executed again outside it (as JupyterLab
or ``jupyter nbconvert --execute`` would) with its knobs set to other values than the report's."""

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"

# Knobs other than the defaults, for every notebook: each must run with them on smoke.
KNOBS = {
    "01": {"samples_shown": 6, "skeleton": "mpii16", "view": ["S11", "walking", 0, 0.5]},
    "02": {"seeds": [0], "shown": 2},
    "03": {"samples": 40, "scales": [0], "shown": 4},
    "04": {"samples": 60, "k_range": [2, 3], "restarts": 1},
    "05": {"person": 1, "joint": "l_ankle", "model": "hourglass-1", "steps": 3, "images": 3},
    "06": {"experiments": ["as designed", "no batchnorm"], "seeds": [0, 5]},
    "07": {"hypotheses": 3, "embedded": 50},
}


def _run(*args):
    return subprocess.run([sys.executable, "-m", "poselab.report.run", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=1500)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The smoke report: (reports folder, data folder, the runner's output)."""
    root = tmp_path_factory.mktemp("smoke")
    reports, data = root / "reports", root / "data"
    done = _run("--profile", "smoke", "--reports-dir", str(reports), "--data-dir", str(data), "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    return reports, data, done.stdout


def _index(reports: Path) -> dict:
    return json.loads((reports / "artifacts.json").read_text())


def _finished(reports: Path, label: str) -> list[Path]:
    """The finished runs of ``label`` in the report's store (``<label>-<16 hex digits>/final.pt``)."""
    found = (reports / "checkpoints" / "smoke").glob(f"{label}-*/final.pt")
    return [p for p in found if re.fullmatch(rf"{re.escape(label)}-[0-9a-f]{{16}}", p.parent.name)]


def _ran_before(stdout: str, first: str, then: str) -> bool:
    return stdout.index(first) < stdout.index(then)


def _report_files(reports: Path) -> dict[str, str]:
    """sha256 of every file of the report (not the interactive scratch area or the runner's kernel folder)."""
    out = {}
    for path in sorted(reports.rglob("*")):
        rel = path.relative_to(reports).as_posix()
        if path.is_file() and not rel.startswith(("interactive/", ".jupyter/", ".lock")):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.mark.notebook
def test_the_hourglass_notebooks_register_their_artifacts_and_runs(smoke):
    reports, _, stdout = smoke
    assert _ran_before(stdout, "02_hourglass_training", "03_skip_ablation")
    index = _index(reports)
    expected = {"T02.1", "T02.2", "T02.3", "F02.1", "F02.2", "F02.3", "F03.1", "F03.2", "F03.3", "T03.1", "F04.1",
                "F04.2", "F04.3", "F04.4", "F04.5", "T04.1", "T04.2"}
    assert expected <= {a["id"] for a in index["artifacts"]}
    for label in ("hourglass-1", "hourglass-2", "hourglass-1-seed1", "hourglass-2-seed1"):
        assert len(_finished(reports, label)) == 1, label
    assert "training PCKh@0.5, skips off" in {h["name"] for h in index["headlines"]}
    trainings = {t["label"]: t for t in index["trainings"] if t["notebook"] == "02"}
    assert set(trainings) == {"hourglass-1", "hourglass-2", "hourglass-1-seed1", "hourglass-2-seed1"}
    assert all(t["precision"].startswith("float32") and t["step limit"] is None for t in trainings.values())
    assert index["runs"]["02"]["machine"]["torch_threads"] >= 1
    executed = (reports / "executed" / "03_skip_ablation.ipynb").read_text()
    assert "from notebook 02, seeds [0, 1] (run hourglass-2-" in executed  # every seed dissected, named by its key
    assert "run hourglass-2-seed1-" in executed
    t044 = (reports / "tables" / "T04.4.csv").read_text()
    assert "seed 0" in t044 and "seed 1" in t044  # notebook 04 clusters every seed's latent space


@pytest.mark.notebook
def test_the_hrnet_poseig_and_lifting_notebooks_register_their_artifacts(smoke):
    reports, _, stdout = smoke
    assert _ran_before(stdout, "06_hrnet_ablations", "05_poseig_attribution")
    index = _index(reports)
    ids = {a["id"] for a in index["artifacts"]}
    assert {"F06.1", "T06.1"} <= ids
    assert sum(h["name"].startswith("HRNet ") for h in index["headlines"]) == 3
    assert {f"F05.{k}" for k in range(1, 7)} | {f"T05.{k}" for k in range(1, 8)} <= ids
    assert len(_finished(reports, "integral-hourglass-1")) == len(_finished(reports, "integral-hourglass-1-seed1")) == 1
    t057 = pd.read_csv(reports / "tables" / "T05.7.csv")  # one controlled pair per seed of notebook 02
    assert list(t057["heatmap model"]) == ["hourglass-1", "hourglass-1-seed1"]
    assert list(t057["integral model"]) == ["integral (hourglass-1)", "integral (hourglass-1-seed1)"]
    assert "R_E, lowest over joint types and masks" in {h["name"] for h in index["headlines"] if h["notebook"] == "05"}
    executed = nbformat.read(reports / "executed" / "05_poseig_attribution.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "%|" not in text  # no progress-bar noise in the report
    assert {"T07.1", "T07.2", "T07.3", "F07.1", "F07.2", "F07.3", "F07.4"} <= ids
    assert len(_finished(reports, "vae-gan")) == len(_finished(reports, "supervised-vae")) == 1
    assert {h["name"] for h in index["headlines"] if h["notebook"] == "07"} >= {"VAE-GAN ZV P-MPJPE"}
    for a in index["artifacts"]:
        assert (reports / a["path"]).stat().st_size > 0


@pytest.mark.notebook
def test_the_ledger_and_the_index_cite_by_author_and_year(smoke):
    from poselab.references import REFERENCES

    reports, _, _ = smoke
    index = _index(reports)
    shorts = [r.short for r in REFERENCES.values()]
    assert {f["notebook"] for f in index["findings"]} == {"02", "03", "04", "05", "06", "07"}
    assert all(any(f["source"].startswith(s) for s in shorts) for f in index["findings"])
    from poselab.findings import UNRESOLVED, VERDICTS

    for f in index["findings"]:  # every quantitative verdict carries its interval and names its test
        assert f["verdict"] in VERDICTS and f["test"], f
        assert re.search(r"\[[^\]]+, [^\]]+\]|no interval|binomial p", f["ours"]), f
        assert f["verdict"] != UNRESOLVED or f["resolve"], f
    claims = {f["claim"] for f in index["findings"] if f["notebook"] == "07"}
    assert "The error grows from the inner joints to the limb ends" in claims  # notebook 07's per-joint claim
    page = (reports / "html" / "index.html").read_text()
    assert "<h2 id='references'>References</h2>" in page and "He et al. 2023" in page and "Budaraju 2020" in page
    for exported in [reports / "html" / "index.html", *sorted((reports / "html").glob("0*.html"))]:
        text = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", "", exported.read_text())  # images: random letters
        assert not re.search(r"seed 00\d|FACTS|SPEC\.md|\bissue \d", text), exported.name


@pytest.mark.notebook
def test_notebooks_run_with_their_knobs_outside_the_runner_and_leave_the_report_as_it_was(smoke):
    import papermill as pm

    reports, data, _ = smoke
    before = _report_files(reports)
    os.environ["TQDM_DISABLE"] = "1"
    try:
        for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
            nid = path.name[:2]
            out = reports.parent / f"interactive-{path.name}"
            params = {"profile": "smoke", "data_dir": str(data), "reports_dir": str(reports), **KNOBS[nid]}
            pm.execute_notebook(str(path), str(out), parameters=params, kernel_name="python3", cwd=str(NOTEBOOKS),
                                progress_bar=False)
            text = out.read_text()
            assert "Interactive run" in text and (nid == "01" or "knobs: " in text), nid  # 01's knobs are not settings
            scratch = reports / "interactive" / nid
            written = json.loads((scratch / "artifacts.json").read_text())["artifacts"]
            assert written and all((scratch / a["path"]).exists() for a in written), nid
    finally:
        os.environ.pop("TQDM_DISABLE", None)
    assert _report_files(reports) == before  # not a byte of the report changed
    # Notebook 06's seed 5 is a new run: trained in the scratch store; seed 0 was the report's, only read.
    scratch_runs = reports / "interactive" / "checkpoints" / "smoke"
    trained = sorted(p.parent.name.rsplit("-", 1)[0] for p in scratch_runs.glob("*/final.pt"))
    assert trained == ["hrnet-as-designed-seed5", "hrnet-no-batchnorm-seed5"]
    again = _run("--profile", "smoke", "--reports-dir", str(reports), "--data-dir", str(data), "--quiet", "--no-html")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("up to date") == 7 and "executing" not in again.stdout
    assert _report_files(reports) == before
