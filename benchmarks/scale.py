"""Benchmark: a province's data on one machine.

Generates, with the project's own generator
(:func:`minping.synthetic.province.write_parquet_project`), a province-scale
project with every channel in Parquet: about 300 departments, 2,000,000
survey completes, 600,000 callback cases, 30,000 site visits and 20,000,000
好差评 records (``--factor`` scales every count).  Generated projects are
cached under ``--data`` and reused.  Then, each in its own process so that
its peak resident memory (``VmHWM``) is its own, it times

- ``read_validate``: :func:`surveys.ingest.load_year` (read, validate, derive;
  好差评 streamed and reduced to sufficient statistics);
- ``estimation``: indicator estimates with Taylor-linearisation standard
  errors, dimension and index scores (:func:`evaluation.indicators.estimate_indicators`,
  :func:`evaluation.index.aggregate`);
- ``ranks_1000``: rank intervals from 1000 draws, overall and within category
  (:func:`evaluation.ranking.rank_uncertainty`);
- ``bootstrap``: the bootstrap variance option of ``evaluate``
  (:func:`evaluation.bootstrap.bootstrap_index`, 500 replicates), when the
  toolkit has it;
- ``robustness``: the robustness tables ``evaluate`` adds
  (:func:`evaluation.robustness.robustness_tables`);
- ``run_no_documents``: the whole ``minping run --no-reports``;
- ``reports``: the documents of the year (:func:`reports.render.render_reports`);

and the I/O floor: the time to merely read the same files with
``pyarrow.parquet.read_table`` (warm cache, best of three).  Memory of the
out-of-core 好差评 path is measured on projects holding only the ratings, at
the 0.1x and 1x province (2 and 20 million records), beside the in-memory
path at 2 million.  ``--growth`` repeats the main stages at 0.5x, 1x and 2x
and fits the exponent of time against data size.

Prints the figures; the last line is one JSON object.  Run from the
repository root::

    python benchmarks/scale.py                      # full scale, cached data in /tmp/minping-scale
    python benchmarks/scale.py --growth             # also 0.5x and 2x (2x needs ~14 GB to generate)
    python benchmarks/scale.py --small              # 40 departments, 1/50 of the counts; under a minute
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STAGES = ("read_validate", "estimation", "ranks_1000", "bootstrap", "robustness", "run_no_documents", "reports")
#: stages timed again at 0.5x and 2x (every stage but the documents)
GROWTH_STAGES = ("read_validate", "estimation", "ranks_1000", "bootstrap", "robustness", "run_no_documents")
GROWTH = (0.5, 1.0, 2.0)
#: The --small province: the register's departments and a few clones, counts 1/50 of the province's.
SMALL = {"departments": 40, "totals": {"survey": 40_000, "callback_cases": 12_000, "visits": 600,
                                       "ratings": 400_000}}
RANK_DRAWS = 1000
BOOTSTRAP_REPLICATES = 500
#: the full run without documents at most this many times the I/O floor measured in the same invocation
TARGET_FLOOR_RATIO = 10.0
TARGET_PEAK_MB = 4096
#: Address-space cap of each measured stage (the machine has 24 GB; a runaway stage must not take it all).
STAGE_MEMORY_CAP_GB = 16


# ----------------------------------------------------------------------------- data


def project_dir(data: Path, factor: float, *, small: bool) -> Path:
    return data / f"{'small' if small else 'province'}-x{factor:g}"


def ensure_project(data: Path, factor: float, *, small: bool, in_process: bool = False) -> tuple[Path, float | None]:
    """The cached project at ``factor`` (generated when missing); seconds spent generating or None."""
    folder = project_dir(data, factor, small=small)
    done = folder / "GENERATED"
    if done.exists():
        return folder / "project.toml", None
    t0 = time.perf_counter()
    if in_process:
        generate(folder, factor, small=small)
    else:
        _child("generate", folder, extra=["--factor", str(factor)] + (["--small"] if small else []))
    done.write_text("ok\n")
    return folder / "project.toml", time.perf_counter() - t0


def generate(folder: Path, factor: float, *, small: bool) -> Path:
    from minping.synthetic.province import province_config, write_parquet_project

    config = (province_config(factor, departments=SMALL["departments"], totals=SMALL["totals"]) if small
              else province_config(factor))
    path = write_parquet_project(folder, config)
    ratings_only(path)
    return path


def ratings_only(project_file: Path) -> Path:
    """A project beside ``project_file`` with its 好差评 input only (the out-of-core memory points)."""
    text = project_file.read_text(encoding="utf-8")
    head, *blocks = text.split("\n[[inputs]]\n")
    keep = [b for b in blocks if 'table = "ratings"' in b]
    out = project_file.with_name("ratings_only.toml")
    out.write_text(head + "".join("\n[[inputs]]\n" + b for b in keep), encoding="utf-8")
    return out


def input_files(project_file: Path) -> list[Path]:
    from surveys.project import load_project

    project = load_project(project_file)
    return sorted({s.path for s in project.inputs_for(project.years[0])})


def data_summary(project_file: Path) -> dict:
    import pyarrow.parquet as pq

    files = input_files(project_file)
    return {"rows": {f.stem: pq.ParquetFile(f).metadata.num_rows for f in files},
            "bytes": sum(f.stat().st_size for f in files)}


def io_floor(project_file: Path, repeats: int = 3) -> dict:
    """Seconds to read every input file of the project with pyarrow (all columns; warm cache, best of ``repeats``)."""
    import pyarrow.parquet as pq

    files = input_files(project_file)
    for f in files:
        pq.read_table(f)  # warm the page cache
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for f in files:
            pq.read_table(f)
        best = min(best, time.perf_counter() - t0)
    return {"seconds": best}


# ----------------------------------------------------------------------------- stages


def run_stage(name: str, project_file: Path, out: Path, *, stream: bool = True) -> dict:
    """Run one stage in this process; seconds of the stage itself and this process's peak memory so far."""
    warnings.simplefilter("ignore")
    from surveys.ingest import load_year
    from surveys.project import load_project

    project = load_project(project_file)
    framework = project.load_framework()
    year = project.years[0]
    seed = project.seed
    extra: dict = {}
    if name == "read_validate":
        t0 = time.perf_counter()
        loaded = load_year(project, framework, year, stream=stream)
        seconds = time.perf_counter() - t0
        counts = loaded.ledger.counts_frame()
        extra = {"rows_in": int(counts["rows_in"].sum()), "rows_quarantined": int(counts["rows_quarantined"].sum())}
    elif name == "run_no_documents":
        from minping.cli import main

        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main(["run", str(project_file), "--no-reports", "--out", str(out)])
        seconds = time.perf_counter() - t0
        extra = {"exit_code": code}
    else:
        seconds, extra = _evaluation_stage(name, load_year(project, framework, year).data, framework, seed, out)
    return {"seconds": seconds, "peak_rss_mb": _peak_mb(), **extra}


def _evaluation_stage(name: str, data, framework, seed: int, out: Path) -> tuple[float, dict]:
    year = data.year
    import inspect

    import pandas as pd

    from evaluation.evaluate import evaluate
    from evaluation.index import aggregate
    from evaluation.indicators import estimate_indicators
    from evaluation.ranking import rank_uncertainty
    from evaluation.seeds import stream
    from evaluation.weighting import apply_framework_weighting

    weighted, _ = apply_framework_weighting(framework)
    t0 = time.perf_counter()
    est = estimate_indicators(data, weighted)
    index = aggregate(est, weighted).index
    if name == "estimation":
        return time.perf_counter() - t0, {"indicator_rows": len(est.frame)}
    if name == "ranks_1000":
        cats = pd.DataFrame([{"department_id": d.id, "category": d.category} for d in weighted.departments])
        scored = index[index["index"].notna()].merge(cats, on="department_id")
        t0 = time.perf_counter()
        rank_uncertainty(scored, level=framework.confidence_level, n_draws=RANK_DRAWS, n_sim=RANK_DRAWS,
                         seed=stream(seed, "rank", year))
        return time.perf_counter() - t0, {"departments": len(scored), "draws": RANK_DRAWS}
    if name == "bootstrap":
        if "variance" not in inspect.signature(evaluate).parameters:
            return math.nan, {"skipped": "evaluate() has no bootstrap option"}
        from evaluation.bootstrap import bootstrap_index

        t0 = time.perf_counter()
        bootstrap_index(est, weighted, n_replicates=BOOTSTRAP_REPLICATES, seed=stream(seed, "bootstrap", year),
                        level=framework.confidence_level)
        return time.perf_counter() - t0, {"replicates": BOOTSTRAP_REPLICATES}
    if name == "robustness":
        from evaluation.robustness import robustness_tables

        result = evaluate(data, framework, seed=seed, robustness=False)
        t0 = time.perf_counter()
        groups = robustness_tables(result, data, rng=stream(seed, "sensitivity", year), sensitivity_draws=500)
        return time.perf_counter() - t0, {"tables": sum(len(g.tables()) for g in groups)}
    if name == "reports":
        from reports.render import render_reports

        result = evaluate(data, framework, seed=seed)
        t0 = time.perf_counter()
        documents = render_reports(result, out, lang="zh")
        return time.perf_counter() - t0, {"documents": len(documents)}
    raise ValueError(f"unknown stage {name!r}")


def _peak_mb() -> float:
    """Peak resident memory of this process image, MB.

    ``VmHWM`` of ``/proc/self/status``: unlike ``ru_maxrss``, which Linux
    keeps across ``execve``, it starts afresh in a new interpreter, so a
    stage's figure does not inherit the memory of the process that started it.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def _child(stage: str, project: Path, extra: list[str] = (), *, limit_gb: float | None = None) -> dict:
    """Run ``stage`` in a fresh interpreter; its JSON line.

    ``limit_gb`` caps the child's address space, so that a stage that would
    exhaust the machine fails with a MemoryError instead of drawing the
    kernel's out-of-memory killer onto other processes.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stage", stage, "--project", str(project), *extra]

    def cap():
        if limit_gb:
            size = int(limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, preexec_fn=cap, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode < 0:
        return {"error": f"killed by signal {-done.returncode}"}
    if done.returncode != 0 or not lines:
        error = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": error + (f" (address space capped at {limit_gb:g} GB)" if limit_gb and "Memory" in error
                                  else "")}
    return json.loads(lines[-1])


def measure(project_file: Path, out: Path, stages=STAGES, *, in_process: bool = False, stream: bool = True) -> dict:
    """Every stage of ``stages`` on one project (each in its own process unless ``in_process``)."""
    results = {}
    for stage in stages:
        target = out / stage
        if in_process:
            results[stage] = run_stage(stage, project_file, target, stream=stream)
        else:
            results[stage] = _child(stage, project_file, ["--out", str(target)] + ([] if stream else ["--in-memory"]),
                                    limit_gb=STAGE_MEMORY_CAP_GB)
    return results


def exponent(factors, seconds) -> float:
    """Least-squares slope of log(seconds) on log(data size): 1 is linear growth."""
    pts = [(math.log(f), math.log(s)) for f, s in zip(factors, seconds) if s and s > 0 and math.isfinite(s)]
    if len(pts) < 2:
        return math.nan
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


def machine() -> dict:
    import numpy
    import pandas
    import pyarrow
    import scipy

    try:
        import psutil

        memory = psutil.virtual_memory().total / 2**30
    except ImportError:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "memory_gb": round(memory, 1), "python": platform.python_version(),
            "platform": platform.platform(), "numpy": numpy.__version__, "pandas": pandas.__version__,
            "pyarrow": pyarrow.__version__, "scipy": scipy.__version__}


def benchmark(data: Path, *, small: bool = False, factor: float = 1.0, growth: bool = False,
              stages=STAGES, in_process: bool = False, log=print, repeat: int = 1) -> dict:
    """Generate (or reuse) the projects, measure them, and return the summary (the JSON object)."""
    data.mkdir(parents=True, exist_ok=True)
    out = data / "output"
    summary: dict = {"mode": "small" if small else "full", "factor": factor, "machine": machine()}
    project, generated = ensure_project(data, factor, small=small, in_process=in_process)
    summary["data"] = {"project": str(project), "generated_s": generated, **data_summary(project)}
    log(f"data: {summary['data']['rows']} ({summary['data']['bytes'] / 2**20:.0f} MiB)")
    summary["io_floor_s"] = io_floor(project)["seconds"]
    log(f"I/O floor (pyarrow reads every file): {summary['io_floor_s']:.2f} s")
    summary["load_average_before"] = os.getloadavg()[0]
    summary["stages"] = measure(project, out, stages, in_process=in_process)
    for stage, r in summary["stages"].items():
        log(f"{stage:>18}: {r.get('seconds', math.nan):8.2f} s  peak {r.get('peak_rss_mb', math.nan):7.0f} MB"
            f"  {r.get('error', '')}{r.get('skipped', '')}")
    if "run_no_documents" in stages:
        # the target's pair, measured `repeat` times, each run beside a fresh floor: the median ratio counts
        pairs = []
        for k in range(repeat):
            floor = io_floor(project)["seconds"]
            run = (summary["stages"]["run_no_documents"] if k == 0 else
                   measure(project, out, ("run_no_documents",), in_process=in_process)["run_no_documents"])
            pairs.append({"io_floor_s": floor, "run_s": run.get("seconds", math.nan),
                          "peak_rss_mb": run.get("peak_rss_mb", math.nan), "load_average": os.getloadavg()[0]})
            log(f"run {k + 1}: {pairs[-1]['run_s']:.2f} s against a floor of {floor:.2f} s "
                f"({pairs[-1]['run_s'] / floor:.1f}x), load average {pairs[-1]['load_average']:.1f}")
        ratios = sorted(p["run_s"] / p["io_floor_s"] for p in pairs)
        ratio = ratios[len(ratios) // 2]
        peak = max(p["peak_rss_mb"] for p in pairs)
        summary["run_pairs"] = pairs
        summary["targets"] = {"run_over_io_floor": ratio, "run_within_target": ratio <= TARGET_FLOOR_RATIO,
                              "run_peak_rss_mb": peak, "run_within_4gb": peak <= TARGET_PEAK_MB}
        log(f"run / I/O floor = {ratio:.1f} (median of {repeat}; target {TARGET_FLOOR_RATIO:g}); peak {peak:.0f} MB "
            f"(target {TARGET_PEAK_MB} MB)")
    summary["ratings_out_of_core"] = ratings_points(data, factor, small=small, in_process=in_process, log=log)
    if growth:
        summary["growth"] = growth_table(data, factor, small=small, in_process=in_process, log=log)
    return summary


def ratings_points(data: Path, factor: float, *, small: bool, in_process: bool, log=print) -> dict:
    """``read_validate`` of the 好差评 input alone at a tenth and at the full size, streamed and in memory."""
    points = {}
    for f, stream in ((factor / 10, True), (factor, True), (factor / 10, False)):
        project, _ = ensure_project(data, f, small=small, in_process=in_process)
        only = project.with_name("ratings_only.toml")
        r = measure(only, data / "output" / "ratings", ("read_validate",), in_process=in_process,
                    stream=stream)["read_validate"]
        rows = data_summary(only)["rows"].get("ratings", 0)
        r = {"records": rows, "streamed": stream, **r}
        points[f"{'streamed' if stream else 'in_memory'}_x{f:g}"] = r
        log(f"好差评 only, {rows:>10,} records, {'streamed ' if stream else 'in memory'}: "
            f"{r.get('seconds', math.nan):6.2f} s, peak {r.get('peak_rss_mb', math.nan):6.0f} MB")
    return points


def growth_table(data: Path, factor: float, *, small: bool, in_process: bool, log=print) -> dict:
    """Main stages and the I/O floor at 0.5x, 1x and 2x; the fitted exponent of each."""
    factors = [factor * g for g in GROWTH]
    table = {stage: [] for stage in ("io_floor", *GROWTH_STAGES)}
    peaks = []
    for f in factors:
        project, _ = ensure_project(data, f, small=small, in_process=in_process)
        table["io_floor"].append(io_floor(project)["seconds"])
        r = measure(project, data / "output" / f"x{f:g}", GROWTH_STAGES, in_process=in_process)
        for stage in GROWTH_STAGES:
            table[stage].append(r[stage].get("seconds", math.nan))
        peaks.append(r.get("run_no_documents", {}).get("peak_rss_mb", math.nan))
        table.setdefault("load_average", []).append(os.getloadavg()[0])
        log(f"x{f:g}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in table.items()) + f", run peak {peaks[-1]:.0f} MB")
    return {"factors": factors, "seconds": table, "run_peak_rss_mb": peaks,
            "exponent": {k: exponent(factors, v) for k, v in table.items() if k != "load_average"}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path("/tmp/minping-scale"), help="cache of generated projects")
    p.add_argument("--factor", type=float, default=1.0, help="data size relative to the province")
    p.add_argument("--small", action="store_true", help="40 departments, 1/50 of the counts, in one process")
    p.add_argument("--growth", action="store_true", help="also time the main stages at 0.5x and 2x")
    p.add_argument("--no-reports", action="store_true", help="skip rendering the documents")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs of the whole run beside a fresh I/O floor; the median ratio is the target's figure")
    p.add_argument("--stage", help=argparse.SUPPRESS)
    p.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--in-memory", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.stage == "generate":
        generate(args.project, args.factor, small=args.small)
        print(json.dumps({"generated": str(args.project)}))
        return 0
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.project, args.out, stream=not args.in_memory)))
        return 0
    stages = tuple(s for s in STAGES if not (args.no_reports and s == "reports"))
    data = args.data / "small" if args.small else args.data
    summary = benchmark(data, small=args.small, factor=args.factor, growth=args.growth or args.small,
                        stages=stages, in_process=args.small, repeat=max(1, args.repeat))
    print(json.dumps(summary, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
