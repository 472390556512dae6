import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _pins(reqs) -> dict[str, str]:
    out = {}
    for r in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([0-9][^ ;]*)", r.strip())
        assert m, f"{r!r} is not an exact pin"
        out[m[1].lower()] = m[2]
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins([p for p in pip if not p.startswith("-e")]) == wanted
    assert "python=3.11" in env["dependencies"]
    assert wanted["torch"] == "2.13.0"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^\s*(make \w+)", readme, flags=re.M)
    assert commands[:2] == ["make report", "make test"]
    assert "make test" in (REPO / ".ci" / "run").read_text()
