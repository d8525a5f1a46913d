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
    [inputs.design]                     # optional sampling design (canonical column names)
    weights = "weight"
    cluster = "cluster"
    strata = "stratum"
    fpc = "population"
    # or, e.g. for callbacks drawn from each department's case records:
    # population = "admin_cases"        # weight N_d / n_d and fpc N_d from admin cases received

Unknown keys are reported together with every other problem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FrameworkError, Problem
from .framework import Framework, load_framework
from .schema import TABLES

SALT_ENV = "MINPING_SALT"


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
    design: dict[str, str] = field(default_factory=dict)


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
        design = {str(k): str(v) for k, v in item.get("design", {}).items()}
        for k in design:
            if k not in ("weights", "strata", "cluster", "fpc", "population"):
                problem(f"{where}: unknown design key '{k}'", "use weights, strata, cluster, fpc or population")
        if design.get("population", "admin_cases") != "admin_cases":
            problem(f"{where}: population = '{design['population']}'",
                    "use population = \"admin_cases\" (frame sizes from the administrative data) or leave it out")
        inputs.append(InputSpec(year, table, file_path, columns, item.get("encoding"), item.get("sheet"),
                                int(item.get("header_rows", 1)), item.get("delimiter"), design))
    if problems:
        raise FrameworkError(f"The project file {path} is invalid", problems)
    return Project(path=path, name=head.get("name", root.name), name_en=head.get("name_en", head.get("name", root.name)),
                   framework_path=fw_path, years=years, seed=int(head.get("seed", 0)), salt=salt,
                   periods=periods, inputs=tuple(inputs), sha256=hashlib.sha256(raw).hexdigest())
