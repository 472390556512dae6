"""The direction of imports (lib/poselab/README.md): a module may import its own layer or the layers below it, never one
above, and no two modules import each other, directly or round a loop.  Imports inside functions count too."""

import ast

from poselab.code_digest import PACKAGE_DIR, imported_names

# Most specific prefix wins.  Lower numbers are lower layers (lib/poselab/README.md).
LAYERS = {
    "poselab": 0,  # the package itself, and the foundations below
    "poselab.paths": 0,
    "poselab.io": 0,
    "poselab.checkpoints": 0,
    "poselab.code_digest": 0,
    "poselab.precision": 0,
    "poselab.processes": 0,
    "poselab.machine": 0,
    "poselab.kernel": 0,
    "poselab.heatmaps": 0,
    "poselab.metrics": 0,
    "poselab.findings": 0,
    "poselab.references": 0,
    "poselab.data": 1,  # data: joints, synthetic world, datasets, real-data readers, the manifest
    "poselab.models": 2,  # the networks
    "poselab.evaluation": 3,  # predictions, scoring, statistics over seeds, accuracy tables
    "poselab.reporting.style": 3,  # drawing: the style and the figure helpers every study's figures use
    "poselab.reporting.figures": 3,
    "poselab.training": 4,  # the loop, the run cache and its declared code, jobs, several processes
    "poselab.studies.hourglass.settings": 5,  # every study's settings: leaves
    "poselab.studies.skips.settings": 5,
    "poselab.studies.latent.settings": 5,
    "poselab.studies.poseig.settings": 5,
    "poselab.studies.hrnet.settings": 5,
    "poselab.studies.lifting.settings": 5,
    "poselab.studies": 6,  # one folder per study: experiment, tables and findings, figures
    "poselab.profiles": 7,  # the three profiles, made of the studies' settings
    "poselab.reporting": 8,  # report: the registry, the HTML report, the runner, the command lines
    "poselab.notebook": 8,
    "poselab.plan": 8,
    "poselab.run": 8,
    "poselab.eta": 8,
    "poselab.outputs": 8,
    "poselab.bench": 8,
    "poselab.check_full": 8,
    "poselab.gpu_check": 8,
    "poselab.projection": 8,
    "poselab.data.__main__": 8,
}


def layer(module: str) -> int:
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in LAYERS:
            return LAYERS[".".join(parts[:k])]
    raise AssertionError(f"{module} has no layer: add it to LAYERS and to lib/poselab/README.md")


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


def test_every_module_imports_only_its_layer_or_lower_ones():
    graph = modules()
    upward = sorted(f"{m} (layer {layer(m)}) imports {d} (layer {layer(d)})"
                    for m, deps in graph.items() for d in deps if layer(d) > layer(m))
    assert not upward, "\n".join(upward)


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


def test_the_layer_check_would_catch_an_upward_import(tmp_path):
    tree = ast.parse("from poselab.reporting.figures import as_image\n")
    found = {n for n in imported_names(tree, "poselab.data.dataset") if n.startswith("poselab.")}
    assert any(layer(n) > layer("poselab.data.dataset") for n in found)
