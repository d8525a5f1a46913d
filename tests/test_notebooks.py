"""The evaluator notebooks run top to bottom in a fresh kernel and are committed without outputs.

Every notebook in ``notebooks/`` is executed with nbclient in the ``python3``
kernel that ipykernel installs into this environment's
``share/jupyter/kernels`` (jupyter_client starts it with this interpreter), with
the repository root on ``PYTHONPATH`` and an empty temporary working directory:
a notebook can rely only on the installed packages, the public API and the files
it writes itself.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, kernel_name):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute(env=kernel_env())  # raises CellExecutionError naming the failing cell
    elapsed = time.perf_counter() - start
    assert elapsed < NOTEBOOK_BUDGET, f"{path.name} took {elapsed:.0f} s (budget {NOTEBOOK_BUDGET:.0f} s)"

    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    rich = [out for out in outputs if out.output_type in ("display_data", "execute_result")]
    assert any("image/png" in out.get("data", {}) for out in rich), f"{path.name} shows no chart inline"
    assert any("text/html" in out.get("data", {}) for out in rich), f"{path.name} shows no table"
    stderr = "".join(out.get("text", "") for out in outputs if out.output_type == "stream" and out.name == "stderr")
    # a chart drawn outside reports.fonts.matplotlib_style() falls back to a font without Chinese glyphs
    assert "missing from font" not in stderr, f"{path.name}: a chart lost its Chinese font:\n{stderr}"
