"""Benchmark: the documents of one year for 35 departments, in both languages.

Writes the demo project with the three optional utilities (35 departments,
the years 2024 and 2025), evaluates both years without documents (so that
2025 carries its change since 2024), and then times
:func:`reports.render.render_reports` for 2025 in Chinese and in English:
the city report (PDF, Word, Excel), the citywide 整改 workbook, every
department's scorecard (PDF, Word, Excel) and every chart as PNG and SVG.
Wall and CPU time are both printed: on a shared machine the wall time also
counts other processes.  The target is under 30 seconds for both languages.

Prints the figures; the last line is one JSON object.  Run from the
repository root::

    python benchmarks/documents.py                  # data in a temporary folder
    python benchmarks/documents.py --keep /tmp/docs  # keep the project and the documents there
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 30.0


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the project and documents in")
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args(argv)

    from minping.pipeline import run_project
    from minping.synthetic import SimulationConfig, write_demo_project
    from reports.render import render_reports

    folder = args.keep or Path(tempfile.mkdtemp(prefix="minping-docs-"))
    config = SimulationConfig(seed=args.seed, years=(2024, 2025), include_utilities=True)
    project = write_demo_project(folder / "project", seed=args.seed, config=config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = run_project(project, out=folder / "output", render=False, log=lambda m: None)
    result = runs[-1].result
    n = int(result.departments["index"].notna().sum())
    figures = {"departments_evaluated": n, "departments_listed": len(result.departments)}
    total_wall = total_cpu = 0.0
    files = 0
    for lang in ("zh", "en"):
        wall, cpu = time.perf_counter(), time.process_time()
        written = render_reports(result, folder / "documents", lang=lang)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        figures[f"{lang}_wall_s"], figures[f"{lang}_cpu_s"] = round(wall, 2), round(cpu, 2)
        total_wall += wall
        total_cpu += cpu
        files += len(written)
        print(f"{lang}: {len(written)} files in {wall:.1f} s wall, {cpu:.1f} s CPU")
    figures.update(files=files, total_wall_s=round(total_wall, 2), total_cpu_s=round(total_cpu, 2),
                   target_s=TARGET_S, within_target=total_wall < TARGET_S, python=platform.python_version(),
                   machine=platform.machine())
    print(f"both languages, {n} departments: {total_wall:.1f} s wall, {total_cpu:.1f} s CPU "
          f"(target < {TARGET_S:g} s)")
    print(json.dumps(figures, sort_keys=True))
    return figures


if __name__ == "__main__":
    main()
