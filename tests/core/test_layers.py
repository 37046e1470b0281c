"""The layer contract (docs/contributing.md, "Layers") holds, and breaking it fails the lint.

``lint-imports`` (import-linter, run by ``make lint``) checks the contracts in pyproject.toml;
the two rules it cannot express are checked here on the import graph and the syntax tree: no
circle between modules anywhere in ``patron`` but the jobs pair, and no ``_private`` name
imported from another package.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: The one circle between modules the contract allows (a job queued on commit, run by its task).
ALLOWED_CYCLES = [["patron.jobs.services", "patron.jobs.tasks"]]

needs_linter = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason="import-linter is in the dev extra (make install)"
)


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_linter
def test_the_tree_keeps_every_contract() -> None:
    # when the linter reads the source as it is
    result = _lint(SRC)
    # then every contract is kept
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@needs_linter
@pytest.mark.parametrize(
    ("module", "text", "contract"),
    [
        ("analytics/planted.py", "import django\n", "analytics imports no Django"),
        (
            "analytics/planted.py",
            "from patron.insights import sources\n",
            "analytics imports no Django",
        ),
        ("ingest/planted.py", "import patron.insights.runs\n", "ingest imports neither"),
        ("ingest/rows_planted.py", "import django.db\n", "file-mode analysis import no Django"),
        ("web/planted.py", "import patron.ingest.writers\n", "web, CLI and API reach"),
        # a circle: the writers already import the order stream
        ("ingest/order_stream.py", "import patron.ingest.writers\n", "no import circles"),
    ],
)
def test_a_planted_violation_fails_the_lint(
    tmp_path: Path, module: str, text: str, contract: str
) -> None:
    # given a copy of the source with one violating import planted in it
    copy = tmp_path / "src"
    shutil.copytree(SRC / "patron", copy / "patron", ignore=shutil.ignore_patterns("*.pyc"))
    target = copy / "patron" / module
    if target.name == "rows_planted.py":  # a module the Django-free contract names
        target = copy / "patron" / "ingest" / "rows.py"
    original = target.read_text() if target.exists() else ""
    target.write_text(original + "\n" + text)
    # when the linter reads it
    result = _lint(copy)
    # then the lint fails, naming the broken contract
    assert result.returncode != 0, result.stdout
    assert "1 broken" in result.stdout
    assert contract in result.stdout.replace("\n", " ")


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "patron").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> list[tuple[str, str, int]]:
    """(imported module, imported name or '', line) of every Patron import in a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, "", node.lineno) for a in node.names if a.name.startswith("patron")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            if not base.startswith("patron"):
                continue
            for alias in node.names:
                child = f"{base}.{alias.name}"
                if child in known:  # ``from package import module``
                    found.append((child, "", node.lineno))
                else:
                    found.append((base, alias.name, node.lineno))
    return found


def test_no_private_name_crosses_a_package() -> None:
    # given every import of a Patron module or name in the source
    modules = _modules()
    crossing = []
    for name, path in modules.items():
        top = name.split(".")[:2]
        for imported, attribute, line in _imports(name, path, set(modules)):
            private = [p for p in imported.split(".") if p.startswith("_") and p != "__init__"]
            if attribute.startswith("_") and not attribute.startswith("__"):
                private.append(attribute)
            # then none names a _private module or name of another package
            if private and imported.split(".")[:2] != top:
                crossing.append(f"{path.relative_to(ROOT)}:{line}: {imported} {attribute}")
    assert crossing == []


def test_the_only_circle_between_modules_is_the_jobs_pair() -> None:
    # given the module graph of patron (every import, at the top or inside a function)
    modules = _modules()
    graph = {
        name: {
            imported if imported in modules else imported.rpartition(".")[0]
            for imported, _a, _l in _imports(name, path, set(modules))
        }
        & set(modules)
        for name, path in modules.items()
    }
    # when its strongly connected components are found (Tarjan, iteratively)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child == node or _is_ancestor(child, node):
                    continue  # a module importing its own package is no circle
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    # then the jobs pair is the only circle
    assert sorted(cycles) == ALLOWED_CYCLES


def _is_ancestor(package: str, module: str) -> bool:
    return module.startswith(package + ".")
