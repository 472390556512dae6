"""Which ``poselab`` source files a notebook's code can reach through its imports.

The runner fingerprints a notebook with these files only, so editing the lifting code does
not re-execute the hourglass notebooks.  Imports are read statically (``ast``), including
imports inside functions and relative imports; importing ``poselab.a.b`` also counts the
packages ``poselab`` and ``poselab.a`` (their ``__init__`` runs).  ``from poselab.a import x``
counts ``poselab.a.x`` when ``x`` is a submodule.  Code that cannot be parsed reaches every
source file, which errs on the side of re-executing.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from poselab.paths import PACKAGE, PACKAGE_DIR, module_file


def imported_names(tree: ast.AST, module: str = "__main__", is_package: bool = False) -> set[str]:
    """Dotted names an AST imports (``from a import b`` gives both ``a`` and ``a.b``)."""
    names: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return {n for n in names if n}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks (imports for annotations only,
    which never run: a module that names a type there does not depend on its code)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend([node.test, *node.orelse])
        else:
            todo.extend(ast.iter_child_nodes(node))


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: k + 1]) for k in range(len(parts))]


def reachable_sources(code: str, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Every ``poselab`` source file that ``code`` imports, directly or through other modules."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return sorted(package_dir.rglob("*.py"))
    found: dict[str, Path] = {}
    todo = [n for n in imported_names(tree) if n.split(".")[0] == PACKAGE]
    while todo:
        for name in _prefixes(todo.pop()):
            if name in found:
                continue
            path = module_file(name, package_dir)
            if path is None:
                continue
            found[name] = path
            inner = imported_names(ast.parse(path.read_text()), name, path.name == "__init__.py")
            todo.extend(n for n in inner if n.split(".")[0] == PACKAGE)
    return sorted(set(found.values()))


def notebook_code(path: Path) -> str:
    """The Python in a notebook's code cells, without IPython magics and shell escapes."""
    nb = json.loads(Path(path).read_text())
    lines = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        lines += [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def digest(files: Iterable[Path]) -> str:
    """SHA-256 (hex) of source files: their paths inside the package and their contents."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()
