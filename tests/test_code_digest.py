"""Which poselab sources a notebook reaches: what decides whether the runner re-executes it."""

import textwrap

from poselab import paths
from poselab.report.code_digest import PACKAGE_DIR, imported_names, notebook_code, reachable_sources


def _write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_closure_follows_absolute_relative_and_function_level_imports(tmp_path):
    pkg = tmp_path / "poselab"
    _write(pkg, {
        "__init__.py": "",
        "a/__init__.py": "",
        "a/b.py": "def f():\n    from ..c import g\n    return g()\n",
        "c.py": "from . import e\nimport numpy\n",
        "e.py": "",
        "d.py": "",
        "a/unused.py": "",
    })
    found = reachable_sources("from poselab.a import b\nimport os\n", package_dir=pkg)
    names = sorted(p.relative_to(pkg).as_posix() for p in found)
    assert names == ["__init__.py", "a/__init__.py", "a/b.py", "c.py", "e.py"]


def test_unparseable_code_reaches_every_source(tmp_path):
    pkg = tmp_path / "poselab"
    _write(pkg, {"__init__.py": "", "x.py": "", "y/__init__.py": "", "y/z.py": ""})
    assert len(reachable_sources("from poselab import (", package_dir=pkg)) == 4


def test_relative_import_names_resolve_against_the_package():
    import ast

    tree = ast.parse("from .. import a\nfrom .b import c\n")
    expected = {"poselab", "poselab.a", "poselab.x.b", "poselab.x.b.c"}
    assert imported_names(tree, "poselab.x.y", is_package=False) == expected
    assert imported_names(tree, "poselab.x", is_package=True) == expected


def test_report_notebooks_reach_their_own_study_code_only():
    def reached(prefix):
        nb = next(paths.notebooks_dir().glob(f"{prefix}_*.ipynb"))
        return {p.relative_to(PACKAGE_DIR).as_posix() for p in reachable_sources(notebook_code(nb))}

    hourglass, lifting = reached("02"), reached("07")
    assert {"models/hourglass.py", "training/loop.py", "metrics.py", "report/notebook.py"} <= hourglass
    assert "studies/lifting/train.py" not in hourglass and "studies/lifting/models.py" not in hourglass
    assert {"studies/lifting/train.py", "studies/lifting/models.py", "report/notebook.py"} <= lifting
    assert "models/hourglass.py" not in lifting and "studies/hourglass/experiment.py" not in lifting


def test_imports_for_annotations_only_are_not_dependencies(tmp_path):
    pkg = tmp_path / "poselab"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from poselab import b\n"
                              "else:\n    from poselab import c\n")
    (pkg / "b.py").write_text("")
    (pkg / "c.py").write_text("")
    found = {p.name for p in reachable_sources("import poselab.a", package_dir=pkg)}
    assert found == {"__init__.py", "a.py", "c.py"}
