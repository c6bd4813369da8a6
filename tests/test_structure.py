"""The shape of service/: layer contracts, no import cycles, bounded module and function size.

These tests read the source; they start no servers and import nothing from service/ themselves.

- The import-linter contracts in pyproject.toml ([tool.importlinter]) must all be kept.
- No import cycle between modules under service/. The graph is grimp's (the one import-linter
  uses): it counts every import, including those inside functions and under TYPE_CHECKING.
- No module over MAX_MODULE_LINES lines: every physical line of the file counts, blank lines and
  comments included.
- No function or method over MAX_FUNCTION_LINES lines, counted from its first decorator (or its
  `def` line when it has none) to the last line of its body, both included. A nested function counts
  towards its enclosing function and is also measured on its own.

Each failure lists every offender as path:line with its size, not just the first one found.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_NAME = "service"
PACKAGE_DIR = ROOT / PACKAGE_NAME
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40

_LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def _env_for_this_tree() -> dict[str, str]:
    """The environment for a child process that must see this tree's service package first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "120"  # import-linter's report wraps at the terminal width, 80 without one
    return env


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _source_files() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_service_package_under_test_is_this_trees() -> None:
    spec = importlib.util.find_spec(PACKAGE_NAME)
    assert spec is not None
    assert spec.origin is not None
    assert Path(spec.origin).resolve().parent == PACKAGE_DIR, (
        f"`{PACKAGE_NAME}` resolves to {spec.origin}, not to {PACKAGE_DIR}: the checks below would read the wrong tree"
    )


def test_import_contracts_are_kept() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=ROOT,
        env=_env_for_this_tree(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"import-linter contracts broken:\n{result.stdout}\n{result.stderr}", pytrace=False)


def _import_cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Each set of modules that all reach each other through imports (a strongly connected component).

    A module's component is itself plus the modules it imports, directly or not, that also import it,
    directly or not. A module that imports itself is a cycle of one.
    """
    cycles: dict[frozenset[str], set[str]] = {}
    for module in sorted(graph.modules):
        component = {module} | (graph.find_upstream_modules(module) & graph.find_downstream_modules(module))
        if len(component) > 1 or graph.direct_import_exists(importer=module, imported=module):
            cycles.setdefault(frozenset(component), component)
    return sorted(cycles.values(), key=min)


def _shortest_cycle_through(graph: grimp.ImportGraph, start: str, component: set[str]) -> tuple[str, ...]:
    """The shortest chain start -> ... -> start; every module on it lies in start's component."""
    best: tuple[str, ...] | None = None
    for succ in sorted(graph.find_modules_directly_imported_by(start) & component):
        back = (succ,) if succ == start else graph.find_shortest_chain(importer=succ, imported=start)
        if back is not None and (best is None or len(back) + 1 < len(best)):
            best = (start, *back)
    assert best is not None
    return best


def _describe_chain(graph: grimp.ImportGraph, chain: tuple[str, ...]) -> str:
    steps = [chain[0]]
    for importer, imported in itertools.pairwise(chain):
        lines = sorted({d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)})
        steps.append(f"{imported} (l.{', l.'.join(map(str, lines))} of {importer})")
    return "\n      -> ".join(steps)


def test_no_import_cycles() -> None:
    graph = grimp.build_graph(PACKAGE_NAME, cache_dir=None)
    reports = []
    for component in _import_cycles(graph):
        chain = _shortest_cycle_through(graph, min(component), component)
        reports.append(
            f"- {len(component)} modules in one cycle: {', '.join(sorted(component))}\n"
            f"  e.g. {_describe_chain(graph, chain)}"
        )
    if reports:
        pytest.fail(f"{len(reports)} import cycle(s) under {PACKAGE_NAME}/:\n" + "\n".join(reports), pytrace=False)


def _function_spans(tree: ast.AST) -> Iterator[tuple[str, int, int]]:
    """(qualified name, first line, size) of every function and method, nested ones included."""

    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                last = child.end_lineno if child.end_lineno is not None else child.lineno
                yield name, first, last - first + 1
                yield from visit(child, f"{name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")
            else:
                yield from visit(child, prefix)

    return visit(tree, "")


def test_no_module_over_the_line_limit() -> None:
    offenders = []
    for path in _source_files():
        size = len(path.read_text(encoding="utf-8").splitlines())
        if size > MAX_MODULE_LINES:
            offenders.append(f"- {_relative(path)}:1: {size} lines")
    if offenders:
        pytest.fail(
            f"{len(offenders)} module(s) over {MAX_MODULE_LINES} lines under {PACKAGE_NAME}/:\n" + "\n".join(offenders),
            pytrace=False,
        )


def test_no_function_over_the_line_limit() -> None:
    offenders = []
    for path in _source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, first, size in _function_spans(tree):
            if size > MAX_FUNCTION_LINES:
                offenders.append(f"- {_relative(path)}:{first}: {name}() is {size} lines")
    if offenders:
        pytest.fail(
            f"{len(offenders)} function(s) over {MAX_FUNCTION_LINES} lines under {PACKAGE_NAME}/ "
            f"(first decorator or def to end of body):\n" + "\n".join(offenders),
            pytrace=False,
        )
