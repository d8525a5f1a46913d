"""Shared fixtures for the test suite."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: reference data vendored with the tests (sources and licences in tests/reference/README.md)
REFERENCE = ROOT / "tests" / "reference"

import pytest  # noqa: E402

DEMO_SEED = 20261125


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory):
    """The demo project written once per test session (no documents)."""
    from minping.synthetic import write_demo_project

    out = tmp_path_factory.mktemp("demo")
    return write_demo_project(out, seed=DEMO_SEED)


@pytest.fixture(scope="session")
def demo_runs(demo_project):
    """Every year of the demo evaluated, results written, documents skipped."""
    from minping.pipeline import run_project

    return run_project(demo_project, out=demo_project.parent / "output", render=False, log=lambda m: None)


@pytest.fixture(scope="session")
def demo_result(demo_runs):
    """The demo's last year as the pipeline produced it: every table, and the change since 2024 attached."""
    return demo_runs[-1].result


@pytest.fixture(scope="session")
def demo_first_result(demo_runs):
    """The demo's first year: no earlier year recorded, so no change since last year."""
    return demo_runs[0].result


#: the second example: a county's own framework and files (tests/fixtures/second_example)
SECOND_EXAMPLE = ROOT / "tests" / "fixtures" / "second_example"


@pytest.fixture(scope="session")
def second_project(tmp_path_factory):
    """A fresh copy of the second example project (the fixture folder itself is never written to)."""
    import shutil

    dest = tmp_path_factory.mktemp("second") / "county"
    shutil.copytree(SECOND_EXAMPLE, dest, ignore=shutil.ignore_patterns("make_data.py", "__pycache__"))
    return dest / "project.toml"
