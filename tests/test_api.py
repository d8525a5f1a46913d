"""The public API: one import, and the same numbers as ``minping run`` for the same project and seed."""

from __future__ import annotations

import pandas as pd

import minping
import minping.api as mp


def test_api_reproduces_the_published_results(demo_project, demo_runs):
    """The README's Python call gives exactly what the command line published (seed rule, trends and all)."""
    year = demo_runs[-1].year
    result = mp.evaluate_year(demo_project, year)
    published = demo_runs[-1].out_dir / "results"
    for name, frame in result.tables().items():
        on_disk = pd.read_csv(published / f"{name}.csv", encoding="utf-8-sig", keep_default_na=False,
                              na_values=[""])
        # the CSV writer leaves infinite values (df of a normal interval) empty, as it does NaN
        mine = pd.read_csv(pd.io.common.StringIO(frame.replace([float("inf"), -float("inf")], float("nan"))
                                                 .to_csv(index=False)), keep_default_na=False, na_values=[""])
        pd.testing.assert_frame_equal(mine, on_disk, check_dtype=False, obj=name)
    assert result.trends is not None and result.trends.previous_year == year - 1
    assert result.provenance.seed == mp.load_project(demo_project).seed


def test_version_is_single_sourced(capsys):
    from importlib.metadata import version

    import pytest

    from evaluation.result import toolkit_version
    from minping.cli import main

    assert minping.__version__ == version("minping") == toolkit_version()
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"minping {version('minping')}"
