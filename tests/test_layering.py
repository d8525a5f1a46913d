"""Guardrails of the layout, parsed from the source (nothing is imported):

- imports flow one way: reports -> evaluation -> surveys;
- no import cycle between the project's modules;
- statistics live in evaluation/: reports/ imports no scipy.stats, statsmodels or numpy.random;
- the content modules of reports/ import no renderer (reportlab, openpyxl, matplotlib);
- no demo indicator id and no confidence-level literal in library code (roles and levels come from the framework).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("surveys", "evaluation", "reports", "minping")

FORBIDDEN = {
    "surveys": {"evaluation", "reports", "minping", "matplotlib", "reportlab"},
    "evaluation": {"reports", "minping", "matplotlib", "openpyxl", "reportlab"},
    "reports": {"minping"},
}
#: statistics belong to evaluation/: the documents format and lay out numbers, they never estimate
STATISTICS = ("scipy.stats", "scipy.optimize", "statsmodels", "numpy.random")
#: reports/ modules that decide what a document says: any renderer may read them
CONTENT_MODULES = ("format", "facts", "labels", "chart_data", "scorecard", "city", "city_sections", "findings",
                   "city_content")
RENDERERS = ("reportlab", "openpyxl", "matplotlib", "docx")


def _library_files():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts) if path.is_relative_to(ROOT) else [path.stem]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute dotted names, relative imports resolved), anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names |= {f"{module}.{a.name}" for a in node.names}
    return names


def imported_modules(path: Path) -> set[str]:
    return {n.split(".")[0] for n in imported(path)}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_modules(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def module_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in _library_files()}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imp in imported(path):
            # "a.b.c" may be module a.b.c or name c of module a.b: keep the longest that is a module
            parts = imp.split(".")
            for k in range(len(parts), 0, -1):
                cand = ".".join(parts[:k])
                if cand in modules:
                    targets.add(cand)
                    break
        graph[name] = targets - {name, name.rsplit(".", 1)[0]}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    found = cycles(module_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_reports_compute_no_statistics():
    offenders = []
    for path in sorted((ROOT / "reports").rglob("*.py")):
        bad = {n for n in imported(path) if n.startswith(STATISTICS)}
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_content_modules_import_no_renderer():
    offenders = []
    for name in CONTENT_MODULES:
        path = ROOT / "reports" / f"{name}.py"
        bad = {n for n in imported(path) if n.split(".")[0] in RENDERERS}
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def _literals(pattern: str, *, skip=()):
    found = []
    for path in _library_files():
        rel = path.relative_to(ROOT).as_posix()
        if "/synthetic/" in rel or rel in skip:
            continue
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(pattern, line):
                found.append(f"{rel}:{k}: {line.strip()}")
    return found


def test_no_demo_indicator_id_in_library_code():
    """Roles come from the framework's [roles]; only the shipped framework file and the demo generator name ids."""
    assert not _literals(r"[\"'](D[0-9]+\.[0-9]+)[\"']")


def test_no_confidence_level_literal_outside_the_framework_default():
    assert not _literals(r"(?<![\d.])0\.95(?!\d)", skip={"surveys/framework.py"})


def test_the_checkers_see_what_they_refuse(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("def f():\n    import matplotlib.pyplot as plt\n    from scipy import stats\n", encoding="utf-8")
    assert "matplotlib" in imported_modules(f) and "scipy.stats" in imported(f)
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
