"""The main job: load each year of a project, evaluate it, write the output contract.

Output per year, under ``OUT/<year>/`` (written aside and swapped in only
when complete, :class:`minping.outputs.YearFolder`):

- ``manifest.json`` (written last): toolkit version, framework id/version/sha256,
  sha256 of the project file and of every input file, seed, confidence level,
  every setting that changes a number, rows in / used / quarantined per file,
  nominal weights, methods, timings
- ``results/<name>.csv``: every table of the result (:meth:`evaluation.result.EvaluationResult.tables`),
  ``results/input_counts.csv``, ``results/screen_flags.csv``
- ``quarantine.csv``: every input row not used, with its reason
- ``cleared_cells.csv``: every cell of a used row that could not be read (or cannot be true), cleared, with
  its reason
- ``report/``: documents (see :mod:`reports`)

The history (``history.sqlite`` beside the project file) records the year in
the same step as the folder swap.  CSV files are UTF-8 with a BOM and
neutralised against formula injection.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from evaluation.evaluate import evaluate
from evaluation.result import EvaluationResult, ReportContext
from evaluation.trends import trends, year_trends
from minping.messages import say
from minping.history import case_volumes, history_path, load_history_or_empty, merged_history, record_result
from minping.outputs import ProjectLock, YearFolder, check_out_dir, default_out, replace_file, write_json, write_table
from reports.render import render_reports
from surveys.framework import Framework
from surveys.ingest import YearInput, load_year
from surveys.project import Project, load_project
from surveys.rectification import read_rectification

#: files of the project-level year-over-year tables, in ``OUT``
TREND_FILES = ("trends", "rank_changes", "movers")


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


def _write_books(loaded: YearInput, folder: Path) -> None:
    """The ledger: ``quarantine.csv``, ``cleared_cells.csv``, ``results/input_counts.csv`` and
    ``results/screen_flags.csv``."""
    (folder / "results").mkdir(parents=True, exist_ok=True)
    write_table(loaded.ledger.frame(), folder / "quarantine.csv")
    write_table(loaded.ledger.cells_frame(), folder / "cleared_cells.csv")
    write_table(loaded.ledger.counts_frame(), folder / "results" / "input_counts.csv")
    write_table(loaded.ledger.flags_frame(), folder / "results" / "screen_flags.csv")


def validate_year(project: Project, framework: Framework, year: int, out: Path) -> YearRun:
    """Load and validate one year; write its ledger to ``OUT/validate/<year>/`` (never the published year)."""
    t0 = time.perf_counter()
    loaded = load_year(project, framework, year)
    folder = YearFolder(check_out_dir(out) / "validate", year, log=lambda m: None)
    stage = folder.begin()
    _write_books(loaded, stage)
    run = YearRun(year, folder.commit(), loaded, timings={"load_validate_s": time.perf_counter() - t0})
    return run


def run_year(project: Project, framework: Framework, year: int, out: Path, *, render: bool = True,
             langs: tuple[str, ...] = ("zh",), variance: str = "linearisation", n_replicates: int = 500,
             log=print) -> YearRun:
    """Validate, evaluate, write results and (optionally) documents for one year, then publish them at once."""
    folder = YearFolder(out, year, log=log)
    stage = folder.begin()
    log(say("reading", year=year))
    t0 = time.perf_counter()
    loaded = load_year(project, framework, year)
    run = YearRun(year, folder.final, loaded, timings={"load_validate_s": time.perf_counter() - t0})
    _write_books(loaded, stage)

    log(say("estimating", year=year))
    t0 = time.perf_counter()
    result = evaluate_loaded(project, framework, loaded, variance=variance, n_replicates=n_replicates)
    inputs = result.provenance.input_sha256
    volumes = case_volumes(loaded.tables)
    db = history_path(project.root)
    run.timings["evaluate_s"] = time.perf_counter() - t0
    for name, frame in result.tables().items():
        write_table(frame, stage / "results" / f"{name}.csv")

    manifest = _manifest(project, run, result, inputs)
    result = result.with_manifest(manifest["manifest_sha256"])
    if render:
        log(say("rendering", year=year))
        t0 = time.perf_counter()
        for lang in langs:
            run.documents += [folder.final / p.relative_to(stage) for p in render_reports(result, stage, lang=lang)]
        run.timings["render_s"] = time.perf_counter() - t0
    manifest["timings"] = {k: round(v, 3) for k, v in run.timings.items()}
    write_json(manifest, stage / "manifest.json")
    record_result(db, result, manifest, volumes=volumes, before_commit=folder.commit)
    run.result = result
    return run


def evaluate_loaded(project: Project, framework: Framework, loaded: YearInput, *,
                    variance: str = "linearisation", n_replicates: int = 500) -> EvaluationResult:
    """Evaluate a loaded year exactly as ``minping run`` does, with the change since last year attached.

    The project's seed and the framework's level; the input files' hashes in
    the provenance; the earlier years from the project's history (with this
    year's result in place of any recorded copy of it), mapped through the
    crosswalk (:func:`evaluation.trends.year_trends`); the returned 整改
    workbook of ``[rectification]`` judged again (:func:`evaluation.problems.follow_up`);
    the project's facts for the documents (:func:`report_context`).  Nothing is written.
    """
    year = loaded.data.year
    returned = project.rectifications.get(year)
    rectification = (read_rectification(returned, department_ids={d.id for d in framework.departments})
                     if returned is not None else None)
    result = evaluate(loaded.data, framework, seed=project.seed, variance=variance, n_replicates=n_replicates,
                      rectification=rectification)
    inputs = {project.label(s.path): sha256_file(s.path) for s in project.inputs_for(year)}
    result = replace(result, provenance=replace(result.provenance, project_sha256=project.sha256,
                                                input_sha256=inputs))
    history = merged_history(load_history_or_empty(history_path(project.root)), result,
                             case_volumes(loaded.tables))
    result = result.with_context(report_context(project, year))
    return result.with_trends(year_trends(history, year, level=result.level, seed=project.seed,
                                          frameworks=framework.lineage))


def report_context(project: Project, year: int) -> ReportContext:
    """The project's facts the documents of ``year`` state (city, evaluator, period, report date)."""
    start, end = project.periods[year]
    return ReportContext(project=project.name, project_en=project.name_en, city=project.city,
                         city_en=project.city_en, evaluator=project.evaluator, evaluator_en=project.evaluator_en,
                         period_start=start, period_end=end, period_declared=year in project.periods_declared,
                         report_date=project.report_dates.get(year),
                         rectification_months=project.rectification_months)


def _manifest(project: Project, run: YearRun, result: EvaluationResult, inputs: dict) -> dict:
    counts = run.input.ledger.counts_frame()
    by_table = counts.groupby("table")[["rows_in", "rows_used", "rows_quarantined"]].sum()
    prov = result.provenance
    fw = result.framework
    body = {
        "toolkit": "minping", "toolkit_version": prov.toolkit_version, "year": run.year,
        "project": project.name, "project_sha256": project.sha256,
        "framework": {"id": fw.id, "version": fw.version, "sha256": fw.sha256, "likert_preset": fw.likert_preset,
                      "weight_method": prov.methods["weights"], "weights": [dict(w) for w in prov.weights],
                      "nominal_weights": fw.nominal_weights()},
        "seed": prov.seed, "confidence_level": result.level, "settings": prov.settings, "methods": prov.methods,
        "channels": result.coverage.channels.to_dict(orient="records"),
        "designs": result.coverage.designs.to_dict(orient="records"),
        "checks_not_made": result.coverage.checks.loc[~result.coverage.checks["assessed"].astype(bool),
                                                      ["check", "reason_code", "reason_en"]].to_dict(orient="records"),
        "missing_columns": result.coverage.missing_columns.to_dict(orient="records"),
        "inputs": [{"path": p, "sha256": h} for p, h in inputs.items()],
        "rows": counts.to_dict(orient="records"),
        "rows_by_table": by_table.reset_index().to_dict(orient="records"),
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    body["manifest_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    return body


def run_project(path: str | Path = "project.toml", *, years=None, out: str | Path | None = None,
                render: bool = True, langs: tuple[str, ...] = ("zh",), variance: str = "linearisation",
                n_replicates: int = 500, log=print) -> list[YearRun]:
    """Run every (or the given) year of a project; returns one :class:`YearRun` per year.

    One run per project at a time (:class:`minping.outputs.ProjectLock`).
    """
    project = load_project(path)
    framework = project.load_framework()
    out = check_out_dir(Path(out) if out else default_out(project.root))
    runs = []
    with ProjectLock(project.root):
        for year in (years or project.years):
            runs.append(run_year(project, framework, int(year), out, render=render, langs=langs, variance=variance,
                                 n_replicates=n_replicates, log=log))
        write_project_trends(project, framework, out, log=log)
    return runs


def write_project_trends(project: Project, framework: Framework, out: Path, *, log=print) -> dict | None:
    """Changes between every pair of consecutive recorded years: ``OUT/trends.csv``,
    ``OUT/rank_changes.csv``, ``OUT/movers.csv`` (nothing with fewer than two years)."""
    history = load_history_or_empty(history_path(project.root))
    if history["departments"]["year"].nunique() < 2:
        return None
    tables = trends(history, level=framework.confidence_level, seed=project.seed, frameworks=framework.lineage)
    write_trend_tables(out, tables)
    log(say("trends_written", path=out / "trends.csv"))
    return tables


def write_trend_tables(out: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    """``trends.csv``, ``rank_changes.csv`` and ``movers.csv`` in ``out``, each replaced atomically."""
    out = check_out_dir(out)
    return [replace_file(tables[name], out / f"{name}.csv") for name in TREND_FILES]


def summary_lines(run: YearRun, k: int = 3) -> list[str]:
    """Top and bottom departments with index and interval, quarantine count, where outputs are."""
    lines = []
    r = run.result
    counts = run.input.ledger.counts_frame()
    if r is not None:
        d = r.departments.dropna(subset=["index"]).sort_values("rank")
        pct = f"{r.level * 100:g}"
        fmt = lambda x: (f"  {int(x['rank']):>2}. {x['department']} ({x['department_id']}): {x['index']:.1f} "  # noqa: E731
                         f"[{pct}% CI {x['ci_low']:.1f}–{x['ci_high']:.1f}], rank {int(x['rank_low'])}–"
                         f"{int(x['rank_high'])}, grade {x['grade']}")
        lines.append(f"{run.year}: {len(d)} departments evaluated")
        missing = r.departments[r.departments["index"].isna()]
        if len(missing):
            lines.append(" not evaluated: " + ", ".join(
                f"{x.department} ({x.department_id}: {x.not_evaluated_reason})" for x in missing.itertuples()))
        if len(d) <= 2 * k:  # few departments: each once
            lines.append(" ranking:")
            lines += [fmt(x) for _, x in d.iterrows()]
        else:
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


__all__ = ["YearRun", "counts_table", "evaluate_loaded", "report_context", "run_project", "run_year", "summary_lines",
           "validate_year", "write_project_trends", "write_trend_tables"]
