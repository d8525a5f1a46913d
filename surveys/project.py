"""The project file (``project.toml``): framework, years, inputs and designs.

Format::

    [project]
    name = "演示市放管服改革第三方评估"
    name_en = "Demo city administrative-service reform evaluation"
    framework = "framework.toml"        # relative to project.toml; "default" = the shipped one
    years = [2023, 2024, 2025]
    seed = 20261125                     # seeds every random step (bootstrap, rank simulation)
    salt = "change-me"                  # for hashing phone numbers; MINPING_SALT overrides

    [periods]                           # evaluation period per year (optional; default the calendar year)
    2023 = ["2023-01-01", "2023-12-31"]

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
    (:func:`evaluation.indicators.calibrate_table`).  The margins file's
    sha256 is kept in :class:`CalibrationSpec`.

Unknown keys are reported together with every other problem.
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
from .framework import Framework, did_you_mean, load_framework
from .normalize import parse_numbers
from .readers import read_table
from .schema import TABLES

SALT_ENV = "MINPING_SALT"
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
        ``department_id, variable, level, total`` read from the margins file
        (``level`` empty for the total of a numeric variable).
    admin : str or None
        ``"cases_by_month"``: totals from the administrative data instead.
    source : str or None
        The margins file, as written in the project file.
    sha256 : str
        Hash of the margins file (empty for administrative margins).
    """

    method: str
    margins: object = None
    admin: str | None = None
    source: str | None = None
    sha256: str = ""


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

    def design_columns(self) -> tuple[str, ...]:
        """Columns the design and the calibration name (kept from the file even when not canonical)."""
        cols: list[str] = []
        for key in ("weights", "strata", "cluster", "fpc"):
            value = self.design.get(key)
            cols += [value] if isinstance(value, str) else list(value or ())
        cal = self.design.get("calibrate")
        if cal is not None and cal.margins is not None:
            cols += [str(v) for v in cal.margins["variable"].unique() if str(v) != "month"]
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

    @property
    def root(self) -> Path:
        return self.path.parent

    def inputs_for(self, year: int) -> tuple[InputSpec, ...]:
        return tuple(i for i in self.inputs if i.year == year)

    def load_framework(self) -> Framework:
        return load_framework(self.framework_path)


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

    head = data.get("project", {})
    root = path.parent
    fw = head.get("framework", "default")
    fw_path = None if fw == "default" else (root / fw)
    if fw_path is not None and not fw_path.exists():
        problem(f"framework file '{fw}' does not exist", "correct [project] framework or use \"default\"")
    years = tuple(int(y) for y in head.get("years", ()))
    if not years:
        problem("[project] lists no years", "add years = [2024] (every year with inputs)")
    salt = os.environ.get(SALT_ENV) or str(head.get("salt", ""))
    if not salt:
        problem("no salt for hashing phone numbers", f"add salt = \"...\" under [project] or set {SALT_ENV}")

    periods: dict[int, tuple[dt.date, dt.date]] = {}
    for y in years:
        periods[y] = (dt.date(y, 1, 1), dt.date(y, 12, 31))
    for key, value in data.get("periods", {}).items():
        try:
            start, end = (dt.date.fromisoformat(str(v)) for v in value)
            periods[int(key)] = (start, end)
        except (ValueError, TypeError):
            problem(f"period for {key} is {value!r}", "write it as [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]")

    inputs = []
    for n, item in enumerate(data.get("inputs", []), start=1):
        where = f"[[inputs]] number {n}"
        table = item.get("table", "")
        if table not in TABLES:
            problem(f"{where}: unknown table '{table}'", f"use one of {sorted(TABLES)}")
            continue
        year = int(item.get("year", 0))
        if year not in years:
            problem(f"{where}: year {year} is not in [project] years", "add the year or correct it")
        rel = item.get("path", "")
        file_path = root / rel
        if not rel or not file_path.exists():
            problem(f"{where}: input file '{rel}' does not exist", "correct the path (relative to project.toml)")
        columns = {str(k).strip(): str(v) for k, v in item.get("columns", {}).items()}
        spec = TABLES[table]
        for src, canon in columns.items():
            if canon not in spec.names:
                problem(f"{where}: column '{src}' maps to '{canon}', which table '{table}' does not have",
                        f"map it to one of {list(spec.names)} or remove it")
        design = _design(item.get("design", {}), where, problem)
        if "calibrate" in item:
            spec = _calibration(item["calibrate"], root, where, problem)
            if spec is not None:
                design["calibrate"] = spec
        inputs.append(InputSpec(year, table, file_path, columns, item.get("encoding"), item.get("sheet"),
                                int(item.get("header_rows", 1)), item.get("delimiter"), design))
    if problems:
        raise FrameworkError(f"The project file {path} is invalid", problems)
    return Project(path=path, name=head.get("name", root.name), name_en=head.get("name_en", head.get("name", root.name)),
                   framework_path=fw_path, years=years, seed=int(head.get("seed", 0)), salt=salt,
                   periods=periods, inputs=tuple(inputs), sha256=hashlib.sha256(raw).hexdigest())


def _design(raw: dict, where: str, problem) -> dict:
    """``[inputs.design]``: column names (a list per stage for ``cluster`` and ``fpc``) and ``population``."""
    design: dict = {}
    for k, v in raw.items():
        k = str(k)
        if k not in DESIGN_KEYS or k == "calibrate":
            problem(f"{where}: unknown design key '{k}'",
                    f"{did_you_mean(k, DESIGN_KEYS[:-1])}use weights, strata, cluster, fpc or population "
                    "(calibration goes under [inputs.calibrate])")
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
    """``[inputs.calibrate]``: the method and the margins (a file, or the administrative data)."""
    if not isinstance(raw, dict):
        problem(f"{where}: calibrate = {raw!r}", "write it as a table [inputs.calibrate] with method and margins")
        return None
    unknown = [k for k in raw if k not in ("method", "margins", "admin")]
    for k in unknown:
        problem(f"{where}: unknown calibrate key '{k}'",
                f"{did_you_mean(k, ('method', 'margins', 'admin'))}use method, margins or admin")
    method = raw.get("method")
    if method not in CALIBRATION_METHODS:
        problem(f"{where}: calibrate method = {method!r}",
                f"{did_you_mean(method, CALIBRATION_METHODS)}use one of {', '.join(CALIBRATION_METHODS)}")
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
        return CalibrationSpec(str(method), admin=str(admin)) if method in CALIBRATION_METHODS else None
    path = root / str(margins)
    if not path.exists():
        problem(f"{where}: margins file '{margins}' does not exist", "correct the path (relative to project.toml)")
        return None
    frame = _read_margins(path, where, problem)
    if frame is None or method not in CALIBRATION_METHODS:
        return None
    return CalibrationSpec(str(method), margins=frame, source=str(margins),
                           sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def _read_margins(path: Path, where: str, problem):
    """The margins file as ``department_id, variable, level, total`` (text, text, text, float)."""
    try:
        raw = read_table(path).frame
    except DataValidationError as exc:
        for p in exc.problems or [Problem(exc.summary)]:
            problem(f"{where}: margins file: {p.message}", p.fix or "check the file")
        return None
    frame = raw.rename(columns={c: MARGIN_HEADERS.get(str(c).strip(), str(c).strip()) for c in raw.columns})
    missing = [c for c in MARGIN_COLUMNS if c not in frame.columns]
    if missing:
        problem(f"{where}: margins file {path.name} lacks the column(s) {missing}",
                "give the columns department_id, variable, level, total (部门, 变量, 类别, 总数)")
        return None
    total, bad = parse_numbers(frame["total"])
    total = pd.Series(np.asarray(total, dtype=float), index=frame.index)
    bad = np.asarray(bad, dtype=bool) | total.isna().to_numpy() | (total < 0).to_numpy()
    if bad.any():
        rows = (np.flatnonzero(bad)[:5] + 2).tolist()
        problem(f"{where}: margins file {path.name}: total missing, not a number or negative in row(s) {rows}",
                "give every total as a number >= 0")
        return None
    text = {c: frame[c].astype("string").str.strip().fillna("") for c in ("department_id", "variable", "level")}
    if (text["department_id"] == "").any() or (text["variable"] == "").any():
        problem(f"{where}: margins file {path.name} has rows without a department or variable",
                "fill department_id and variable on every row")
        return None
    out = pd.DataFrame({"department_id": text["department_id"].to_numpy(object),
                        "variable": text["variable"].to_numpy(object), "level": text["level"].to_numpy(object),
                        "total": total.to_numpy(float)})
    if out.duplicated(["department_id", "variable", "level"]).any():
        problem(f"{where}: margins file {path.name} repeats a department, variable and level",
                "give each total once")
        return None
    return out
