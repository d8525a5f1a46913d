"""The main job: load each year of a project, evaluate it, write the output contract.

Output per year, under ``OUT/<year>/``:

- ``manifest.json``: toolkit version, framework id/version/sha256, sha256 of the
  project file and of every input file, seed, confidence level, rows in / used /
  quarantined per file, nominal weights, timings
- ``results/departments.csv``, ``results/dimensions.csv``,
  ``results/indicators.csv``, ``results/quality.csv``,
  ``results/input_counts.csv``, ``results/screen_flags.csv``
- ``quarantine.csv``: every input row not used, with its reason
- ``report/``: documents (see :mod:`reports`)

CSV files are UTF-8 with a BOM and neutralised against formula injection.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation.evaluate import TOOLKIT_VERSION, evaluate
from evaluation.result import EvaluationResult
from reports.safety import write_csv
from surveys.errors import MinpingError
from surveys.framework import Framework
from surveys.ingest import YearInput, load_year
from surveys.project import Project, load_project


@dataclass
class YearRun:
    year: int
    out_dir: Path
    input: YearInput
    result: EvaluationResult | None = None
    timings: dict = field(default_factory=dict)
    documents: list[Path] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_out(project: Project) -> Path:
    return project.root / "output"


def validate_year(project: Project, framework: Framework, year: int, out: Path) -> YearRun:
    """Load and validate one year; write ``quarantine.csv`` and the input counts."""
    t0 = time.perf_counter()
    loaded = load_year(project, framework, year)
    run = YearRun(year, out / str(year), loaded, timings={"load_validate_s": time.perf_counter() - t0})
    run.out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(loaded.ledger.frame(), run.out_dir / "quarantine.csv")
    (run.out_dir / "results").mkdir(exist_ok=True)
    write_csv(loaded.ledger.counts_frame(), run.out_dir / "results" / "input_counts.csv")
    write_csv(loaded.ledger.flags_frame(), run.out_dir / "results" / "screen_flags.csv")
    return run


def run_year(project: Project, framework: Framework, year: int, out: Path, *, render: bool = True,
             langs: tuple[str, ...] = ("zh",), history=None, variance: str = "linearisation",
             n_replicates: int = 500, log=print) -> YearRun:
    """Validate, evaluate, write results and (optionally) documents for one year."""
    log(f"[{year}] reading and validating inputs")
    run = validate_year(project, framework, year, out)
    log(f"[{year}] estimating indices, intervals and ranks")
    t0 = time.perf_counter()
    inputs = {str(s.path.relative_to(project.root)): sha256_file(s.path) for s in project.inputs_for(year)}
    run.result = evaluate(run.input.data, framework, seed=project.seed + year, variance=variance,
                          n_replicates=n_replicates,
                          provenance={"project_sha256": project.sha256, "input_sha256": inputs})
    run.timings["evaluate_s"] = time.perf_counter() - t0
    res = run.out_dir / "results"
    write_csv(run.result.departments, res / "departments.csv")
    write_csv(run.result.dimensions, res / "dimensions.csv")
    write_csv(run.result.indicators.drop(columns=["slope"]), res / "indicators.csv")
    write_csv(run.result.quality, res / "quality.csv")
    for name, frame in run.result.extra.items():
        write_csv(frame, res / f"{name}.csv")
    manifest = _manifest(project, framework, run, inputs)
    _write_manifest(run, manifest)
    from minping.history import case_volumes, history_path, load_history, record_result

    db = history_path(project.root)
    record_result(db, run.result, manifest, volumes=case_volumes(run.input.tables))
    if render:
        log(f"[{year}] rendering documents")
        t0 = time.perf_counter()
        from reports.render import render_reports

        if history is None:
            history = year_history(load_history(db), year, level=run.result.level, seed=project.seed + year)
        for lang in langs:
            run.documents += render_reports(run.result, run.out_dir, lang=lang, history=history,
                                            manifest_hash=manifest["manifest_sha256"])
        run.timings["render_s"] = time.perf_counter() - t0
        manifest["timings"] = {k: round(v, 3) for k, v in run.timings.items()}
        _write_manifest(run, manifest)
    return run


def _write_manifest(run: YearRun, manifest: dict) -> None:
    (run.out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
                                               encoding="utf-8")


def year_history(history: dict, year: int, *, level: float, seed: int) -> dict | None:
    """Earlier years for the documents: the store's frames plus the tested changes.

    Returns ``{"departments": earlier years' department rows, "trends": ...}``
    where ``trends`` is :func:`evaluation.trends.trends` for the previous
    recorded year and ``year``: changes through the crosswalk (renames and
    merges combined by case volume), Holm-adjusted tests and comparability,
    which the documents show as they are.  ``None`` when no earlier year is
    recorded.
    """
    deps = history.get("departments")
    if deps is None or deps.empty:
        return None
    earlier = sorted(y for y in deps["year"].unique() if y < year)
    if not earlier:
        return None
    out = {"departments": deps[deps["year"] <= year]}
    from evaluation.trends import trends

    try:
        out["trends"] = trends(history, [earlier[-1], year], level=level, seed=seed)["trends"]
    except MinpingError:
        pass
    return out


def _manifest(project: Project, framework: Framework, run: YearRun, inputs: dict) -> dict:
    counts = run.input.ledger.counts_frame()
    by_table = counts.groupby("table")[["rows_in", "rows_used", "rows_quarantined"]].sum()
    body = {
        "toolkit": "minping", "toolkit_version": TOOLKIT_VERSION, "year": run.year,
        "project": project.name, "project_sha256": project.sha256,
        "framework": {"id": framework.id, "version": framework.version, "sha256": framework.sha256,
                      "likert_preset": framework.likert_preset,
                      "weight_method": run.result.provenance["weight_method"] if run.result else
                      framework.weighting.method,
                      "weights": run.result.provenance["weights"] if run.result else None,
                      "nominal_weights": run.result.framework.nominal_weights() if run.result else
                      framework.nominal_weights()},
        "seed": run.result.provenance["seed"] if run.result else project.seed,
        "confidence_level": run.result.level if run.result else framework.confidence_level,
        "inputs": [{"path": p, "sha256": h} for p, h in inputs.items()],
        "rows": counts.to_dict(orient="records"),
        "rows_by_table": by_table.reset_index().to_dict(orient="records"),
        "methods": {k: v for k, v in (run.result.provenance.items() if run.result else [])
                    if k in ("variance_method", "rank_method", "n_draws")},
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    body["manifest_sha256"] = digest
    body["timings"] = {k: round(v, 3) for k, v in run.timings.items()}
    return body


def run_project(path: str | Path = "project.toml", *, years=None, out: str | Path | None = None,
                render: bool = True, langs: tuple[str, ...] = ("zh",), variance: str = "linearisation",
                n_replicates: int = 500, log=print) -> list[YearRun]:
    """Run every (or the given) year of a project; returns one :class:`YearRun` per year."""
    project = load_project(path)
    framework = project.load_framework()
    out = Path(out) if out else default_out(project)
    runs = []
    for year in (years or project.years):
        runs.append(run_year(project, framework, int(year), out, render=render, langs=langs, variance=variance,
                             n_replicates=n_replicates, log=log))
    write_project_trends(project, out, log=log)
    return runs


def write_project_trends(project: Project, out: Path, *, log=print) -> dict | None:
    """Changes between every pair of consecutive recorded years: ``OUT/trends.csv``,
    ``OUT/rank_changes.csv``, ``OUT/movers.csv`` (nothing with fewer than two years)."""
    from evaluation.trends import trends
    from minping.history import history_path, load_history
    from minping.trend import write_trends

    history = load_history(history_path(project.root))
    deps = history.get("departments")
    if deps is None or deps["year"].nunique() < 2:
        return None
    tables = trends(history, level=float(history["runs"]["level"].iloc[-1]) if len(history.get("runs", [])) else 0.95,
                    seed=project.seed)
    write_trends(out, tables)
    log(f"year-over-year changes written to {out / 'trends.csv'}")
    return tables


def summary_lines(run: YearRun, k: int = 3) -> list[str]:
    """Top and bottom departments with index and interval, quarantine count, where outputs are."""
    lines = []
    r = run.result
    counts = run.input.ledger.counts_frame()
    if r is not None:
        d = r.departments.dropna(subset=["index"]).sort_values("rank")
        pct = round(r.level * 100)
        fmt = lambda x: (f"  {int(x['rank']):>2}. {x['department']} ({x['department_id']}): {x['index']:.1f} "  # noqa: E731
                         f"[{pct}% CI {x['ci_low']:.1f}–{x['ci_high']:.1f}], rank {int(x['rank_low'])}–"
                         f"{int(x['rank_high'])}, grade {x['grade']}")
        lines.append(f"{run.year}: {len(d)} departments evaluated")
        lines.append(" top:")
        lines += [fmt(x) for _, x in d.head(k).iterrows()]
        lines.append(" bottom:")
        lines += [fmt(x) for _, x in d.tail(k).iterrows()]
    lines.append(f" rows: {int(counts['rows_in'].sum())} in, {int(counts['rows_used'].sum())} used, "
                 f"{int(counts['rows_quarantined'].sum())} quarantined (see {run.out_dir / 'quarantine.csv'})")
    lines.append(f" outputs: {run.out_dir}")
    return lines


def counts_table(run: YearRun) -> pd.DataFrame:
    """Rows in / used / quarantined per channel table."""
    c = run.input.ledger.counts_frame()
    return c.groupby("table", sort=True)[["rows_in", "rows_used", "rows_quarantined", "blank_rows"]].sum()
