"""``minping plan PROJECT --year Y``: the sampling plan of a year, before fieldwork.

Reads what the project knows (the results history, last year's quality
figures and administrative case volumes, the framework's weights and gates,
the ``[plan]`` section of ``project.toml``), computes the plan with
:mod:`evaluation.planning` and writes it to ``OUT/plan/<year>/``:

===========================  ====================================================================
file                         contents
===========================  ====================================================================
``plan_units.csv``           per department and sampled table (:data:`PLAN_UNIT_OUTPUT`): units
                             to complete, contacts to attempt, the rate between them, cost, the
                             per-unit variance used and where it came from, the standard error
                             of the table's contribution to the index
``plan_departments.csv``     per department (:data:`PLAN_DEPARTMENT_OUTPUT`): budget, expected
                             index SE and half-width, expected rank interval overall and in
                             category, last year's SE for comparison
``plan_indicators.csv``      per department and sampled indicator: expected SE and half-width
``tradeoff.csv``             every allocation method at the plan's cost: half-widths reached,
                             expected rank-interval widths, and the budget each would need so
                             that no department's half-width exceeds the target
``budget_curve.csv``         equal precision: the budget that buys each index half-width
``callback_draw.csv``        the callback cases drawn, without phone numbers: frame sizes,
                             inclusion probabilities and weights, call order
``visit_schedule.csv``       the site visits: department, date, half day, hall, type
``manifest.json``            seed, streams, methods, settings, defaults applied, input hashes
``restricted_call_lists/``   ``call_list_<year>.xlsx`` in the callback template format WITH the
                             phone numbers, and a README: personal data, for the call centre
                             only; nothing else the plan writes holds a phone number
===========================  ====================================================================

The ``[plan]`` section of ``project.toml`` (every key optional)::

    [plan]
    budget = 400000                  # total fieldwork budget, in the currency of the costs
    target_half_width = 1.5          # the index half-width every department should reach
    allocation = "equal_precision"   # proportional | neyman | fixed
    fieldwork = ["2026-03-01", "2026-11-30"]   # site-visit season (default: the whole year)
    halls = "data/halls.csv"         # department, hall (default: one hall per department)
    mystery_share = 0.5              # share of site visits made unannounced
    [plan.costs]                     # per unit; keys: S, C, V or a sampled table's name
    S = 40                           #   a completed questionnaire
    C = 25                           #   a completed callback interview (failed calls included)
    V = 800                          #   a site visit
    guides = 50                      #   one service guide checked
    [plan.rates]                     # completes per contact, overriding last year's
    S = 0.6
    [plan.minimum]                   # default: the gates G4 (survey, callback), guides 10, else 2
    V = 3
    [plan.maximum]
    [plan.fixed]                     # allocation = "fixed": units per department
    S = 100
    C = 100
    [[plan.frames]]                  # case records of the planned year, for the callback draw
    year = 2026
    path = "data/2026/case_records.xlsx"
    sheet = "办件清单"                # also encoding, header_rows, delimiter
    [plan.frames.columns]            # the file's header -> case_id, department_id, phone,
    "受理编号" = "case_id"            #   matter_id, matter_name, handled_month

Further keys: ``prior_df`` (moderation of per-unit variances, default 10),
``rho`` (within-table correlation, default calibrated), ``fpc`` (tables whose
design corrects for the finite population; default those declared with
``population`` or ``fpc`` under ``[inputs.design]``), ``index_sd`` (first
year: spread of the true indices, default 5), ``rank_replicates`` (20),
``[plan.unit_sd]`` (first year: per-unit SD per table,
:data:`evaluation.planning.DEFAULT_UNIT_SD`).  Without a budget or a target
the plan spends what last year's sample sizes cost at these costs; in a first
year (no history) it aims at a half-width of 2 index points.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import tempfile
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import planning as P
from evaluation.result import toolkit_version
from evaluation.seeds import STREAMS
from surveys.errors import FrameworkError, Problem
from surveys.framework import Framework
from surveys.project import Project, load_project

__all__ = ["Plan", "PlanSettings", "add_plan_parser", "cmd_plan", "load_plan_settings", "make_plan", "write_plan"]

#: ``[plan]`` shorthand: a channel code stands for the table whose units it counts
CHANNEL_TABLES = {"S": "survey", "C": "callback_interviews", "V": "visits"}
#: cost per unit when ``[plan.costs]`` does not say (illustrative; declare the contract's)
DEFAULT_COSTS = {"survey": 40.0, "callback_interviews": 25.0, "visits": 800.0, "guides": 50.0}
#: callback completes per case drawn when neither last year nor ``[plan.rates]`` says (DOMAIN: 55-70%)
DEFAULT_COMPLETION = 0.60
#: fewest units of a table without a gate: two, the fewest that can show a variance; for the service
#: guides the desk check's usual ten (a share near 1 from fewer guides has a Wilson interval that widens
#: faster than 1 / sqrt(n), so the per-unit variance of last year's ten would promise too much)
DEFAULT_MINIMUM = 2
DEFAULT_TABLE_MINIMUM = {"guides": 10}
#: first year without budget or target: the index half-width to reach
DEFAULT_TARGET_HALF_WIDTH = 2.0
#: first year: assumed spread (SD) and centre of the true indices, for the expected rank intervals
DEFAULT_INDEX_SD = 5.0
DEFAULT_INDEX_MEAN = 80.0
#: allocation = "fixed" without [plan.fixed]: the habit of 100 questionnaires and 100 callbacks each
DEFAULT_FIXED = {"survey": 100.0, "callback_interviews": 100.0}
#: half-widths whose equal-precision budget the plan states
CURVE_HALF_WIDTHS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
#: the volume tier whose rank intervals the trade-off reports separately (the small departments)
SMALL_TIER = "L"
#: the service guides checked at the desk: one per matter, so a department's matters are their population
GUIDES_TABLE = "guides"
RESTRICTED_DIR = "restricted_call_lists"
RESTRICTED_README = (
    "本文件夹含个人信息（办事群众的电话号码），仅供回访执行使用。请勿复制到评估结果、报告或共享目录；"
    "回访结束后按合同约定删除。\n"
    "This folder holds personal data (applicants' phone numbers) for the call centre only. Do not copy it into "
    "evaluation outputs, reports or shared folders; delete it when the callbacks are done.\n"
)
_UNIT_COUNTS = {"survey": "n_survey", "callback_interviews": "n_callback", "visits": "n_visit"}
_KEYS = {"budget", "target_half_width", "allocation", "fieldwork", "halls", "mystery_share", "prior_df", "rho",
         "fpc", "index_sd", "rank_replicates", "costs", "rates", "minimum", "maximum", "fixed", "unit_sd", "frames"}
_FRAME_KEYS = {"year", "path", "columns", "encoding", "sheet", "header_rows", "delimiter"}

PLAN_UNIT_OUTPUT = [
    "year", "department_id", "department", "category", "tier", "channel", "table", "units", "contacts", "rate",
    "rate_source", "cost", "cost_total", "population", "fpc", "minimum", "maximum", "n_optimal", "unit_variance",
    "unit_variance_raw", "variance_source", "basis_year", "variance", "se",
]
PLAN_DEPARTMENT_OUTPUT = [
    "year", "department_id", "department", "department_en", "category", "tier", "basis_year", "index_assumed",
    "last_se", "last_half_width", "budget", "se", "half_width", "level", "target_reached", "bound", "rank_low",
    "rank_high", "rank_width", "rank_in_category_low", "rank_in_category_high", "rank_in_category_width", "flags",
]
TRADEOFF_COLUMNS = [
    "allocation", "budget", "half_width_max", "half_width_median", "half_width_min", "rank_width_mean",
    "rank_width_small_mean", "target_half_width", "budget_for_target", "level",
]
CURVE_COLUMNS = ["half_width", "budget", "level"]
CALL_LIST_COLUMNS = ["case_id", "department_id", "phone", "handled_month", "attempt_no", "called_at", "outcome"]


# ---------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameSpec:
    """A case-record file of ``[[plan.frames]]``."""

    year: int
    path: Path
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    sheet: str | int | None = None
    header_rows: int = 1
    delimiter: str | None = None


@dataclass(frozen=True)
class PlanSettings:
    """The ``[plan]`` section of ``project.toml``, checked (tables keyed by their canonical names)."""

    budget: float | None = None
    target_half_width: float | None = None
    allocation: str = "equal_precision"
    fieldwork: tuple[dt.date, dt.date] | None = None
    halls: Path | None = None
    mystery_share: float = 0.5
    prior_df: float = 10.0
    rho: float | None = None
    fpc: tuple[str, ...] | None = None
    index_sd: float = DEFAULT_INDEX_SD
    rank_replicates: int = 20
    costs: dict[str, float] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)
    fixed: dict[str, float] = field(default_factory=dict)
    unit_sd: dict[str, float] = field(default_factory=dict)
    frames: tuple[FrameSpec, ...] = ()


def load_plan_settings(project: Project, framework: Framework) -> PlanSettings:
    """Read and check the ``[plan]`` section of the project file; every problem is reported at once."""
    data = tomllib.loads(project.path.read_bytes().decode("utf-8-sig")).get("plan", {})
    where = str(project.path)
    problems: list[Problem] = []
    tables = P.sampled_tables(framework)

    def problem(msg: str, fix: str) -> None:
        problems.append(Problem(msg, fix=fix, file=where))

    for k in data:
        if k not in _KEYS:
            problem(f"[plan]: unknown key '{k}'", f"use one of {sorted(_KEYS)}")

    def number(key, value, *, low=0.0, high=None, strict=True):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problem(f"[plan] {key} = {value!r} is not a number", f"write {key} as a plain number")
            return None
        ok = (value > low if strict else value >= low) and (high is None or value <= high)
        if not ok:
            bound = f"between {low} and {high}" if high is not None else f"above {low}"
            problem(f"[plan] {key} = {value!r}", f"give a {key} {bound}")
            return None
        return float(value)

    def per_table(name, *, low=0.0, high=None, strict=True):
        out = {}
        for key, value in (data.get(name) or {}).items():
            table = CHANNEL_TABLES.get(key, key)
            if table not in tables:
                problem(f"[plan.{name}]: '{key}' is neither a channel code (S, C, V) nor a sampled table",
                        f"use S, C, V or one of {sorted(tables)}")
                continue
            v = number(f"{name}.{key}", value, low=low, high=high, strict=strict)
            if v is not None:
                out[table] = v
        return out

    budget = number("budget", data["budget"]) if "budget" in data else None
    target = number("target_half_width", data["target_half_width"]) if "target_half_width" in data else None
    allocation = data.get("allocation", "equal_precision")
    if allocation not in P.ALLOCATION_METHODS:
        problem(f"[plan] allocation = {allocation!r}", f"use one of {list(P.ALLOCATION_METHODS)}")
    fieldwork = None
    if "fieldwork" in data:
        try:
            start, end = (dt.date.fromisoformat(str(v)) for v in data["fieldwork"])
            if end < start:
                raise ValueError
            fieldwork = (start, end)
        except (ValueError, TypeError):
            problem(f"[plan] fieldwork = {data['fieldwork']!r}",
                    'write it as ["YYYY-MM-DD", "YYYY-MM-DD"], start first')
    halls = None
    if "halls" in data:
        halls = project.root / str(data["halls"])
        if not halls.exists():
            problem(f"[plan] halls file '{data['halls']}' does not exist",
                    "correct the path (relative to project.toml)")
    mystery = number("mystery_share", data.get("mystery_share", 0.5), low=0.0, high=1.0, strict=False)
    prior_df = number("prior_df", data.get("prior_df", 10.0), low=0.0, strict=False)
    rho = number("rho", data["rho"], low=0.0, high=1.0, strict=False) if "rho" in data else None
    index_sd = number("index_sd", data.get("index_sd", DEFAULT_INDEX_SD))
    reps = data.get("rank_replicates", 20)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        problem(f"[plan] rank_replicates = {reps!r}", "give a whole number of at least 1, e.g. 20")
        reps = 20
    fpc = None
    if "fpc" in data:
        fpc = tuple(str(t) for t in data["fpc"])
        for t in fpc:
            if t not in tables:
                problem(f"[plan] fpc names '{t}', not a sampled table", f"use tables of {sorted(tables)}")
    frames = []
    for n, item in enumerate(data.get("frames", []), start=1):
        at = f"[[plan.frames]] number {n}"
        for k in item:
            if k not in _FRAME_KEYS:
                problem(f"{at}: unknown key '{k}'", f"use one of {sorted(_FRAME_KEYS)}")
        rel = str(item.get("path", ""))
        path = project.root / rel
        if not rel or not path.exists():
            problem(f"{at}: case-record file '{rel}' does not exist", "correct the path (relative to project.toml)")
            continue
        if not isinstance(item.get("year"), int):
            problem(f"{at}: no year", "add year = <the planned year>")
            continue
        frames.append(FrameSpec(int(item["year"]), path, {str(k): str(v) for k, v in item.get("columns", {}).items()},
                                item.get("encoding"), item.get("sheet"), int(item.get("header_rows", 1)),
                                item.get("delimiter")))
    settings = PlanSettings(
        budget=budget, target_half_width=target, allocation=allocation, fieldwork=fieldwork, halls=halls,
        mystery_share=0.5 if mystery is None else mystery, prior_df=10.0 if prior_df is None else prior_df, rho=rho,
        fpc=fpc, index_sd=index_sd or DEFAULT_INDEX_SD, rank_replicates=int(reps),
        costs=per_table("costs"), rates=per_table("rates", high=1.0), minimum=per_table("minimum", strict=False),
        maximum=per_table("maximum"), fixed=per_table("fixed", strict=False), unit_sd=per_table("unit_sd"),
        frames=tuple(frames))
    missing = [t for t in tables if t not in settings.costs and t not in DEFAULT_COSTS]
    for t in missing:
        problem(f"[plan.costs] gives no cost for the sampled table '{t}'", f"add {t} = <cost per unit>")
    if problems:
        raise FrameworkError(f"The [plan] section of {project.path.name} is invalid", problems)
    return settings


# ---------------------------------------------------------------------------
# the plan
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A year's sampling plan (see the module notes for every frame's columns).

    ``call_list`` holds phone numbers: :func:`write_plan` writes it only into
    the restricted folder.
    """

    year: int
    allocation: P.Allocation
    units: pd.DataFrame
    departments: pd.DataFrame
    indicators: pd.DataFrame
    tradeoff: pd.DataFrame
    curve: pd.DataFrame
    draw: pd.DataFrame
    visits: pd.DataFrame
    call_list: pd.DataFrame
    manifest: dict
    notes: tuple[str, ...] = ()


def make_plan(project: Project | str | Path, year: int, *, framework: Framework | None = None,
              history: dict | None = None, results_dir: str | Path | None = None,
              components: pd.DataFrame | None = None, budget: float | None = None,
              target_half_width: float | None = None, allocation: str | None = None,
              fixed: dict[str, float] | pd.DataFrame | None = None, settings: PlanSettings | None = None) -> Plan:
    """Compute the sampling plan of ``year``.

    Parameters
    ----------
    project : the project (or its file or folder)
    year : the year to plan
    framework : default the project's
    history : frames of :func:`minping.history.load_history`; default read
        from the project's ``history.sqlite`` if it exists (only years before
        ``year`` are used).  ``{}`` plans as a first year.
    results_dir : where earlier years' results are (``<dir>/<year>/results/
        quality.csv``, ``variance_components.csv``); default ``output/``
        beside the project file
    components : a ``variance_components`` frame
        (:data:`evaluation.planning.VARIANCE_COMPONENT_COLUMNS`, optionally
        with ``year``); default the history's or the results folder's, else
        the indicator-based approximation
    budget, target_half_width, allocation : override ``[plan]``
    fixed : ``allocation="fixed"``: units per table (overrides ``[plan.fixed]``)
        or per department and table (``department_id, table, units``)
    settings : override the ``[plan]`` section entirely

    Returns
    -------
    Plan
    """
    project = project if isinstance(project, Project) else load_project(project)
    framework = framework or project.load_framework()
    settings = settings or load_plan_settings(project, framework)
    if target_half_width is not None and budget is None:
        settings = replace(settings, budget=None)        # a target given here replaces the declared budget
    settings = replace(settings, **{k: v for k, v in (("budget", budget), ("target_half_width", target_half_width),
                                                      ("allocation", allocation)) if v is not None})
    level = framework.confidence_level
    year = int(year)
    results_dir = Path(results_dir) if results_dir is not None else project.root / "output"
    notes: list[str] = []
    inputs: list[dict] = []
    tables = P.sampled_tables(framework)
    history, history_file = _history(project, history, year)
    if history_file is not None:
        inputs.append({"kind": "history", **_file_entry(history_file, project)})

    deps = _planned_departments(framework, year, history)
    register = pd.DataFrame([{"department_id": d.id, "department": d.name, "department_en": d.name_en,
                              "category": d.category, "tier": d.tier} for d in deps])
    ids = list(register["department_id"])
    predecessors = _predecessors(framework, year, history)
    keep = set(ids) | {p for ps in predecessors.values() for p in ps}
    basis = _basis(history, keep)         # indicator and department rows of each department's latest year

    # per-unit variances
    comps = components if components is not None else _components(history, results_dir, basis, inputs, project)
    rho, rho_source = settings.rho, "declared"
    if comps is not None and len(comps):
        own = P.unit_variances_from_components(comps)
        variance_source = "components"
    elif len(basis["indicators"]):
        if rho is None:
            rho = P.calibrate_correlation(basis["indicators"], basis["departments"], framework)
            rho_source = "calibrated"
        own = P.unit_variances_from_indicators(basis["indicators"], framework, rho=rho, units=basis["units"])
        variance_source = "indicators"
    else:
        own = pd.DataFrame(columns=P.UNIT_VARIANCE_COLUMNS)
        variance_source = "defaults"
        notes.append("no results history: per-unit variances are the first-year defaults "
                     f"(per-unit SD per table {P.DEFAULT_UNIT_SD | settings.unit_sd}); "
                     "declare [plan.unit_sd] to change them")
    own = P.moderate_unit_variances(own, prior_df=settings.prior_df) if len(own) else own
    defaults = P.default_unit_variances(framework, ids, sd=settings.unit_sd)
    uv = P.fill_unit_variances(own, ids, tables, predecessors=predecessors, defaults=defaults)
    borrowed = sorted(set(uv.loc[uv["source"].isin(["pooled", "default"]) & (variance_source != "defaults"),
                                 "department_id"]))
    if borrowed:
        notes.append(f"no figures of their own (median of the other departments used): {', '.join(borrowed)}")

    # populations, rates, costs, bounds
    counts = _admin_counts(project, framework, year, inputs)
    volumes = basis["volumes"].combine_first(counts["volumes"]) if len(basis["volumes"]) else counts["volumes"]
    frame = _case_frame(settings, framework, year, inputs, project)
    fpc_tables = set(settings.fpc) if settings.fpc is not None else _fpc_tables(project, year)
    rates, rate_source = _rates(settings, tables, ids, results_dir, basis, inputs, project, notes)
    units = _units(uv, tables, settings, framework, volumes, counts["matters"], frame, fpc_tables, rates)
    units["rate_source"] = [rate_source.get((d, t), "") for d, t in zip(units["department_id"], units["table"])]

    # budget or target
    budget_, target = settings.budget, settings.target_half_width
    if settings.allocation != "fixed" and budget_ is None and target is None:
        last = _last_cost(units, basis)
        if last is not None:
            budget_ = last
            notes.append(f"no budget or target declared: the plan spends what last year's sample sizes cost at the "
                         f"declared costs ({last:,.0f})")
        else:
            target = DEFAULT_TARGET_HALF_WIDTH
            notes.append(f"no budget, target or history: the plan aims at an index half-width of {target:g} points "
                         f"(the first-year default)")
    fixed = _fixed_sizes(settings, uv) if fixed is None else fixed
    alloc = P.allocate(units, method=settings.allocation, level=level, budget=budget_,
                       target_half_width=None if budget_ is not None else target, fixed=fixed)
    notes += list(alloc.notes)
    if budget_ is not None and alloc.total_cost > budget_ * 1.01:
        notes.append(f"the minimum sizes alone cost {alloc.total_cost:,.0f}, more than the budget {budget_:,.0f}")

    assumed = _assumed(basis, register, settings, notes)
    ranks = _ranks(assumed, alloc, level, project.seed, year, settings, "plan")
    indicators = _indicator_plan(basis, framework, ids, settings, alloc, year)
    tradeoff, curve = _tradeoff(units, alloc, ranks, assumed, register, level, project.seed, year, settings, fixed,
                                target if target is not None else float(alloc.departments["half_width"].max()))

    draw, call_list = _draws(frame, alloc, tables, register, project.seed, year, notes)
    visits = _visits(alloc, register, settings, project, framework, year, inputs)

    out_units = _units_output(alloc, register, basis, year)
    out_deps = _departments_output(alloc, register, basis, assumed, ranks, level, year, uv)
    manifest = _manifest(project, framework, year, settings, alloc, budget_, target, variance_source, rho, rho_source,
                         basis, inputs, notes, fixed, bool(len(call_list)))
    return Plan(year, alloc, out_units, out_deps, indicators, tradeoff, curve, draw, visits, call_list, manifest,
                tuple(notes))


def _history(project: Project, history: dict | None, year: int):
    from minping.history import history_path, load_history

    path = history_path(project.root)
    if history is None:
        if not path.exists():
            return {}, None
        history = load_history(path)
    else:
        path = None
    out = {}
    for name, frame in history.items():
        if isinstance(frame, pd.DataFrame) and "year" in frame.columns and name != "crosswalk":
            out[name] = frame[frame["year"] < year]
        else:
            out[name] = frame
    return out, path


def _file_entry(path: Path, project: Project) -> dict:
    try:
        rel = path.resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:
        rel = path.name
    return {"path": rel, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _planned_departments(framework: Framework, year: int, history: dict):
    deps = list(framework.departments_in(year))
    seen = set(history.get("departments", pd.DataFrame(columns=["department_id"]))["department_id"])
    deps += [d for d in framework.departments_in(year, include_optional=True) if d.optional and d.id in seen]
    if not deps:
        raise FrameworkError("Nothing to plan", [Problem(
            f"the framework's register has no department in {year}",
            fix="check the year, or the first_year / last_year of the departments in framework.toml")])
    return deps


def _basis(history: dict, keep: set[str]) -> dict:
    """Each department's latest recorded year: its indicator rows, department row, units and volume."""
    ind = history.get("indicators")
    dep = history.get("departments")
    if ind is not None and dep is not None:
        ind, dep = ind[ind["department_id"].isin(keep)], dep[dep["department_id"].isin(keep)]
    empty = {"indicators": pd.DataFrame(columns=["department_id", "indicator_id", "weight", "se", "n"]),
             "departments": pd.DataFrame(columns=["department_id", "index", "se", "year"]),
             "units": pd.DataFrame(columns=["department_id", "table", "n"]), "years": pd.Series(dtype=float),
             "volumes": pd.Series(dtype=float)}
    if ind is None or dep is None or ind.empty:
        return empty
    ind = ind[ind["se"].notna()]
    years = ind.groupby("department_id")["year"].max()
    ind = ind[ind["year"].to_numpy() == ind["department_id"].map(years).to_numpy()]
    dep = dep[dep["year"].to_numpy() == dep["department_id"].map(years).to_numpy()]
    units = pd.concat([pd.DataFrame({"department_id": dep["department_id"], "table": t, "n": dep[c]})
                       for t, c in _UNIT_COUNTS.items() if c in dep.columns], ignore_index=True)
    vol = (dep.set_index("department_id")["case_volume"].dropna().astype(float) if "case_volume" in dep
           else pd.Series(dtype=float))
    return {"indicators": ind, "departments": dep, "units": units, "years": years, "volumes": vol}


def _predecessors(framework: Framework, year: int, history: dict) -> dict[str, tuple[str, ...]]:
    """Departments renamed or merged after the last recorded year: successor -> predecessors."""
    runs = history.get("indicators")
    last = int(runs["year"].max()) if runs is not None and len(runs) else year - 1
    out: dict[str, tuple[str, ...]] = {}
    for e in framework.crosswalk:
        if last < e.year <= year:
            out[e.successor] = tuple(e.predecessors)
    return out


def _components(history: dict, results_dir: Path, basis: dict, inputs: list, project: Project):
    comps = history.get("variance_components")
    if comps is not None and len(comps):
        if "year" in comps.columns and len(basis["years"]):
            comps = comps[comps["year"].to_numpy() == comps["department_id"].map(basis["years"]).to_numpy()]
        return comps if len(comps) else None
    if not len(basis["years"]):
        return None
    parts = []
    for y in sorted(set(basis["years"].astype(int))):
        path = results_dir / str(y) / "results" / "variance_components.csv"
        if path.exists():
            frame = pd.read_csv(path, encoding="utf-8-sig")
            ids = basis["years"][basis["years"] == y].index
            parts.append(frame[frame["department_id"].isin(ids)])
            inputs.append({"kind": "variance_components", **_file_entry(path, project)})
    return pd.concat(parts, ignore_index=True) if parts else None


def _admin_counts(project: Project, framework: Framework, year: int, inputs: list) -> dict:
    """Cases received and matters per department from the latest year's administrative inputs."""
    from minping.history import case_volumes
    from surveys.ingest import load_year

    years = sorted({s.year for s in project.inputs if s.table in ("admin_monthly", "admin_matters") and s.year <= year})
    out = {"volumes": pd.Series(dtype=float), "matters": pd.Series(dtype=float)}
    if not years:
        return out
    last = years[-1]
    specs = tuple(s for s in project.inputs if s.year == last and s.table in ("admin_monthly", "admin_matters"))
    loaded = load_year(replace(project, inputs=specs), framework, last)
    out["volumes"] = pd.Series(case_volumes(loaded.tables), dtype=float)
    matters = loaded.tables.get("admin_matters")
    if matters is not None and len(matters):
        out["matters"] = matters.groupby("department_id")["matter_id"].nunique().astype(float)
    for s in specs:
        entry = {"kind": f"admin ({s.table}, {last})", **_file_entry(s.path, project)}
        if entry not in inputs:
            inputs.append(entry)
    return out


def _case_frame(settings: PlanSettings, framework: Framework, year: int, inputs: list, project: Project):
    from surveys.errors import DataValidationError
    from surveys.frames import CaseFrame, read_case_records

    specs = [f for f in settings.frames if f.year == year]
    if not specs:
        return None
    parts = []
    for f in specs:
        cf = read_case_records(f.path, framework, year=year, columns=f.columns, encoding=f.encoding, sheet=f.sheet,
                               header_rows=f.header_rows, delimiter=f.delimiter)
        parts.append(cf.records.assign(_file=f.path.name))
        inputs.append({"kind": "case_records", "rows": cf.rows_in, **_file_entry(f.path, project)})
    records = pd.concat(parts, ignore_index=True)
    dup = records.duplicated(["department_id", "case_id"], keep="first")
    if dup.any():
        rows = records[dup].head(20)
        raise DataValidationError("The case records list a case twice", [Problem(
            f"case {r.case_id} of department {r.department_id} is in more than one file", file=r._file,
            row=int(r.source_row), fix="give each case once") for r in rows.itertuples()])
    return CaseFrame(records.drop(columns="_file"), specs[0].path, inputs[-1]["sha256"], len(records))


def _fpc_tables(project: Project, year: int) -> set[str]:
    years = sorted({s.year for s in project.inputs if s.year <= year})
    if not years:
        return set()
    return {s.table for s in project.inputs_for(years[-1]) if {"population", "fpc"} & set(s.design)}


def _rates(settings, tables, ids, results_dir: Path, basis: dict, inputs: list, project: Project, notes: list):
    """Units per contact per department and table, and where each came from."""
    callback = next((t for t, ch in tables.items() if ch == "C"), None)
    completion = pd.Series(dtype=float)
    for y in sorted(set(basis["years"].astype(int))) if len(basis["years"]) else []:
        path = results_dir / str(y) / "results" / "quality.csv"
        if path.exists():
            q = pd.read_csv(path, encoding="utf-8-sig")
            if "callback_completion" in q.columns:
                chosen = basis["years"][basis["years"] == y].index
                q = q[q["department_id"].isin(chosen)].set_index("department_id")["callback_completion"]
                completion = pd.concat([completion, q.dropna().astype(float)])
                inputs.append({"kind": "quality", **_file_entry(path, project)})
    completion = completion[(completion > 0) & (completion <= 1)]
    pooled = float(completion.median()) if len(completion) else None
    if callback and callback not in settings.rates and pooled is None:
        notes.append(f"no callback completion rates from earlier results: {DEFAULT_COMPLETION:g} assumed "
                     "(declare [plan.rates] C)")
    rates, source = {}, {}
    for d in ids:
        for t in tables:
            if t in settings.rates:
                rates[(d, t)], source[(d, t)] = settings.rates[t], "declared"
            elif t == callback and d in completion.index:
                rates[(d, t)], source[(d, t)] = float(completion[d]), "last_year"
            elif t == callback and pooled is not None:
                rates[(d, t)], source[(d, t)] = pooled, "pooled"
            elif t == callback:
                rates[(d, t)], source[(d, t)] = DEFAULT_COMPLETION, "default"
            else:
                rates[(d, t)], source[(d, t)] = 1.0, "assumed"
    return rates, source


def _units(uv, tables, settings: PlanSettings, framework: Framework, volumes, matters, frame, fpc_tables, rates):
    gates = framework.gates
    callback = next((t for t, ch in tables.items() if ch == "C"), None)
    survey = next((t for t, ch in tables.items() if ch == "S"), None)
    frame_sizes = frame.sizes() if frame is not None else pd.Series(dtype=float)
    u = uv.rename(columns={"source": "variance_source"}).copy()
    u["cost"] = u["table"].map(lambda t: settings.costs.get(t, DEFAULT_COSTS.get(t)))
    u["rate"] = [rates[(d, t)] for d, t in zip(u["department_id"], u["table"])]
    u["volume"] = u["department_id"].map(volumes)

    def population(d, t):
        if t == callback:
            return float(frame_sizes.get(d, np.nan)) if frame is not None else float(volumes.get(d, np.nan))
        if t == survey:
            return float(volumes.get(d, np.nan))
        if t == GUIDES_TABLE:
            return float(matters.get(d, np.nan))
        return np.nan

    u["population"] = [population(d, t) for d, t in zip(u["department_id"], u["table"])]
    u["population"] = u["population"].astype(float)
    u["fpc"] = u["table"].isin(fpc_tables) & u["population"].notna()
    gate_min = {survey: gates.g4_min_survey, callback: gates.g4_min_callback}
    u["minimum"] = u["table"].map(lambda t: settings.minimum.get(
        t, gate_min.get(t, DEFAULT_TABLE_MINIMUM.get(t, DEFAULT_MINIMUM)))).astype(float)
    mx = u["table"].map(lambda t: settings.maximum.get(t, np.nan)).astype(float)
    # contacts cannot exceed the frame: completes at most population x rate
    cap = np.where(u["table"] == callback, np.floor(u["population"] * u["rate"]), u["population"])
    u["maximum"] = np.fmin(mx.to_numpy(), cap)
    return u


def _last_cost(units: pd.DataFrame, basis: dict) -> float | None:
    """What last year's units would cost at the plan's costs (departments without history at the median)."""
    if not len(basis["units"]):
        return None
    last = units.merge(basis["units"].rename(columns={"n": "last_n"}), on=["department_id", "table"], how="left")
    last["last_n"] = last["last_n"].fillna(last["n"])          # tables without a count: the units behind the variance
    per_dep = (last["last_n"] * last["cost"]).groupby(last["department_id"]).sum(min_count=1)
    if per_dep.notna().sum() == 0:
        return None
    return float(per_dep.fillna(per_dep.median()).sum())


def _fixed_sizes(settings: PlanSettings, uv: pd.DataFrame) -> dict[str, float]:
    """The habit: [plan.fixed] (default 100 questionnaires and 100 callbacks), other tables at last year's median."""
    sizes = dict(settings.fixed or DEFAULT_FIXED)
    last = uv.groupby("table")["n"].median().dropna()
    for t, n in last.items():
        sizes.setdefault(t, float(round(n)))
    return sizes


def _assumed(basis: dict, register: pd.DataFrame, settings: PlanSettings, notes: list) -> pd.DataFrame:
    out = register[["department_id", "category", "tier"]].copy()
    if len(basis["departments"]) and basis["departments"]["index"].notna().sum() >= 2:
        mu = P.assumed_true_index(basis["departments"])
        out["index"] = out["department_id"].map(mu)
        out["index"] = out["index"].fillna(float(mu.mean()))
    else:
        from scipy import stats

        k = len(out)
        out["index"] = DEFAULT_INDEX_MEAN + settings.index_sd * stats.norm.ppf((np.arange(k)[::-1] + 0.5) / k)
        notes.append(f"no earlier indices: the expected rank intervals assume true indices spread with SD "
                     f"{settings.index_sd:g} points (declare [plan] index_sd)")
    return out


def _ranks(assumed: pd.DataFrame, alloc: P.Allocation, level, seed, year, settings: PlanSettings,
           scope: str) -> pd.DataFrame:
    se = alloc.departments.set_index("department_id")["se"]
    overall = P.expected_rank_intervals(assumed, se, level=level, seed=seed, year=year,
                                        replicates=settings.rank_replicates, scope=f"{scope}/overall")
    by_cat = P.expected_rank_intervals(assumed, se, level=level, seed=seed, year=year, group="category",
                                       replicates=settings.rank_replicates, scope=f"{scope}/category")
    by_cat = by_cat.rename(columns={"rank_low": "rank_in_category_low", "rank_high": "rank_in_category_high",
                                    "rank_width": "rank_in_category_width"})
    return overall.merge(by_cat, on="department_id", how="outer")


def _indicator_plan(basis, framework, ids, settings, alloc, year) -> pd.DataFrame:
    if len(basis["indicators"]):
        iu = P.indicator_unit_variances(basis["indicators"], framework, units=basis["units"])
        iu = P.moderate_unit_variances(iu, prior_df=settings.prior_df, by="indicator_id")
    else:
        sd = {**P.DEFAULT_UNIT_SD, **settings.unit_sd}
        nominal = framework.nominal_weights()
        iu = pd.DataFrame([{"department_id": d, "indicator_id": i.id, "table": i.table, "channel": i.channel,
                            "weight": nominal[i.id], "unit_variance": sd.get(i.table, P.DEFAULT_OTHER_SD) ** 2}
                           for d in ids for i in framework.indicators if i.table in P.sampled_tables(framework)])
    iu = iu[iu["department_id"].isin(ids)]
    out = P.indicator_precision(iu, alloc)
    names = {i.id: (i.name, i.name_en) for i in framework.indicators}
    out.insert(0, "year", year)
    out.insert(3, "indicator", out["indicator_id"].map(lambda k: names[k][0]))
    out.insert(4, "indicator_en", out["indicator_id"].map(lambda k: names[k][1]))
    out["level"] = alloc.level
    return out


def _tradeoff(units, alloc: P.Allocation, plan_ranks, assumed, register, level, seed, year, settings, fixed, target):
    """Every allocation at the plan's cost, and what the target half-width would cost under each."""
    small = set(register.loc[register["tier"] == SMALL_TIER, "department_id"])
    rows = []
    for method in P.ALLOCATION_METHODS:
        if method == alloc.method:
            a, ranks = alloc, plan_ranks
        else:
            a = (P.allocate(units, method="fixed", level=level, fixed=fixed) if method == "fixed"
                 else P.allocate(units, method=method, level=level, budget=alloc.total_cost))
            ranks = P.expected_rank_intervals(assumed, a.departments.set_index("department_id")["se"], level=level,
                                              seed=seed, year=year, replicates=settings.rank_replicates,
                                              scope=f"tradeoff/{method}")
        rows.append({"allocation": method, "budget": a.total_cost,
                     "half_width_max": a.departments["half_width"].max(),
                     "half_width_median": a.departments["half_width"].median(),
                     "half_width_min": a.departments["half_width"].min(),
                     "rank_width_mean": ranks["rank_width"].mean(),
                     "rank_width_small_mean": ranks.loc[ranks["department_id"].isin(small), "rank_width"].mean(),
                     "target_half_width": target,
                     "budget_for_target": np.nan if method == "fixed" else _budget_for(units, method, level, target),
                     "level": level})
    points = sorted(set(CURVE_HALF_WIDTHS) | {round(float(target), 3)})
    curve = pd.DataFrame([{"half_width": h, "budget": _budget_for(units, "equal_precision", level, h), "level": level}
                          for h in points])
    return pd.DataFrame(rows, columns=TRADEOFF_COLUMNS), curve[CURVE_COLUMNS]


def _budget_for(units, method, level, half_width) -> float:
    """The cost of the plan that keeps every department within ``half_width`` (NaN when the maxima forbid it)."""
    a = P.allocate(units, method=method, level=level, target_half_width=half_width)
    return float(a.total_cost) if a.departments["target_reached"].fillna(True).astype(bool).all() else np.nan


def _draws(frame, alloc: P.Allocation, tables, register, seed, year, notes):
    empty_call = pd.DataFrame(columns=CALL_LIST_COLUMNS)
    if frame is None:
        notes.append("no case records declared for this year ([[plan.frames]]): no callback cases drawn")
        return pd.DataFrame(columns=["year", "department", *P.DRAW_COLUMNS]), empty_call
    callback = next(t for t, ch in tables.items() if ch == "C")
    u = alloc.units[alloc.units["table"] == callback].set_index("department_id")["contacts"]
    sizes = frame.sizes()
    missing = sorted(set(u[u > 0].index) - set(sizes.index))
    if missing:
        notes.append(f"no case records for: {', '.join(missing)} (no callback cases drawn for them)")
    short = sorted(d for d in u.index if d in sizes.index and sizes[d] < u[d])
    if short:
        notes.append(f"fewer case records than contacts planned, every record drawn: {', '.join(short)}")
    draw = P.draw_callback_sample(frame.records, u[u.index.isin(sizes.index)], seed=seed, year=year)
    names = register.set_index("department_id")["department"]
    draw.insert(0, "year", year)
    draw.insert(2, "department", draw["department_id"].map(names))
    recs = frame.records.set_index(["department_id", "case_id"])
    key = pd.MultiIndex.from_frame(draw[["department_id", "case_id"]])
    call = pd.DataFrame({
        "case_id": draw["case_id"].to_numpy(), "department_id": draw["department"].to_numpy(),
        "phone": recs["phone"].reindex(key).to_numpy(), "handled_month": draw["handled_month"].to_numpy(),
        "attempt_no": 1, "called_at": None, "outcome": None,
    })
    no_phone = int(call["phone"].isna().sum())
    if no_phone:
        notes.append(f"{no_phone} drawn cases have no phone number: they stay in the sample as non-contacts")
    return draw, call[CALL_LIST_COLUMNS]


def _visits(alloc: P.Allocation, register, settings: PlanSettings, project: Project, framework, year, inputs):
    visits_table = CHANNEL_TABLES["V"]
    u = alloc.units[alloc.units["table"] == visits_table].set_index("department_id")["units"]
    if u.empty:
        return pd.DataFrame(columns=["year", "department", *P.VISIT_COLUMNS])
    start, end = settings.fieldwork or project.periods.get(year) or (dt.date(year, 1, 1), dt.date(year, 12, 31))
    days = np.arange(np.datetime64(start), np.datetime64(end) + np.timedelta64(1, "D"))
    days = [pd.Timestamp(d).date() for d in days[np.is_busday(days)]]
    halls = _halls(settings, framework, inputs, project)
    out = P.schedule_visits(u, days, seed=project.seed, year=year, halls=halls, mystery_share=settings.mystery_share)
    names = register.set_index("department_id")["department"]
    if not halls:
        out["hall"] = out["department_id"].map(names)
    out.insert(0, "year", year)
    out.insert(2, "department", out["department_id"].map(names))
    return out


def _halls(settings: PlanSettings, framework: Framework, inputs, project) -> dict[str, list[str]]:
    if settings.halls is None:
        return {}
    from surveys.errors import DataValidationError
    from surveys.readers import read_table

    raw = read_table(settings.halls)
    cols = {c: c.strip().lower() for c in raw.frame.columns}
    dep_col = next((c for c, k in cols.items() if k in ("department", "department_id", "部门", "部门名称")), None)
    hall_col = next((c for c, k in cols.items() if k in ("hall", "大厅", "办事大厅", "服务大厅", "窗口")), None)
    if dep_col is None or hall_col is None:
        raise DataValidationError("The halls file needs a department and a hall column", [Problem(
            "columns found: " + ", ".join(raw.frame.columns), file=str(settings.halls),
            fix="name the columns 部门 and 大厅 (or department and hall)")])
    lookup = {k.strip(): v for k, v in framework.name_lookup().items()}
    out: dict[str, list[str]] = {}
    problems = []
    for i, (d, h) in enumerate(zip(raw.frame[dep_col], raw.frame[hall_col])):
        dep = lookup.get(str(d).strip()) if pd.notna(d) else None
        if dep is None:
            problems.append(Problem("department not in the register", file=str(settings.halls),
                                    row=int(raw.source_rows[i]), value=d, fix="write the register name"))
        elif pd.notna(h):
            out.setdefault(dep, []).append(str(h).strip())
    if problems:
        raise DataValidationError("The halls file cannot be used", problems)
    inputs.append({"kind": "halls", **_file_entry(settings.halls, project)})
    return out


def _units_output(alloc: P.Allocation, register, basis, year) -> pd.DataFrame:
    u = alloc.units.merge(register[["department_id", "department", "category", "tier"]], on="department_id")
    u["year"] = year
    u["cost_total"] = u["unit_cost_total"]
    u["basis_year"] = u["department_id"].map(basis["years"]).astype("Int64")
    return u[PLAN_UNIT_OUTPUT]


def _departments_output(alloc, register, basis, assumed, ranks, level, year, uv) -> pd.DataFrame:
    d = register.merge(alloc.departments, on="department_id").merge(ranks, on="department_id", how="left")
    d["year"] = year
    d["level"] = level
    d["basis_year"] = d["department_id"].map(basis["years"]).astype("Int64")
    d["index_assumed"] = d["department_id"].map(assumed.set_index("department_id")["index"])
    last = (basis["departments"].set_index("department_id")["se"] if len(basis["departments"])
            else pd.Series(dtype=float))
    d["last_se"] = d["department_id"].map(last)
    d["last_half_width"] = d["last_se"] * P.z_value(level)
    src = uv.groupby("department_id")["source"].agg(lambda s: set(s))
    flags = []
    for r in d.itertuples():
        f = []
        s = src.get(r.department_id, set())
        if s & {"pooled", "default"}:
            f.append("variance_borrowed" if "pooled" in s else "variance_default")
        if r.bound:
            f.append(r.bound)
        if r.target_reached is False:
            f.append("target_not_reached")
        flags.append(";".join(f))
    d["flags"] = flags
    return d[PLAN_DEPARTMENT_OUTPUT].sort_values("department_id").reset_index(drop=True)


def _manifest(project, framework, year, settings, alloc, budget, target, variance_source, rho, rho_source, basis,
              inputs, notes, fixed, drew) -> dict:
    years = sorted(set(int(y) for y in basis["years"])) if len(basis["years"]) else []
    body = {
        "toolkit": "minping", "toolkit_version": toolkit_version(), "kind": "sampling_plan", "year": year,
        "project": project.name, "project_sha256": project.sha256,
        "framework": {"id": framework.id, "version": framework.version, "sha256": framework.sha256},
        "seed": project.seed, "confidence_level": alloc.level,
        "allocation": alloc.method, "budget": budget, "target_half_width": target, "total_cost": alloc.total_cost,
        "target_variance": None if not np.isfinite(alloc.target_variance) else alloc.target_variance,
        "costs": {t: settings.costs.get(t, DEFAULT_COSTS.get(t)) for t in P.sampled_tables(framework)},
        "costs_declared": sorted(settings.costs), "rates_declared": settings.rates,
        "minimum": {t: float(v) for t, v in alloc.units.groupby("table")["minimum"].first().items()},
        "fixed_sizes": (None if alloc.method != "fixed" else fixed if isinstance(fixed, dict)
                        else "given per department and table"),
        "variance": {"source": variance_source, "rho": rho, "rho_source": rho_source if rho is not None else None,
                     "prior_df": settings.prior_df, "basis_years": years},
        "inputs": inputs,
        "streams": {
            "callback": f"evaluation.seeds.stream(seed, 'plan', {year}, 'callback', department_id)",
            "visits": f"evaluation.seeds.stream(seed, 'plan', {year}, 'visits', department_id)",
            "rank": f"evaluation.seeds.stream(seed, 'plan', {year}, 'rank', scope)",
            "stream_note": STREAMS["plan"],
        },
        "methods": {
            "allocation": {
                "equal_precision": "one target variance for every department; each department's budget split "
                                   "across tables by n_t = clip(lambda sqrt(V_t / c_t), min, max) (Cochran 1977, 5.5)",
                "proportional": "department budgets proportional to case volume (Cochran 1977, 5.3), split as above",
                "neyman": "department budgets proportional to N_d sqrt(K_d), K_d = (sum_t sqrt(V_t c_t))^2 "
                          "(Cochran 1977, 5.5), split as above",
                "fixed": "given units per department and table",
            }[alloc.method],
            "per_unit_variance": {
                "components": "variance_components: V = variance x n",
                "indicators": "se^2 n per indicator, combined per table with a common within-table correlation rho "
                              "calibrated on last year's index SEs",
                "defaults": "first-year defaults V_t = (W_t sigma_t)^2",
            }[variance_source] + f"; moderated toward the table's median with {settings.prior_df:g} prior df",
            "callback_draw": "per department: records sorted by matter, month, case id; systematic sample with a "
                             "fractional interval N/m and a random start; call order randomised" if drew else None,
            "visit_schedule": "working days (Mon-Fri) of the fieldwork period cut into one segment per visit, one day "
                              "drawn in each; half day, hall order and mystery visits at random",
            "rank_intervals": f"{settings.rank_replicates} simulated evaluations around the assumed true indices "
                              "(last year's, pulled toward their mean); marginal intervals as in evaluation.ranking",
        },
        "notes": notes,
    }
    return body


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


def plan_dir(out: str | Path, year: int) -> Path:
    """Where a year's plan goes: ``OUT/plan/<year>/``."""
    return Path(out) / "plan" / str(int(year))


def write_plan(plan: Plan, out: str | Path, framework: Framework) -> dict[str, list[Path]]:
    """Write the plan to ``OUT/plan/<year>/``; the call list alone to its restricted folder.

    Returns
    -------
    dict
        ``outputs``: the files free of personal data; ``restricted``: the
        files of ``restricted_call_lists/`` (the README and the call list).
    """
    from reports.safety import write_csv

    folder = plan_dir(out, plan.year)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("plan_units", plan.units), ("plan_departments", plan.departments),
                        ("plan_indicators", plan.indicators), ("tradeoff", plan.tradeoff),
                        ("budget_curve", plan.curve), ("callback_draw", plan.draw),
                        ("visit_schedule", plan.visits)):
        written.append(write_csv(frame, folder / f"{name}.csv"))
    restricted = []
    if len(plan.call_list):
        secret = folder / RESTRICTED_DIR
        secret.mkdir(exist_ok=True)
        readme = secret / "README.txt"
        readme.write_text(RESTRICTED_README, encoding="utf-8")
        restricted = [readme, write_call_list(plan.call_list, framework, secret / f"call_list_{plan.year}.xlsx",
                                              year=plan.year)]
    manifest = dict(plan.manifest)
    manifest["outputs"] = [{"path": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in written]
    manifest["restricted"] = ({"folder": RESTRICTED_DIR, "files": [p.name for p in restricted],
                               "holds": "phone numbers (personal data): for the call centre only"}
                              if restricted else None)
    body = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1, default=_json_default)
    path = folder / "manifest.json"
    path.write_text(body, encoding="utf-8")
    return {"outputs": [*written, path], "restricted": restricted}


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    return str(value)


def write_call_list(call_list: pd.DataFrame, framework: Framework, path: str | Path, *, year: int) -> Path:
    """The call list in the callback template format (``minping template``'s 回访拨打记录 workbook), filled in.

    Every drawn case is one row with attempt number 1; the call centre fills
    in the time and outcome and adds a row for each further attempt.  The
    filled workbook reads back as a ``callback_attempts`` input without a
    column mapping.
    """
    from openpyxl import load_workbook

    from reports.safety import set_cell
    from reports.templates import write_templates

    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        [template] = write_templates(framework, tmp, year=year, tables=("callback_attempts",))
        book = load_workbook(template)
    sheet = book.worksheets[0]
    for i, row in enumerate(call_list[CALL_LIST_COLUMNS].itertuples(index=False, name=None), start=2):
        for j, value in enumerate(row, start=1):
            set_cell(sheet.cell(row=i, column=j), value)
    book.save(path)
    return path


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------


def add_plan_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``plan`` sub-command to the ``minping`` parser."""
    p = subparsers.add_parser(
        "plan", help="before fieldwork: sample sizes per department and channel, call lists, visit schedule",
        description="Plan a year's fieldwork from last year's results (or first-year defaults): units and contacts "
                    "per department and channel for a budget or a target half-width, the expected index and "
                    "indicator half-widths and rank intervals, the trade-off between allocations, the callback "
                    "draw from the case records and the site-visit schedule. Writes OUT/plan/<year>/; call lists "
                    "with phone numbers go to its restricted_call_lists/ folder only.")
    p.add_argument("project", nargs="?", default="project.toml", help="project file or folder (default: %(default)s)")
    p.add_argument("--year", type=int, required=True, help="the year to plan")
    p.add_argument("--budget", type=float, help="total budget (overrides [plan] budget)")
    p.add_argument("--target-half-width", type=float, help="index half-width to reach (overrides [plan])")
    p.add_argument("--allocation", choices=list(P.ALLOCATION_METHODS), help="overrides [plan] allocation")
    p.add_argument("--out", help="output folder (default: output/ beside the project file)")
    p.add_argument("--results", help="folder of earlier years' results (default: output/ beside the project file)")
    p.set_defaults(func=cmd_plan)
    return p


def cmd_plan(args) -> int:
    """Run the ``plan`` command; returns the exit code."""
    project = load_project(args.project)
    framework = project.load_framework()
    plan = make_plan(project, args.year, framework=framework, results_dir=args.results, budget=args.budget,
                     target_half_width=args.target_half_width, allocation=args.allocation)
    out = Path(args.out) if args.out else project.root / "output"
    files = write_plan(plan, out, framework)
    print("\n".join(summary_lines(plan)))
    print(f"written to {plan_dir(out, plan.year)}: " + ", ".join(p.name for p in files["outputs"]))
    if files["restricted"]:
        print(f"RESTRICTED (phone numbers, call centre only): {files['restricted'][-1]}")
    return 0


def summary_lines(plan: Plan) -> list[str]:
    """A readable summary: the allocation, what it buys, the trade-off, the notes."""
    a = plan.allocation
    pct = round(a.level * 100)
    d = plan.departments
    lines = [f"{plan.year}: sampling plan, {a.method.replace('_', ' ')} allocation, {len(d)} departments",
             f"  cost {a.total_cost:,.0f}" + ("" if np.isnan(a.budget) else f" (budget {a.budget:,.0f})"),
             f"  index {pct}% half-width: largest {d['half_width'].max():.2f}, median {d['half_width'].median():.2f}, "
             f"smallest {d['half_width'].min():.2f} points",
             f"  expected rank-interval width: mean {d['rank_width'].mean():.1f} places"]
    totals = plan.units.groupby(["channel", "table"])[["units", "contacts"]].sum()
    for (ch, t), r in totals.iterrows():
        lines.append(f"  {ch} {t}: {int(r['units'])} units, {int(r['contacts'])} contacts")
    lines.append("  trade-off at the same cost (largest half-width; budget for a largest half-width of "
                 f"{plan.tradeoff['target_half_width'].iloc[0]:.2f}):")
    for r in plan.tradeoff.itertuples():
        need = "" if pd.isna(r.budget_for_target) else f"; needs {r.budget_for_target:,.0f}"
        lines.append(f"    {r.allocation}: cost {r.budget:,.0f}, largest {r.half_width_max:.2f}, mean rank width "
                     f"{r.rank_width_mean:.1f}{need}")
    lines += [f"  note: {n}" for n in plan.notes]
    return lines
