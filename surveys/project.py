"""The project file (``project.toml``): framework, years, inputs and designs.

Format::

    [project]
    name = "演示市放管服改革第三方评估"
    name_en = "Demo city administrative-service reform evaluation"
    framework = "framework.toml"        # relative to project.toml; "default" = the shipped one
    years = [2023, 2024, 2025]
    seed = 20261125                     # seeds every random step (bootstrap, rank simulation)
    salt = "change-me"                  # for hashing phone numbers; MINPING_SALT overrides

    # optional facts the documents state (absent: the documents say "not stated", nothing is invented)
    city = "荆州市"                      # the city evaluated; city_en = "Jingzhou"
    evaluator = "某大学第三方评估研究院"   # the independent evaluator; evaluator_en = "..."
    report_dates = { 2023 = "2024-03-20" }   # date of each year's report: rectification deadlines count from it
    rectification_months = 1            # problems are due this many calendar months after the report date

    [periods]                           # evaluation period per year (optional; default the calendar year)
    2023 = ["2023-01-01", "2023-12-31"]

    [rectification]                     # optional: the 整改 workbook the departments returned, read by that
    2024 = "feedback/rectification_2023.xlsx"   # year's run (the previous year's problems with their status)

    [[inputs]]
    year = 2023
    table = "survey"                    # a canonical table (surveys.schema.TABLES)
    path = "data/2023/survey_2023.csv"  # relative to project.toml
    encoding = "gb18030"                # optional: detected when absent
    sheet = "月度数据"                   # optional, XLSX
    header_rows = 2                     # optional, merged two-row headers
    [inputs.columns]                    # evaluator's column name -> canonical name
    "问卷编号" = "response_id"
    [inputs.design]                     # optional sampling design (column names)
    weights = "weight"
    cluster = "cluster"                 # or one column per stage: ["cluster", "ssu"]
    strata = "stratum"
    fpc = "population"                  # with several stages one per stage: ["N1", "N2"]
    # or, e.g. for callbacks drawn from each department's case records:
    # population = "admin_cases"        # weight N_d / n_d and fpc N_d from admin cases received
    [inputs.calibrate]                  # optional: calibrate the weights to known totals per department
    method = "rake"                     # "poststratify" | "rake" | "linear"
    margins = "data/2023/margins.csv"   # a file of totals (below), relative to project.toml
    # or totals from the administrative data of the year:
    # admin = "cases_by_month"          # each department's cases received per month (admin_monthly)

    [tables.survey]                     # settings every [[inputs]] of a table shares (an input may override)
    encoding = "gb18030"
    [tables.survey.columns]             # mappings merged with each input's own [inputs.columns]
    "问卷编号" = "response_id"

    # Reading exports as they come (every key also under [[inputs]], for one file):
    [[inputs]]
    year = 2024
    table = "survey"
    path = "data/2024/问卷星_群众版.xlsx"
    preset = "wjx"                      # a survey platform's export (surveys.presets): 问卷星 wjx, 问卷网 wenjuan,
                                        # 腾讯问卷 tencent
    id_prefix = "群众-"                  # the platform numbers answers per questionnaire: keep two apart
    missing = ["未作答"]                 # further cell texts meaning "not answered"
    accept_loss = 0.5                   # accept losing up to half of this file's rows (true: any share)
    [inputs.recode.respondent_type]     # file value -> canonical value or scale code, before validation
    "企业（含个体工商户）" = "enterprise"
    "个体户" = "enterprise"
    [inputs.recode."总体满意度"]          # a column by its header; several labels to one code; "na" = N/A
    "很满意" = 5
    "说不清" = "na"

Sampling design (``[inputs.design]``)
    Column names of the table (canonical names, or other columns of the
    file, which are then kept for the design).  ``cluster`` names the
    primary sampling unit, or a list names the unit of each stage (R
    ``survey``'s ``ids = ~psu + ssu``); ``fpc`` gives the population size (or
    sampling fraction) of the stratum in PSUs, or with several stages a list
    with one column per stage (``fpc = ~N1 + N2``: the second column is the
    number of second-stage units in the row's PSU).  Without ``fpc`` sampling
    is with replacement and only the first stage counts.  Without ``strata``
    each department is a stratum.  ``population = "admin_cases"`` derives the
    weights and the fpc from the administrative frame sizes.

Calibration to administrative margins (``[inputs.calibrate]``)
    Adjusts the table's weights, department by department, so that they
    reproduce known population totals: ``method = "poststratify"`` (one
    categorical variable), ``"rake"`` (several categorical variables,
    iterated to convergence) or ``"linear"`` (GREG: counts of categorical
    variables and totals of numeric ones).  The totals come from
    ``margins``, a CSV or XLSX file with the columns ``department_id``
    (register id or name), ``variable`` (a column of the table, or ``month``
    for the month of its date column), ``level`` (a category of the
    variable; empty for the total of a numeric variable, linear calibration
    only) and ``total``; or from ``admin = "cases_by_month"``: each
    department's cases received per month in ``admin_monthly``,
    post-stratifying (or raking, or calibrating) the table by the month of
    its date column.  Every department with rows in the table needs its
    totals.  Estimates, standard errors (residuals on the calibration model,
    as R ``survey``), the index variance and the bootstrap replicates (each
    re-calibrated) then use the calibrated weights
    (:func:`evaluation.indicators.calibrate_table`).  Like an input file, the
    margins file is read when its year is loaded; its sha256 is then kept in
    :class:`CalibrationSpec`.  ``[tables.<table>] calibrate`` sets it for
    every input of a table.

Strict: a key or section the toolkit does not read (``[inputs.desing]``,
``confidence_level`` under ``[project]``) is an error with a "did you mean"
suggestion, reported together with every other problem, as are a value of
the wrong type, a period that ends before it starts
and a year not in ``years``.  Input files are looked for when their year is
loaded (:func:`surveys.ingest.load_year`), so a project can list a year whose
files have not arrived yet; so is a returned 整改 workbook.

The 整改 workbook under ``[rectification]`` is the one minping writes with
each year's documents (``report/<lang>/rectification.xlsx``), with the
departments' statuses filled in; :func:`surveys.rectification.read_rectification`
reads it back when its year is evaluated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataValidationError, FrameworkError, Problem
from .framework import Framework, load_framework
from .keys import ANY, LEAF, did_you_mean, unknown_keys
from .normalize import parse_numbers
from .presets import available_presets, load_preset
from .readers import read_table
from .schema import TABLES

SALT_ENV = "MINPING_SALT"
#: optional [project] texts the documents print (cover, headers)
TEXT_KEYS = ("city", "city_en", "evaluator", "evaluator_en")
DESIGN_KEYS = ("weights", "strata", "cluster", "fpc", "population", "calibrate")
CALIBRATION_METHODS = ("poststratify", "rake", "linear")
ADMIN_MARGINS = ("cases_by_month",)
MARGIN_COLUMNS = ("department_id", "variable", "level", "total")
#: template headers of the margins file
MARGIN_HEADERS = {"部门": "department_id", "变量": "variable", "类别": "level", "总数": "total"}


@dataclass(frozen=True, eq=False)
class CalibrationSpec:
    """How one input table's weights are calibrated (``[inputs.calibrate]``).

    Attributes
    ----------
    method : {"poststratify", "rake", "linear"}
    margins : pandas.DataFrame or None
        ``department_id, variable, level, total`` given directly (``level``
        empty for the total of a numeric variable); otherwise read from
        ``path`` by :meth:`margins_frame`.
    admin : str or None
        ``"cases_by_month"``: totals from the administrative data instead.
    path : pathlib.Path or None
        The margins file; read when the year is loaded.
    source : str or None
        The margins file as written in the project file.
    """

    method: str
    margins: object = None
    admin: str | None = None
    path: Path | None = None
    source: str | None = None

    def margins_frame(self) -> pd.DataFrame | None:
        """The margins (``department_id, variable, level, total``); None for administrative margins.

        Raises
        ------
        DataValidationError
            The margins file is missing or unreadable, lacks a column, or has
            a total that is missing, not a number or negative, or a repeated
            department, variable and level.
        """
        if self.margins is not None or self.path is None:
            return self.margins
        frame = _read_margins(self.path, self.source or str(self.path))
        object.__setattr__(self, "margins", frame)
        return frame

    @property
    def sha256(self) -> str:
        """Hash of the margins file (empty for margins given directly or from the administrative data)."""
        if self.path is None or not self.path.is_file():
            return ""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class InputSpec:
    year: int
    table: str
    path: Path
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    sheet: str | int | None = None
    header_rows: int = 1
    delimiter: str | None = None
    design: dict = field(default_factory=dict)
    #: a survey platform's export conventions (:mod:`surveys.presets`)
    preset: str | None = None
    #: column (canonical name or the file's header) -> {file value -> canonical value, scale code or "na"}
    recode: dict[str, dict[str, object]] = field(default_factory=dict)
    #: further cell texts meaning "not answered" (besides the preset's)
    missing: tuple[str, ...] = ()
    #: share of the file's rows (or of a column's filled cells) it may lose without stopping; 1.0 accepts any
    accept_loss: float | None = None
    #: text put before every id of the file (answers numbered per questionnaire by a platform)
    id_prefix: str = ""

    def design_columns(self) -> tuple[str, ...]:
        """Columns the design and the calibration name (kept from the file even when not canonical)."""
        cols: list[str] = []
        for key in ("weights", "strata", "cluster", "fpc"):
            value = self.design.get(key)
            cols += [value] if isinstance(value, str) else list(value or ())
        cal = self.design.get("calibrate")
        margins = cal.margins_frame() if cal is not None else None
        if margins is not None:
            cols += [str(v) for v in margins["variable"].unique() if str(v) != "month"]
        return tuple(dict.fromkeys(cols))


@dataclass(frozen=True)
class Project:
    path: Path
    name: str
    name_en: str
    framework_path: Path | None
    years: tuple[int, ...]
    seed: int
    salt: str
    periods: dict[int, tuple[dt.date, dt.date]]
    inputs: tuple[InputSpec, ...]
    sha256: str = ""
    city: str = ""
    city_en: str = ""
    evaluator: str = ""
    evaluator_en: str = ""
    #: years whose period the file declares (the others default to the calendar year)
    periods_declared: frozenset[int] = frozenset()
    report_dates: dict[int, dt.date] = field(default_factory=dict)
    rectification_months: int = 1
    #: year -> the returned 整改 workbook that year's run reads (last year's problems with their status)
    rectifications: dict[int, Path] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    def label(self, path: Path) -> str:
        """How an input file is named in the ledger and the manifest: relative to the project folder when
        inside it (POSIX separators), else its file name (the ledger does not show where a machine keeps data)."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.name

    def inputs_for(self, year: int) -> tuple[InputSpec, ...]:
        return tuple(i for i in self.inputs if i.year == year)

    def load_framework(self) -> Framework:
        return load_framework(self.framework_path)


_INPUT_KEYS = {"encoding": LEAF, "sheet": LEAF, "header_rows": LEAF, "delimiter": LEAF, "columns": {"*": LEAF},
               "design": {"weights": LEAF, "strata": LEAF, "cluster": LEAF, "fpc": LEAF, "population": LEAF},
               "calibrate": {"method": LEAF, "margins": LEAF, "admin": LEAF},
               "preset": LEAF, "recode": {"*": {"*": LEAF}}, "missing": LEAF, "accept_loss": LEAF,
               "id_prefix": LEAF}
#: every section and key a project file may have (:mod:`surveys.keys`); anything else is an error
PROJECT_SHAPE = {
    "project": {"name": LEAF, "name_en": LEAF, "framework": LEAF, "years": LEAF, "seed": LEAF, "salt": LEAF,
                "city": LEAF, "city_en": LEAF, "evaluator": LEAF, "evaluator_en": LEAF, "report_dates": {"*": LEAF},
                "rectification_months": LEAF},
    "periods": {"*": LEAF},
    "rectification": {"*": LEAF},
    "tables": {"*": _INPUT_KEYS},
    "inputs": [{"year": LEAF, "table": LEAF, "path": LEAF, **_INPUT_KEYS}],
    "plan": ANY,  # the sampling plan's settings, checked key by key by minping.plan.load_plan_settings
}
#: keys that belong elsewhere: where a user who wrote them in the project file should put them
_MISPLACED = {
    "confidence_level": "the confidence level belongs to the framework: set confidence_level under [framework] in "
                        "the framework file (`minping init` writes one to edit)",
    "likert_preset": "set likert_preset under [framework] in the framework file",
}


def _listed(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _whole(value, where: str, problem) -> int | None:
    """``value`` as a whole number (an int, or text of one), else a problem and None."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    problem(f"{where} = {value!r} is not a whole number", f"write a whole number, e.g. {where.split()[-1]} = 2025"
            if where.split()[-1] in ("year", "years") else "write a whole number")
    return None


def _with_table_defaults(defaults: dict, item: dict) -> dict:
    """An input's settings over its table's ``[tables.<table>]`` defaults; column mappings are merged."""
    merged = {**defaults, **item}
    merged["columns"] = {**defaults.get("columns", {}), **item.get("columns", {})}
    merged["design"] = item.get("design", defaults.get("design", {}))
    merged["calibrate"] = item.get("calibrate", defaults.get("calibrate"))
    recode = {str(k): dict(v) for k, v in defaults.get("recode", {}).items() if isinstance(v, dict)}
    for column, table in item.get("recode", {}).items():
        if isinstance(table, dict):
            recode[str(column)] = {**recode.get(str(column), {}), **table}
    merged["recode"] = recode
    merged["missing"] = [*_listed(defaults.get("missing", [])), *_listed(item.get("missing", []))]
    return merged


def _reading(merged: dict, table: str, where: str, problem) -> dict | None:
    """The keys that say how to read an export (preset, recode, missing, accept_loss, id_prefix), checked."""
    out: dict = {}
    preset = merged.get("preset")
    if preset is not None:
        if not isinstance(preset, str) or preset not in available_presets():
            problem(f"{where}: preset = {preset!r}", did_you_mean(str(preset), available_presets()) +
                    f"use one of {', '.join(available_presets())} (surveys/presets/), or leave preset out")
            return None
        if table not in load_preset(preset).tables:
            problem(f"{where}: preset '{preset}' is for table(s) {', '.join(load_preset(preset).tables)}, not "
                    f"'{table}'", "remove preset from this input")
            return None
        out["preset"] = preset
    recode = {}
    for column, values in merged.get("recode", {}).items():
        clean = {}
        for label, target in values.items():
            if isinstance(target, bool) or not isinstance(target, (str, int, float)):
                problem(f"{where}: [recode.{column}] \"{label}\" = {target!r} is not a value",
                        "write a canonical value or label in quotes, a scale code (a number), or \"na\"")
                continue
            if isinstance(target, str) and not target.strip():
                problem(f"{where}: [recode.{column}] \"{label}\" has no value",
                        "write what the file's value means: a canonical value or label in quotes, a scale code "
                        "(a number), or \"na\" (not applicable)")
                continue
            clean[str(label)] = target
        recode[str(column)] = clean
    out["recode"] = recode
    missing = merged.get("missing", [])
    if not all(isinstance(m, str) for m in missing):
        problem(f"{where}: missing = {missing!r}", 'write a list of texts, e.g. missing = ["(跳过)", "未作答"]')
        return None
    out["missing"] = tuple(missing)
    accept = merged.get("accept_loss")
    if accept is not None:
        if accept is True:
            accept = 1.0
        if isinstance(accept, bool) or not isinstance(accept, (int, float)) or not 0 < accept <= 1:
            problem(f"{where}: accept_loss = {accept!r}",
                    "write true (accept any loss) or the share of rows the file may lose, e.g. accept_loss = 0.5")
            return None
        out["accept_loss"] = float(accept)
    prefix = merged.get("id_prefix", "")
    if not isinstance(prefix, str):
        problem(f"{where}: id_prefix = {prefix!r}", 'write a text, e.g. id_prefix = "群众-"')
        return None
    out["id_prefix"] = prefix
    return out


def load_project(path: str | Path = "project.toml") -> Project:
    """Read and check a project file; every problem is reported at once."""
    path = Path(path)
    if path.is_dir():
        path = path / "project.toml"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FrameworkError(
            "Cannot read the project file",
            [Problem(exc.strerror or "unreadable", file=str(path),
                     fix="run in the project folder, pass its path, or create one with `minping demo`")],
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FrameworkError("The project file is not valid TOML",
                             [Problem(str(exc), file=str(path), fix="correct the TOML syntax")]) from None
    problems: list[Problem] = []

    def problem(msg: str, fix: str) -> None:
        problems.append(Problem(msg, fix=fix, file=str(path)))

    unknown_keys(data, PROJECT_SHAPE, problem, hints=_MISPLACED)
    head = data.get("project", {})
    root = path.parent
    fw = head.get("framework", "default")
    fw_path = None if fw == "default" else (root / str(fw))
    if fw_path is not None and not fw_path.is_file():
        problem(f"framework file '{fw}' does not exist", "correct [project] framework or use \"default\"")
    years = tuple(y for y in (_whole(v, "[project] years", problem) for v in _listed(head.get("years", ())))
                  if y is not None)
    if not years:
        problem("[project] lists no years", "add years = [2024] (every year with inputs)")
    seed = _whole(head.get("seed", 0), "[project] seed", problem)
    if seed is not None and seed < 0:
        problem(f"[project] seed = {seed} is negative", "use a whole number of 0 or more")
    salt = os.environ.get(SALT_ENV) or str(head.get("salt", ""))
    if not salt:
        problem("no salt for hashing phone numbers", f"add salt = \"...\" under [project] or set {SALT_ENV}")

    periods: dict[int, tuple[dt.date, dt.date]] = {y: (dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in years}
    declared = set()
    for key, value in data.get("periods", {}).items():
        year = _whole(key, "[periods]", problem)
        try:
            start, end = (dt.date.fromisoformat(str(v)) for v in value)
        except (ValueError, TypeError):
            problem(f"period for {key} is {value!r}", "write it as [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]")
            continue
        if end < start:
            problem(f"period for {key} ends ({end}) before it starts ({start})",
                    "write the start first: [\"YYYY-MM-DD\" (start), \"YYYY-MM-DD\" (end)]")
        elif year is not None:
            periods[year] = (start, end)
            declared.add(year)

    defaults = {}
    for table, spec in data.get("tables", {}).items():
        if table not in TABLES:
            problem(f"[tables.{table}]: unknown table '{table}'", did_you_mean(table, TABLES) +
                    f"use one of {sorted(TABLES)}")
            continue
        defaults[table] = spec

    inputs = []
    for n, item in enumerate(data.get("inputs", []), start=1):
        where = f"[[inputs]] number {n}"
        table = item.get("table", "")
        if table not in TABLES:
            problem(f"{where}: unknown table '{table}'", did_you_mean(table, TABLES) + f"use one of {sorted(TABLES)}")
            continue
        merged = _with_table_defaults(defaults.get(table, {}), item)
        year = _whole(item.get("year"), f"{where} year", problem)
        if year is not None and year not in years:
            problem(f"{where}: year {year} is not in [project] years", "add the year or correct it")
        rel = str(item.get("path", ""))
        if not rel:
            problem(f"{where}: no path", "add path = \"data/<year>/<file>\" (relative to project.toml)")
            continue
        # the targets are checked against the framework's tables (its declared items) when the file is read
        columns = {str(k).strip(): str(v) for k, v in merged.get("columns", {}).items()}
        design = _design(merged.get("design", {}), where, problem)
        if merged.get("calibrate") is not None:
            calibration = _calibration(merged["calibrate"], root, where, problem)
            if calibration is not None:
                design["calibrate"] = calibration
        header_rows = _whole(merged.get("header_rows", 1), f"{where} header_rows", problem)
        if header_rows is not None and header_rows not in (1, 2):
            problem(f"{where}: header_rows = {header_rows}", "use 1 (one header row) or 2 (a merged two-row header)")
        reading = _reading(merged, table, where, problem)
        if year is None or header_rows is None or reading is None:
            continue
        inputs.append(InputSpec(year, table, root / rel, columns, merged.get("encoding"), merged.get("sheet"),
                                header_rows, merged.get("delimiter"), design, **reading))
    texts, report_dates, months, rectifications = _document_facts(data, head, years, root, problem)
    if problems:
        raise FrameworkError(f"The project file {path} is invalid", problems)
    return Project(path=path, name=head.get("name", root.name), name_en=head.get("name_en", head.get("name", root.name)),
                   framework_path=fw_path, years=years, seed=seed, salt=salt,
                   periods=periods, inputs=tuple(inputs), sha256=hashlib.sha256(raw).hexdigest(),
                   city=texts["city"], city_en=texts["city_en"], evaluator=texts["evaluator"],
                   evaluator_en=texts["evaluator_en"], periods_declared=frozenset(declared),
                   report_dates=report_dates, rectification_months=months, rectifications=rectifications)


def _document_facts(data: dict, head: dict, years: tuple[int, ...], root: Path, problem):
    """The optional facts the documents state, and the returned 整改 workbooks, each checked."""
    texts = {}
    for key in TEXT_KEYS:
        value = head.get(key, "")
        if not isinstance(value, str):
            problem(f"[project] {key} = {value!r} is not text", f'write it in quotes: {key} = "..."')
            value = ""
        texts[key] = value.strip()
    report_dates: dict[int, dt.date] = {}
    for key, value in (head.get("report_dates") or {}).items():
        year = _whole(key, "[project] report_dates", problem)
        try:
            date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        except (ValueError, TypeError):
            problem(f"[project] report_dates: {key} = {value!r}", 'write the date as "YYYY-MM-DD"')
            continue
        if year is not None:
            # a date for a year not (or no longer) listed is kept and never used: not an error
            report_dates[year] = date
    months = head.get("rectification_months", 1)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 24:
        problem(f"[project] rectification_months = {months!r}", "use a whole number of months from 1 to 24")
        months = 1
    rectifications: dict[int, Path] = {}
    for key, value in data.get("rectification", {}).items():
        year = _whole(key, "[rectification]", problem)
        if year is None:
            continue
        if year not in years:
            problem(f"[rectification] {year} is not in [project] years", "add the year or correct it")
        elif not isinstance(value, str) or not value:
            problem(f"[rectification] {year} = {value!r}",
                    'give the path of the returned workbook: 2025 = "feedback/x.xlsx"')
        else:
            rectifications[year] = root / value
    return texts, report_dates, months, rectifications


def _design(raw: dict, where: str, problem) -> dict:
    """``[inputs.design]``: column names (a list per stage for ``cluster`` and ``fpc``) and ``population``.

    Unknown keys are reported by the declared shape (:data:`PROJECT_SHAPE`).
    """
    design: dict = {}
    for k, v in raw.items():
        k = str(k)
        if k not in DESIGN_KEYS:
            continue
        if k in ("cluster", "fpc") and isinstance(v, list):
            if not v or not all(isinstance(x, str) and x for x in v):
                problem(f"{where}: design {k} = {v!r}", f"give {k} as a column name or a list of column names, "
                        "one per sampling stage")
                continue
            design[k] = tuple(v) if len(v) > 1 else v[0]
        elif isinstance(v, str) and v:
            design[k] = v
        else:
            problem(f"{where}: design {k} = {v!r}", f"give {k} as a column name")
    if design.get("population", "admin_cases") != "admin_cases":
        problem(f"{where}: population = '{design['population']}'",
                "use population = \"admin_cases\" (frame sizes from the administrative data) or leave it out")
    n_cluster = len(design["cluster"]) if isinstance(design.get("cluster"), tuple) else 1
    if isinstance(design.get("fpc"), tuple) and len(design["fpc"]) != n_cluster:
        problem(f"{where}: {len(design['fpc'])} fpc columns for {n_cluster} cluster stage(s)",
                "give one fpc column per cluster stage (fpc = [\"N1\", \"N2\"] with cluster = [\"psu\", \"ssu\"]), "
                "or none")
    elif isinstance(design.get("cluster"), tuple) and isinstance(design.get("fpc"), str):
        problem(f"{where}: one fpc column for {n_cluster} cluster stages",
                "give one fpc column per stage, e.g. fpc = [\"N1\", \"N2\"], or none (with replacement)")
    return design


def _calibration(raw, root: Path, where: str, problem) -> CalibrationSpec | None:
    """``[inputs.calibrate]``: the method and the margins (a file, read when the year is loaded, or the
    administrative data)."""
    method = raw.get("method")
    if method not in CALIBRATION_METHODS:
        problem(f"{where}: calibrate method = {method!r}",
                f"{did_you_mean(method, CALIBRATION_METHODS)}use one of {', '.join(CALIBRATION_METHODS)}")
        return None
    margins, admin = raw.get("margins"), raw.get("admin")
    if (margins is None) == (admin is None):
        problem(f"{where}: [inputs.calibrate] needs either margins or admin",
                "give margins = \"<file of totals>\" or admin = \"cases_by_month\", not both")
        return None
    if admin is not None:
        if admin not in ADMIN_MARGINS:
            problem(f"{where}: calibrate admin = {admin!r}",
                    f"{did_you_mean(admin, ADMIN_MARGINS)}use admin = \"cases_by_month\"")
            return None
        return CalibrationSpec(str(method), admin=str(admin))
    return CalibrationSpec(str(method), path=root / str(margins), source=str(margins))


def _read_margins(path: Path, label: str) -> pd.DataFrame:
    """The margins file as ``department_id, variable, level, total`` (text, text, text, float)."""
    def fail(message: str, fix: str):
        raise DataValidationError("The calibration margins cannot be used",
                                  [Problem(message, fix=fix, file=label, code="bad_margins")])

    if not path.is_file():
        fail("the margins file does not exist", "correct margins under [inputs.calibrate] (relative to project.toml)")
    raw = read_table(path).frame
    frame = raw.rename(columns={c: MARGIN_HEADERS.get(str(c).strip(), str(c).strip()) for c in raw.columns})
    missing = [c for c in MARGIN_COLUMNS if c not in frame.columns]
    if missing:
        fail(f"the margins lack the column(s) {missing}",
             "give the columns department_id, variable, level, total (部门, 变量, 类别, 总数)")
    total, bad = parse_numbers(frame["total"])
    total = pd.Series(np.asarray(total, dtype=float), index=frame.index)
    bad = np.asarray(bad, dtype=bool) | total.isna().to_numpy() | (total < 0).to_numpy()
    if bad.any():
        fail(f"total missing, not a number or negative in row(s) {(np.flatnonzero(bad)[:5] + 2).tolist()}",
             "give every total as a number >= 0")
    text = {c: frame[c].astype("string").str.strip().fillna("") for c in ("department_id", "variable", "level")}
    if (text["department_id"] == "").any() or (text["variable"] == "").any():
        fail("rows without a department or variable", "fill department_id and variable on every row")
    out = pd.DataFrame({"department_id": text["department_id"].to_numpy(object),
                        "variable": text["variable"].to_numpy(object), "level": text["level"].to_numpy(object),
                        "total": total.to_numpy(float)})
    if out.duplicated(["department_id", "variable", "level"]).any():
        fail("a department, variable and level appear twice", "give each total once")
    return out
