"""The package's three parts, as its folders show them (lib/poselab/README.md): the science (data, models, training,
evaluation, studies and the modules they share), the report's machinery (``poselab.report``) and the tools no notebook
imports (``poselab.tools``).  The science imports neither of the others, the report does not import the tools, and no
two modules import each other, directly or round a loop.  Imports inside functions count too."""

import ast

from poselab.paths import PACKAGE_DIR
from poselab.report.code_digest import imported_names

REPORT, TOOLS = "poselab.report", "poselab.tools"


def part(module: str) -> str:
    """"tools", "report" or "science"."""
    return next((p.rsplit(".")[-1] for p in (TOOLS, REPORT) if module == p or module.startswith(p + ".")), "science")


def modules() -> dict[str, set[str]]:
    """module -> the poselab modules it imports (packages that are only a prefix of an import are left out)."""
    files = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        files[name] = path
    graph = {}
    for name, path in files.items():
        names = imported_names(ast.parse(path.read_text()), name, path.name == "__init__.py")
        graph[name] = {n for n in names if n in files and n != name}
    return graph


ALLOWED = {"science": {"science"}, "report": {"science", "report"}, "tools": {"science", "report", "tools"}}


def test_the_science_imports_neither_the_report_nor_the_tools():
    wrong = sorted(f"{m} ({part(m)}) imports {d} ({part(d)})" for m, deps in modules().items() for d in deps
                   if part(d) not in ALLOWED[part(m)])
    assert not wrong, "\n".join(wrong)


def test_no_import_loops():
    graph = modules()
    # a package's __init__ importing its own submodules is not a loop of separate modules
    edges = {m: {d for d in deps if not m or not d.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    loops = []

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                loops.append(" -> ".join([*trail[trail.index(d):], d]))
            elif d not in state:
                visit(d, [*trail, d])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not loops, "\n".join(loops)


def test_the_check_would_catch_the_science_importing_the_report():
    tree = ast.parse("def f():\n    from poselab.report.notebook import Context\n")
    found = {n for n in imported_names(tree, "poselab.data.dataset") if n.startswith("poselab.")}
    assert {part(n) for n in found} - ALLOWED[part("poselab.data.dataset")] == {"report"}
    assert part("poselab.tools.bench") == "tools" and part("poselab.report") == "report"
    assert part("poselab") == "science"
