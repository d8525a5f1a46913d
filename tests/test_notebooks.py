"""The evaluator notebooks run top to bottom in a fresh kernel, on the demo and on a project of one's own.

Every notebook in ``notebooks/`` is executed with nbclient in the ``python3``
kernel that ipykernel installs into this environment's
``share/jupyter/kernels`` (jupyter_client starts it with this interpreter), with
the repository root on ``PYTHONPATH`` and an empty temporary working directory:
a notebook can rely only on the installed packages, the public API and the files
it writes itself.

Each notebook takes its project in one parameter cell at the top (tagged
``parameters``, as papermill does): ``PROJECT = None`` is the built-in demo.
Each runs twice: with the parameter cell as committed (the demo), and with
``PROJECT`` set to a copy of the second example (``tests/fixtures/second_example``:
its own framework, ids, questions and scales; questionnaire and site visits only;
two years).  On the second example the cells tagged ``demo-only`` (truth files,
the demo's own fixtures) must print one line and nothing else, and the project
folder must be left exactly as it was.  Outside those cells no notebook may name
a department, dimension, indicator or item id of the demo, nor one of its years.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

from conftest import SECOND_EXAMPLE

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_intake_and_quality.ipynb",
    "02_scoring_and_ranking.ipynb",
    "03_year_over_year.ipynb",
    "04_robustness_and_priorities.ipynb",
    "05_planning.ipynb",
]
CELL_TIMEOUT = 120  # seconds per cell
NOTEBOOK_BUDGET = 60.0  # seconds per notebook, kernel start included
KERNEL = "python3"
PARAMETERS = "parameters"  # the tag of the parameter cell (papermill's)
DEMO_ONLY = "demo-only"  # the tag of a cell that needs the demo's truth files or its own fixtures
#: notebooks that read the results history: on the second example they run after `minping run` recorded
#: its two years; the others get a copy with no history (notebook 05 then plans from the first-year defaults)
NEEDS_HISTORY = {"03_year_over_year"}
#: the demo's years, which no notebook may write outside its demo-only cells
DEMO_YEARS = ("2023", "2024", "2025")


def kernel_env() -> dict[str, str]:
    """This process's environment with the repository importable and no backend forced on the kernel."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    # the notebooks use ipykernel's inline backend; a caller's MPLBACKEND=Agg must not leak in
    env.pop("MPLBACKEND", None)
    return env


@pytest.fixture(scope="module")
def kernel_name() -> str:
    """The ``python3`` kernel spec, checked to start this environment's interpreter."""
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        pytest.fail(f"no '{KERNEL}' kernel spec found; install the test extras (pip install '.[test]'), "
                    "whose ipykernel ships it in the environment's share/jupyter/kernels")
    exe = spec.argv[0]
    # jupyter_client replaces a bare "python" with the running interpreter
    generic = {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}
    if exe not in generic and exe != sys.executable:
        pytest.fail(f"the '{KERNEL}' kernel spec in {spec.resource_dir} starts {exe}, not this environment's "
                    f"{sys.executable}; remove that user-level spec or run the tests in the environment it names")
    return KERNEL


def test_every_notebook_of_the_issue_is_present():
    missing = [name for name in EXPECTED if not (NOTEBOOK_DIR / name).is_file()]
    assert not missing, f"notebooks missing from {NOTEBOOK_DIR}: {missing}"


def test_notebooks_are_committed_without_outputs():
    problems = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for number, cell in enumerate(nb.cells, start=1):
            if cell.cell_type != "code":
                continue
            if cell.get("outputs"):
                problems.append(f"{path.name} cell {number}: has outputs")
            if cell.get("execution_count") is not None:
                problems.append(f"{path.name} cell {number}: has execution count {cell['execution_count']}")
    assert not problems, ("clear them with `jupyter nbconvert --clear-output --inplace notebooks/*.ipynb`:\n"
                          + "\n".join(problems))


# a string literal that starts like an absolute path: "/...", "~/...", "C:\..." or "C:/..."
ABSOLUTE_PATH = re.compile(r"""(?<![A-Za-z0-9_])[rbfRBF]?["'](/[\w.~-]|~/|[A-Za-z]:[\\/])""")
PRIVATE_IMPORT = re.compile(r"^\s*(from\s+\S+\s+import\s+.*\b_[A-Za-z]|import\s+\S*\._)", re.MULTILINE)


def test_notebooks_use_no_absolute_paths_and_no_private_names():
    problems = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for number, cell in enumerate(nb.cells, start=1):
            if cell.cell_type != "code":
                continue
            if ABSOLUTE_PATH.search(cell.source):
                problems.append(f"{path.name} cell {number}: absolute path literal")
            if PRIVATE_IMPORT.search(cell.source):
                problems.append(f"{path.name} cell {number}: imports a private name")
    assert not problems, "\n".join(problems)


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def test_each_notebook_takes_its_project_in_one_parameter_cell_at_the_top():
    problems = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        tagged = [c for c in nb.cells if PARAMETERS in tags(c)]
        if len(tagged) != 1 or not code or PARAMETERS not in tags(code[0]):
            problems.append(f"{path.name}: the first code cell, and only it, must be tagged '{PARAMETERS}'")
            continue
        names = re.findall(r"^(\w+)\s*=\s*None\b", code[0].source, flags=re.M)
        if "PROJECT" not in names or set(names) - {"PROJECT", "YEAR"}:
            problems.append(f"{path.name}: the parameter cell sets {names}, expected PROJECT = None (and YEAR = None)")
    assert not problems, "\n".join(problems)


def test_demo_only_cells_are_guarded():
    problems = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for number, cell in enumerate(nb.cells, start=1):
            if cell.cell_type == "code" and DEMO_ONLY in tags(cell) and not re.match(r"if demo_only\(", cell.source):
                problems.append(f"{path.name} cell {number}: a demo-only cell must start with `if demo_only(...):`")
    assert not problems, "\n".join(problems)


def test_no_demo_id_outside_demo_only_cells(demo_project):
    """The notebooks take every id and role from the project's framework and results, never from the demo."""
    from minping.api import load_project

    fw = load_project(demo_project).load_framework()
    ids = {d.id for d in fw.departments} | {d.id for d in fw.dimensions} | {i.id for i in fw.indicators} | {
        i.id for i in fw.items}
    token = re.compile(r"(?<![\w.])(" + "|".join(sorted(map(re.escape, ids), key=len, reverse=True)) + r")(?![\w.])")
    year = re.compile(r"(?<![\w.])(" + "|".join(DEMO_YEARS) + r")(?![\w.])")
    problems = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for number, cell in enumerate(nb.cells, start=1):
            if DEMO_ONLY in tags(cell):
                continue
            found = sorted(set(token.findall(cell.source)))
            if found:
                problems.append(f"{path.name} cell {number}: demo ids {found}")
            if cell.cell_type == "code" and (year.search(cell.source) or "truth" in cell.source):
                problems.append(f"{path.name} cell {number}: a demo year or the truth files outside a demo-only cell")
    assert not problems, "\n".join(problems)


def folder_state(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the sha256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_second_example(dest: Path) -> Path:
    """A copy of the second example (as the ``second_project`` fixture makes it): the fixture is never written to."""
    shutil.copytree(SECOND_EXAMPLE, dest, ignore=shutil.ignore_patterns("make_data.py", "__pycache__"))
    return dest / "project.toml"


@pytest.fixture(scope="module")
def second_examples(tmp_path_factory) -> dict[str, Path]:
    """Two copies of the second example: ``fresh`` (no history) and ``recorded`` (both years run as the
    command line does, so the history holds them)."""
    base = tmp_path_factory.mktemp("second-notebooks")
    fresh = copy_second_example(base / "fresh")
    recorded = copy_second_example(base / "recorded")
    done = subprocess.run([sys.executable, "-m", "minping.cli", "run", str(recorded.parent), "--no-reports"],
                          cwd=base, env=kernel_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return {"fresh": fresh, "recorded": recorded}


def with_parameters(nb, **values) -> None:
    """Replace the source of the parameter cell with ``values`` (as papermill injects them)."""
    (cell,) = [c for c in nb.cells if PARAMETERS in tags(c)]
    cell.source = "\n".join(f"{name} = {value!r}" for name, value in values.items())


RUNS = [(path, project) for path in NOTEBOOKS for project in ("demo", "second_example")]


@pytest.mark.parametrize(("path", "project"), RUNS, ids=[f"{p.stem}-{project}" for p, project in RUNS])
def test_notebook_runs_top_to_bottom(path, project, tmp_path, kernel_name, request):
    nb = nbformat.read(path, as_version=4)
    own = project != "demo"
    if own:
        copies = request.getfixturevalue("second_examples")
        project_file = copies["recorded" if path.stem in NEEDS_HISTORY else "fresh"]
        before = folder_state(project_file.parent)
        with_parameters(nb, PROJECT=str(project_file), YEAR=None)
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute(env=kernel_env())  # raises CellExecutionError naming the failing cell
    elapsed = time.perf_counter() - start
    label = f"{path.name} on the {project}"
    assert elapsed < NOTEBOOK_BUDGET, f"{label} took {elapsed:.0f} s (budget {NOTEBOOK_BUDGET:.0f} s)"

    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    rich = [out for out in outputs if out.output_type in ("display_data", "execute_result")]
    assert any("image/png" in out.get("data", {}) for out in rich), f"{label} shows no chart inline"
    assert any("text/html" in out.get("data", {}) for out in rich), f"{label} shows no table"
    stderr = "".join(out.get("text", "") for out in outputs if out.output_type == "stream" and out.name == "stderr")
    # a chart drawn outside reports.fonts.matplotlib_style() falls back to a font without Chinese glyphs
    assert "missing from font" not in stderr, f"{label}: a chart lost its Chinese font:\n{stderr}"
    if own:
        for number, cell in enumerate(nb.cells, start=1):
            if cell.cell_type == "code" and DEMO_ONLY in tags(cell):
                text = "".join(out.get("text", "") for out in cell.outputs)
                assert len(cell.outputs) == 1 and len(text.strip().splitlines()) == 1, (
                    f"{label} cell {number}: a demo-only cell must skip with one printed line, got {cell.outputs}")
        assert folder_state(project_file.parent) == before, f"{label} changed files of the project"
