"""Load one evaluation year: read every input, validate it, and keep the books.

:func:`load_year` reads each input file of the project for a year, maps its
columns onto the canonical table, parses every value, and sorts every row
into *used* or *quarantined* (with a reason code) in a :class:`Ledger`.
Structural problems (unreadable file, missing required column, a department
column that matches the register for hardly any row, a design column the
table does not have, ...) are collected over all files and raised together
as one :class:`DataValidationError`, with the rows that plausibility rules in
``stop`` mode found (:mod:`surveys.plausibility`).

Phone numbers are hashed and masked here, at the door (:mod:`surveys.privacy`),
and so are IP addresses and device ids (kept only as salted hashes).

Exports as they come.  An input may name a survey platform's ``preset``
(:mod:`surveys.presets`): its fixed columns are mapped, question numbering
is stripped from the headers so that questions map by their text, and its
skip markers are item non-response.  The project's recodes
(:mod:`surveys.recode`) read the file's own words as canonical values
before any rule applies.  A value that cannot be read in an optional field
clears that cell only (listed in the ledger's cells table); required fields
and design columns still quarantine the row.  A call-centre log (one row per
call, :mod:`surveys.callbacks`) is read as it is: attempts are numbered by
call time when the log has no numbers, its result words map to dispositions,
and a connected call that carries answers is the case's interview.  A year
that loses too much of a file stops with the reasons and the lines to add
(:mod:`surveys.intake`).
"""

from __future__ import annotations

import unicodedata
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import aggregate, derive, engine, plausibility, recode, screens
from .callbacks import interviews_from_log, number_attempts, recordable_dispositions, resolve_connected
from .errors import DataValidationError, MinpingWarning, Problem
from .framework import Framework
from .intake import loss_problems, unread_report
from .ledger import Ledger
from .normalize import MISSING_TOKENS, parse_codes, parse_dates, parse_durations, parse_numbers, token_key
from .presets import Preset, header_key, load_preset
from .privacy import hash_identifier, hash_phone, mask_phone, scrub_text
from .project import InputSpec, Project
from .grid import RawTable, ReadLimits, arrow_text, text_column
from .readers import PARQUET_SUFFIXES, read_table
from .keys import did_you_mean
from .schema import ChannelData, ColumnSpec, TableSpec

#: share of rows whose department must match the register, below which the column is a structural problem
MIN_DEPARTMENT_MATCH = 0.5
#: records per batch of a streamed table
BATCH_ROWS = 1 << 19
#: keys of [inputs.design] that name a column of the table
DESIGN_COLUMNS = ("weights", "strata", "cluster", "fpc")


@dataclass
class YearInput:
    """Everything loaded for one year: the validated tables and the books."""

    data: ChannelData
    ledger: Ledger
    files: list[dict] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return self.data.tables


def load_year(project: Project, framework: Framework, year: int, *, stream: bool = True,
              batch_rows: int = BATCH_ROWS, limits: ReadLimits | None = None) -> YearInput:
    """Read, validate and derive every input table of ``year``.

    ``limits`` bounds what reading each file may cost
    (:class:`~surveys.readers.ReadLimits`; the documented defaults when None).

    With ``stream``, a table whose inputs are all Parquet goes through the
    engine (:mod:`surveys.engine`): read in record batches of ``batch_rows``
    records, each batch passing the same per-row rules, on worker processes
    for a large 好差评 table.  A table of :data:`surveys.aggregate.SUMMED` is
    derived and reduced to sufficient statistics batch by batch, so memory
    does not grow with its records; it is then the aggregate (one row per
    department and month, with ``_count``), which evaluation accepts in place
    of the records.  The ledger is the same as without streaming.
    """
    if year not in project.years:
        raise DataValidationError(f"{year} is not a year of the project", [Problem(
            f"year {year}", file=str(project.path), code="unknown_year",
            fix=f"use one of {list(project.years)}, or add {year} to [project] years with its [[inputs]]")])
    absent = [s for s in project.inputs_for(year) if not s.path.is_file()]
    if absent:
        raise DataValidationError(f"The input files of {year} are not there", [Problem(
            "input file not found", file=str(s.path), code="input_missing",
            fix="put the file there, or correct its path in project.toml (relative to the project file)")
            for s in absent])
    if not project.inputs_for(year):
        raise DataValidationError(f"No input files for {year}", [Problem(
            f"project.toml lists no [[inputs]] for {year}", file=str(project.path), code="no_inputs",
            fix=f"add [[inputs]] entries with year = {year}, one per file")])
    ledger = Ledger()
    problems: list[Problem] = []
    checker = plausibility.Checker(framework.plausibility, ledger,
                                   {project.label(s.path): str(s.path) for s in project.inputs_for(year)})
    failed: set[str] = set()  # tables with a file that could not be used
    parts: dict[str, list[pd.DataFrame]] = {}
    designs: dict[str, dict] = {}
    files = []
    declared: dict[str, frozenset] = {}  # call-log label -> dispositions its project recodes declare
    # Both sides in NFKC: a register name with full-width brackets must match the same name typed half-width.
    lookup = {_norm_header(k): v for k, v in framework.name_lookup().items()}
    period = project.periods.get(year)
    specs = project.inputs_for(year)
    streamed = {t for t in {s.table for s in specs} if stream and
                {s.path.suffix.lower() in PARQUET_SUFFIXES for s in specs if s.table == t} == {True}}
    # Parquet tables go through the engine (surveys.engine); the large reduced ones start now, on the other cores
    rules = engine.Rules(_check_rows, _Tally, _parquet_source, _prepare_batch, _opened, _parquet_file, _read_ahead)
    jobs = engine.begin(rules, specs, streamed, [project.label(s.path) for s in specs], framework, lookup, year,
                        period, project.salt, checker.paths, batch_rows=batch_rows)
    aggregated: dict[str, pd.DataFrame | None] = {}
    for spec in specs:
        if spec.table in streamed:
            if spec.table not in aggregated:
                try:
                    aggregated[spec.table] = jobs[spec.table].settle(ledger, problems, checker, declared)
                except DataValidationError as exc:
                    problems.extend(exc.problems or [Problem(exc.summary, file=str(spec.path))])
                    aggregated[spec.table] = None
                if aggregated[spec.table] is None:
                    failed.add(spec.table)
                elif not aggregate.is_aggregated(aggregated[spec.table]):
                    parts[spec.table] = [aggregated[spec.table]]   # used rows, checked like a file's
            if aggregated[spec.table] is not None:
                files.append({"year": year, "table": spec.table, "path": str(spec.path)})
                if spec.design:
                    designs[spec.table] = dict(spec.design)
            continue
        try:
            df = _load_file(spec, framework, lookup, year, period, ledger, problems, project.salt,
                            label=project.label(spec.path), limits=limits, checker=checker, declared=declared)
        except DataValidationError as exc:
            problems.extend(exc.problems or [Problem(exc.summary, file=str(spec.path))])
            failed.add(spec.table)
            continue
        if df is None:
            failed.add(spec.table)
            continue
        files.append({"year": year, "table": spec.table, "path": str(spec.path)})
        parts.setdefault(spec.table, []).append(df)
        if spec.design:
            designs[spec.table] = dict(spec.design)
    tables = {}
    for name, dfs in parts.items():
        df = pd.concat(dfs, ignore_index=True) if len(dfs) > 1 else dfs[0]
        if len(dfs) > 1:
            df = _drop_duplicate_keys(df, framework.tables[name], ledger)
        tables[name] = df
    recordable = None
    if "callback_attempts" in tables and "callback_attempts" not in failed:
        had_interviews = "callback_interviews" in tables
        tables, recordable = _call_logs(tables, framework, ledger, declared)
        if not had_interviews and "callback_interviews" in tables:
            # the interviews came with the call log: its answer columns are the interviews' columns
            _note_absent_columns(framework, "callback_interviews", tables["callback_interviews"].columns,
                                 ", ".join(project.label(s.path) for s in specs if s.table == "callback_attempts"),
                                 ledger)
    tables = checker.check_tables(tables, designs, skip=failed)
    problems += checker.problems()
    if problems:
        raise DataValidationError(f"The inputs for {year} cannot be used", problems)
    tables = screens.apply(tables, framework, ledger)
    _check_losses(project, framework, year, ledger)
    tables = derive.derive_all(tables, checklist=framework.item_ids("visits", kind="checklist"))
    for ind in framework.indicators:
        # a column no file had (in the ledger and the warnings above): the indicator reads it as empty
        df = tables.get(ind.table)
        for f in (ind.field, ind.denominator):
            if df is not None and f and f not in df.columns:
                df[f] = np.nan
    for name, df in tables.items():
        tables[name] = df.drop(columns=["_file", "_row", "_dept_text"], errors="ignore")
    tables.update({t: df for t, df in aggregated.items() if df is not None and aggregate.is_aggregated(df)})
    return YearInput(ChannelData(year, tables, designs, flags=ledger.flags_frame(), recordable=recordable,
                                 absent=ledger.absent_frame()),
                     ledger, files)


def _check_losses(project: Project, framework: Framework, year: int, ledger: Ledger) -> None:
    """Stop the year when a file lost too much (:func:`surveys.intake.loss_problems`); otherwise name, in a
    warning per file, the values that could not be read and the lines that would read them."""
    specs = {project.label(s.path): s for s in project.inputs_for(year)}

    def column_of(table: str, column: str) -> ColumnSpec | None:
        spec = input_table(framework, table)
        return spec.column(column) if column in spec.names else None

    found = loss_problems(ledger, framework.intake, framework, accept={k: s.accept_loss for k, s in specs.items()},
                          paths={k: str(s.path) for k, s in specs.items()}, column_of=column_of)
    if found:
        raise DataValidationError(f"The inputs for {year} lost too much to be evaluated", found)
    for label, spec in specs.items():
        report = unread_report(ledger, label, framework, column_of)
        if report:
            warnings.warn(f"{spec.path}: values that could not be read were set aside (the cells cleared, or the "
                          f"rows quarantined where the field is required; see cleared_cells.csv and "
                          f"quarantine.csv)\n  {report}", MinpingWarning, stacklevel=3)


def input_table(framework: Framework, table: str) -> TableSpec:
    """The table an input of ``table`` is read as.

    A call log (``callback_attempts``) may carry the interview's answers on
    its connected calls: it is read with the ``callback_interviews`` items
    and comment as further optional columns (split off by
    :func:`_call_logs`).  Every other table is the framework's.
    """
    spec = framework.tables[table]
    if table != "callback_attempts":
        return spec
    own = set(spec.names)
    extra = tuple(c for c in framework.tables["callback_interviews"].columns if c.name not in own)
    return replace(spec, columns=spec.columns + extra)


def _call_logs(tables: dict[str, pd.DataFrame], framework: Framework, ledger: Ledger,
               declared: dict[str, frozenset]) -> tuple[dict[str, pd.DataFrame], frozenset]:
    """Call logs as call centres write them: connected calls resolved, attempts numbered, interviews split off.

    Returns the tables (``callback_attempts`` with the canonical columns
    only, ``callback_interviews`` with the interviews the logs carry added)
    and the dispositions the year's call results can record (the
    intersection over the call logs: every log must be able to record a
    disposition for the year to measure it).
    """
    out = dict(tables)
    calls = out["callback_attempts"]
    items = [c for c in input_table(framework, "callback_attempts").names
             if c not in framework.tables["callback_attempts"].names and c in calls.columns]
    separate = out.get("callback_interviews")
    answered = calls["_answered"] if "_answered" in calls.columns else pd.Series(pd.NA, index=calls.index)
    if separate is not None and len(separate):
        cases = pd.MultiIndex.from_frame(separate[["department_id", "case_id"]].astype(object))
        interviewed = pd.Series(pd.MultiIndex.from_frame(calls[["department_id", "case_id"]].astype(object))
                                .isin(cases), index=calls.index)
    else:
        interviewed = pd.Series(False, index=calls.index)
    calls = calls.assign(outcome=resolve_connected(calls["outcome"], answered, interviewed))
    if "attempt_no" not in calls.columns or calls["attempt_no"].isna().any():
        calls = calls.assign(attempt_no=_numbered(calls))
    answers = [c for c in items if c != "comment"]
    if answers:
        logged = interviews_from_log(calls, answers)
        logged = logged[["case_id", "department_id", *items, "_file", "_row", "_dept_text"]].reset_index(drop=True)
        for label, n in logged.groupby("_file", sort=True).size().items():
            ledger.count(file=str(label), table="callback_interviews", rows_in=int(n), rows_used=int(n))
        if separate is not None and len(separate):
            logged = _drop_duplicate_keys(pd.concat([separate, logged], ignore_index=True),
                                          framework.tables["callback_interviews"], ledger)
        out["callback_interviews"] = logged
    out["callback_attempts"] = calls.drop(columns=[*items, "_answered"], errors="ignore")
    sets = [recordable_dispositions(set(grp["outcome"].dropna()), declared.get(str(label), ()))
            for label, grp in calls.groupby("_file", sort=True)]
    recordable = frozenset.intersection(*sets) if sets else frozenset()
    return out, recordable


def _numbered(calls: pd.DataFrame) -> pd.Series:
    """Attempt numbers for calls without one, after the case's numbered calls, in order of call time."""
    have = calls["attempt_no"] if "attempt_no" in calls.columns else pd.Series(np.nan, index=calls.index)
    missing = have.isna()
    order = [c for c in ("called_at", "_file", "_row") if c in calls.columns]
    numbers = number_attempts(calls.loc[missing], order)
    offset = have.groupby([calls["department_id"], calls["case_id"]]).transform("max").fillna(0)
    return have.where(~missing, numbers.reindex(calls.index) + offset)


# ---------------------------------------------------------------------------


def _norm_header(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name)).strip()


def _map_columns(raw: pd.DataFrame, spec: InputSpec, table: TableSpec, problems: list[Problem],
                 preset: Preset | None = None) -> pd.DataFrame:
    """Rename the file's columns to canonical names (mapping, canonical name, preset, or a name of the column)."""
    for src, canon in spec.columns.items():
        if canon not in table.names:
            problems.append(Problem(
                f"[inputs.columns] maps '{src}' to '{canon}', which table '{table.name}' does not have",
                file=str(spec.path), column=src, code="unknown_column_target",
                fix=did_you_mean(canon, table.names) + f"map it to one of {list(table.names)}, declare '{canon}' as "
                    f"an [[items]] entry of table '{table.name}' in the framework, or remove the mapping"))
    rename = _column_targets(raw.columns, spec, table, preset)
    # columns the sampling design or the calibration names are kept even when they are not canonical
    extra = [c for c in spec.design_columns() if c in raw.columns and c not in rename and c not in table.names]
    known = preset.ignore if preset is not None else frozenset()
    ignored = [c for c in raw.columns if c not in rename and c not in extra and header_key(c) not in known]
    if ignored:
        # Not an error: field files often carry interviewer or note columns.  Named,
        # so that a column the mapping forgot is not dropped unnoticed.
        warnings.warn(f"{spec.path}: column(s) {', '.join(map(repr, ignored))} match no column of table "
                      f"'{table.name}' and are ignored; if one holds a canonical column, map it under "
                      f"[inputs.columns] in project.toml", MinpingWarning, stacklevel=4)
    df = raw.rename(columns=rename)
    df = df[[c for c in df.columns if c in table.names or c in extra]]
    seen = df.columns[df.columns.duplicated()].tolist()
    for c in seen:
        both = [str(k) for k, v in rename.items() if v == c]
        problems.append(Problem(f"two file columns map to '{c}': {', '.join(map(repr, both))}", file=str(spec.path),
                                column=c, code="duplicate_mapping",
                                fix="map only one column to each canonical name in project.toml"))
    missing = [c for c in table.required if c not in df.columns]
    for c in missing:
        col = table.column(c)
        problems.append(Problem(
            f"required column '{c}' ({col.zh}) is missing", file=str(spec.path), column=c,
            fix=f"add the column, or map the file's column to '{c}' under [inputs.columns] in project.toml"))
    if table.alt_key and not set(table.key) <= set(df.columns) and not set(table.alt_key) <= set(df.columns):
        lacking = [k for k in table.key if k not in df.columns]
        problems.append(Problem(
            f"the file has neither {' nor '.join(repr(k) for k in lacking)} nor "
            f"{', '.join(repr(k) for k in table.alt_key if k not in df.columns)}: its rows cannot be told apart",
            file=str(spec.path), column=lacking[0], code="missing_key",
            fix=f"map the column that numbers each case's calls to '{lacking[0]}', or the call time to "
                f"'{table.alt_key[-1]}', under [inputs.columns] in project.toml"))
    for role in DESIGN_COLUMNS:
        value = spec.design.get(role)
        for name in ([value] if isinstance(value, str) else list(value or ())):
            if name in df.columns:
                continue
            # Without this, the design would silently fall back to its default (e.g. equal weights).
            have = [c.name for c in table.columns if c.kind in ("number", "text", "id")]
            problems.append(Problem(
                f"[inputs.design] names '{name}' as {role}, but the file has no column '{name}' after mapping",
                file=str(spec.path), column=name, code="design_column_missing",
                fix=f"map the file's {role} column to one of table '{table.name}''s columns ({', '.join(have)}) "
                    f"under [inputs.columns] and name that column in [inputs.design], or remove {role} from "
                    "[inputs.design]"))
    return df.loc[:, ~df.columns.duplicated()]


@dataclass
class _Reading:
    """How one input is read: the table as the file is read, its preset, its recodes, the call log's answers."""

    table: TableSpec
    preset: Preset | None = None
    #: canonical column -> {token of a file value -> target} (:func:`surveys.recode.resolve`)
    recode: dict = field(default_factory=dict)
    #: columns whose bad values clear the row, not the cell (required, key and design columns)
    row_level: frozenset = frozenset()
    #: the interview answers a call log carries
    answers: tuple[str, ...] = ()


def _binary(framework: Framework) -> frozenset:
    """The framework's scales of kind ``binary`` (yes/no): a Boolean column can hold their answers."""
    return frozenset(k for k, v in framework.scales.items() if v.kind == "binary")


def _indicator_columns(framework: Framework, table: str) -> dict[str, list[str]]:
    """The columns a file of ``table`` must have for the framework's indicators: column -> indicator ids."""
    checklist = framework.item_ids("visits", kind="checklist")
    needed: dict[str, list[str]] = {}
    for ind in framework.indicators:
        if ind.table != table:
            continue
        for f in (ind.field, ind.denominator):
            for c in (derive.source_columns(table, f, checklist=checklist) if f else ()):
                needed.setdefault(c, []).append(ind.id)
    return needed


def _note_absent_columns(framework: Framework, table: str, columns, file: str, ledger: Ledger) -> None:
    """A column an indicator reads that the file lacks: in the ledger and a warning, never a silent empty indicator.

    The indicator is then empty for the file's rows (not collected this year
    when no file of the table has the column; :func:`evaluation.coverage.missing_columns`
    says so in the results and the documents).  Not an error: a call centre's
    log may simply not record, say, the promised days.
    """
    have = set(columns)
    spec = input_table(framework, table)
    shown = []
    for c, ids in _indicator_columns(framework, table).items():
        if c in have:
            continue
        ledger.note_absent(file=file, table=table, column=c, indicators=ids)
        col = spec.column(c) if c in spec.names else None
        name = f"'{c}' ({col.zh})" if col is not None and col.zh and col.zh != c else f"'{c}'"
        shown.append(f"{name} for {', '.join(ids)}")
    if shown:
        warnings.warn(f"{file}: no column {'; '.join(shown)}: those indicators are empty for this file's rows "
                      f"(results/missing_columns.csv); map the file's columns under [tables.{table}.columns] in "
                      f"project.toml if it has them", MinpingWarning, stacklevel=4)


def _reading(spec: InputSpec, framework: Framework, df_columns, targets: dict, problems: list[Problem]) -> _Reading:
    table = input_table(framework, spec.table)
    preset = load_preset(spec.preset) if spec.preset else None
    recodes = recode.resolve(spec, table, framework, targets, problems)
    key = table.key_for(df_columns)
    row_level = frozenset({*table.required, *key, *spec.design_columns()})
    answers = ()
    if spec.table == "callback_attempts":
        own = set(framework.tables["callback_attempts"].names)
        answers = tuple(c for c in table.names if c not in own and c != "comment" and c in df_columns)
    return _Reading(table, preset, recodes, row_level, answers)


def _load_file(spec, framework, lookup, year, period, ledger: Ledger, problems, salt, *, label: str,
               checker: plausibility.Checker, limits: ReadLimits | None = None,
               declared: dict[str, frozenset] | None = None):
    table = input_table(framework, spec.table)
    preset = load_preset(spec.preset) if spec.preset else None
    raw = _read(spec, table, limits, preset, problems, _binary(framework))
    if raw is None:
        return None
    n_before = len(problems)
    df = _map_columns(raw.frame, spec, table, problems, preset)
    reading = _reading(spec, framework, df.columns, _column_targets(raw.frame.columns, spec, table, preset), problems)
    if len(problems) > n_before:
        return None
    if spec.table != "callback_attempts":
        _note_absent_columns(framework, spec.table, df.columns, label, ledger)
    if declared is not None and spec.table == "callback_attempts":
        declared[label] = frozenset(v for v in reading.recode.get("outcome", {}).values() if v)
    df = recode.apply_markers(df, table, (*(preset.missing if preset else ()), *spec.missing))
    df = recode.prefix_ids(df, table, spec.id_prefix)
    used = _check_rows(df, raw.source_rows, spec, framework, lookup, year, period, ledger, problems, salt,
                       label=label, checker=checker, reading=reading)
    if used is not None:
        ledger.count(file=label, table=spec.table, rows_in=len(df), rows_used=len(used), blank_rows=raw.blank_rows)
    return used


def _check_rows(df, source_rows, spec, framework, lookup, year, period, ledger: Ledger, problems, salt, *,
                label: str, checker: plausibility.Checker, keys: aggregate.KeyBook | None = None,
                tally: _Tally | None = None, columns=None, reading: _Reading | None = None):
    """The per-row rules of one file (or one record batch of it): parse, set aside, return the used rows.

    Every value is parsed.  A value that cannot be read in a row-level
    column (a required field, a key or a design column) quarantines the row
    in the ledger with the first reason found; in any other column it clears
    the cell, which the ledger lists with its value and reason, and the row
    stays in use.  The plausibility row rules (:mod:`surveys.plausibility`)
    run on the rows still in use after the parsing rules and the period
    screen, before duplicate keys; ``checker`` settles them and collects
    what stops the year (a rule in quarantine mode clears the cell of an
    optional column, and sets aside the row otherwise).  ``keys`` and
    ``tally`` carry what a streamed file's batches share (repeated keys, the
    department match); without them the file is checked whole.
    ``columns``: only these of the used rows are returned.  ``reading``:
    how the input is read (its table, recodes, row-level columns); built
    from ``spec`` when None.  None when the department column, or a call
    result, is a structural problem.
    """
    if reading is None:
        reading = _reading(spec, framework, df.columns, {}, problems)
    table = reading.table
    fname = label
    stamps: dict[str, pd.Series] = {}  # date and month columns as timestamps, for the plausibility rules
    df["_file"] = fname
    df["_row"] = np.asarray(source_rows)
    marks = _Marks(len(df))
    mark = marks.mark
    cells = _Cells()
    texts: dict[str, pd.Series] = {}  # each parsed column's cells as the file has them, for the books
    key = table.key_for(df.columns)
    needed = set(table.required) | (set(key) if not set(table.key) <= set(df.columns) else set())

    # department (parsed once per distinct text)
    codes, uniques = pd.factorize(_text(df["department_id"]))
    norm = np.array([unicodedata.normalize("NFKC", v).strip() for v in uniques], dtype=object)
    ids = np.array([lookup.get(v) for v in norm], dtype=object)
    active = {d.id for d in framework.departments if d.active(year)}
    nonblank = _spread(codes, norm != "", False)
    known = _spread(codes, ~pd.isna(ids), False)

    def dept_text(idx):
        return norm[codes[idx]]

    df["_dept_text"] = df["department_id"]
    unmatched = list(dict.fromkeys(norm[(norm != "") & pd.isna(ids)]))
    if tally is not None:
        tally.add(int(nonblank.sum()), int(known.sum()), unmatched)
    elif nonblank.sum() and known.sum() < MIN_DEPARTMENT_MATCH * nonblank.sum():
        problems.append(_match_problem(spec, int(known.sum()), int(nonblank.sum()), unmatched))
        return None
    mark(~nonblank, "missing_required", "部门/department")
    mark(nonblank & ~known, "unknown_department", dept_text)
    mark(known & ~_spread(codes, np.array([v in active for v in ids], dtype=bool), False),
         "department_not_active", dept_text)
    df["department_id"] = _take(ids, codes, "str", df.index)

    def unreadable(bad, code: str, col: ColumnSpec, s: pd.Series, text: pd.Series | None) -> None:
        """Cells that could not be read: the row set aside, or the cell cleared; the values noted."""
        bad = np.asarray(bad, dtype=bool)
        if not bad.any():
            return
        shown = _cells(s, text, col.name)
        idx = np.flatnonzero(bad)
        ledger.note_unread(file=fname, table=spec.table, column=col.name, values=shown(idx, bare=True), code=code)
        if col.name in reading.row_level:
            mark(bad, code, shown)
        else:
            cells.clear(bad, code, col.name, lambda i: shown(i, bare=True))

    for col in table.columns:
        if col.name not in df.columns or col.name == "department_id":
            continue
        s = df[col.name]
        own = reading.recode.get(col.name, {})
        if own and col.kind not in ("code", "category"):
            s = recode.apply_text_recodes(s if _text(s) is not None else s.astype("string"), own)
        # Typed columns (numbers, timestamps from Parquet) are never blank text; text is stripped once.
        text = _text(s)
        texts[col.name] = text if text is not None else s
        blank = (s.isna() if text is None else text.isna() | (text == "")).to_numpy()
        if col.name in needed:
            mark(blank, "missing_required", col.name)
        if col.kind in ("number", "count"):
            values, bad = parse_durations(s) if col.unit == "s" else parse_numbers(s)
            unreadable(bad.to_numpy(), "bad_duration" if col.unit == "s" else "not_a_number", col, s, text)
            df[col.name] = values
        elif col.kind == "code":
            scale = framework.scales[col.scale]
            labels = {**scale.labels, **own}
            values, bad, _na = parse_codes(s, labels, scale.codes, scale.na_codes)
            unreadable(bad.to_numpy(), "code_out_of_range", col, s, text)
            df[col.name] = values
        elif col.kind == "date":
            values, bad = parse_dates(s)
            unreadable(bad.to_numpy(), "bad_date", col, s, text)
            df[col.name] = stamps[col.name] = values
        elif col.kind == "month":
            values, bad = parse_dates(text.where(~text.str.fullmatch(r"\d{4}\D\d{1,2}\D?", na=False),
                                                 text.str.replace(r"\D", "-", regex=True).str.rstrip("-") + "-01"))
            unreadable(bad.to_numpy(), "bad_date", col, s, text)
            stamps[col.name] = values
            df[col.name] = _per_distinct(values, lambda u: u.dt.strftime("%Y-%m").astype("string"))
        elif col.kind == "category":
            lookup_cat = {**recode.category_lookup(col), **own}
            kcodes, kinds = pd.factorize(text)
            mapped = np.array([lookup_cat.get(token_key(k)) for k in kinds], dtype=object)
            bad = ~blank & pd.isna(_spread(kcodes, mapped, None))
            if col.required and bad.any():
                _vocabulary_problem(spec, table, col, text[bad], framework, problems)
            unreadable(bad, "bad_category", col, s, text)
            if col.name == "default_rating":
                number = pd.to_numeric(pd.Series(mapped, dtype=object), errors="coerce").to_numpy(dtype=float)
                df[col.name] = _spread(kcodes, number, np.nan)
            else:
                df[col.name] = _take(mapped, kcodes, "string", df.index)
        elif col.kind == "phone":
            df["phone_hash"] = hash_phone(s, salt)
            df["phone_masked"] = mask_phone(s)
            df = df.drop(columns=[col.name])
        elif col.kind == "hashed":
            df[col.name + "_hash"] = hash_identifier(text if text is not None else s.astype("string"), salt)
            df = df.drop(columns=[col.name])
        elif col.kind == "text":
            df[col.name] = _per_distinct(text, scrub_text)
        elif col.kind == "id":
            df[col.name] = text

    # numeric design columns kept from the file (weights, fpc of a stage) are parsed like numbers
    for name in _numeric_design_columns(spec, table, df):
        values, bad = parse_numbers(df[name])
        mark(bad, "not_a_number", _cells(df[name], _text(df[name]), name))
        df[name] = values

    # outside the evaluation period (a screen: quarantine, flag or off)
    if table.date_column and table.date_column in df.columns and period is not None:
        mode = framework.screens.outside_period
        d = df[table.date_column]
        outside = d.notna() & ((d < pd.Timestamp(period[0])) | (d >= pd.Timestamp(period[1]) + pd.Timedelta(days=1)))

        def shown(idx):
            return (table.date_column + "=" + d.iloc[idx].dt.strftime("%Y-%m-%d").fillna("")).tolist()
        if mode == "quarantine":
            mark(outside.to_numpy(), "outside_period", shown)
        elif mode == "flag" and (idx := np.flatnonzero(outside.to_numpy() & marks.ok())).size:
            # kept, and said so: the department is flagged with the first example
            depts = df["department_id"].to_numpy()[idx]
            first = {dept: k for k, dept in reversed(list(enumerate(depts)))}
            texts_shown = shown(idx[list(first.values())])
            ledger.flag_rows(table=spec.table, code="outside_period", departments=depts,
                             examples={dept: f"{fname} row {df['_row'].iloc[idx[k]]}: {t}"
                                       for (dept, k), t in zip(first.items(), texts_shown, strict=True)})

    # values that parse but cannot be true: stopped, set aside or flagged as the framework says
    def settle(mask, code, detail, column):
        if column in reading.row_level or column not in df.columns:
            mark(mask, code, detail)
        else:
            cells.clear(np.asarray(mask, dtype=bool) & marks.ok(), code, column, detail, plausibility=True)

    checker.check_rows(df, table, spec.design, period, stamps, ok=marks.ok, quarantine=settle)

    # the base of each column's loss: filled cells of the rows the per-row rules keep, repeated keys or not
    # (a repeated key is settled after the batches on the engine; the values themselves were read)
    kept_by_rules = marks.ok()
    # duplicate keys within the file (first kept); across files when streamed
    key = [k for k in key if k in df.columns]
    if key:
        first = keys.repeated_rows(df[key]) if keys is not None else df[key].duplicated(keep="first").to_numpy()
        mark(first & marks.ok(), "duplicate_id", lambda idx: df[key[0]].iloc[idx].astype("string").fillna("").tolist())
        if keys is not None:
            later, kept = keys.across(df[key], marks.ok(), fname)
            mark(later, "duplicate_id", lambda idx: [f"{kept[i]}:{v}" for i, v in zip(idx, df[key[0]].iloc[idx])])

    rows = df["_row"].to_numpy()
    for code, idx, detail in marks.by_code():
        ledger.quarantine(file=fname, table=spec.table, source_rows=rows[idx].tolist(),
                          departments=df["_dept_text"].iloc[idx].tolist(), code=code, detail=detail)
    ok = marks.ok()
    df = cells.settle(df, ok, texts, ledger, file=fname, table=spec.table)
    for name, text in texts.items():
        if name not in reading.row_level and table.column(name).kind not in ("phone", "hashed", "id"):
            ledger.note_filled(file=fname, table=spec.table, column=name, n=int((_filled(text) & kept_by_rules).sum()))
    if reading.answers:
        # Whether the call carries an answer: a connected call with one is the case's interview.
        df["_answered"] = df[list(reading.answers)].notna().any(axis=1)
    keep = columns if columns is not None else df.columns
    return df.loc[ok, [c for c in keep if c in df.columns]].reset_index(drop=True)


def _vocabulary_problem(spec: InputSpec, table: TableSpec, col: ColumnSpec, unknown: pd.Series,
                        framework: Framework, problems: list[Problem]) -> None:
    """Words of a required category column (a call result) that no vocabulary or recode covers: the year stops.

    Every call counts in the AAPOR rates: a call set aside because its result
    word is unknown would move them, so the words and the lines that read
    them are asked for instead.
    """
    values = unknown.astype("string").value_counts().rename_axis("value").reset_index(name="n")
    listed = ", ".join(f"'{v}' ({n:,})" for v, n in values.head(10).itertuples(index=False))
    more = f" and {len(values) - 10} more" if len(values) > 10 else ""
    problems.append(Problem(
        f"{len(unknown):,} rows have a {col.zh or col.name} ('{col.name}') that minping cannot read: {listed}{more}",
        file=str(spec.path), column=col.name, code="unknown_call_result" if col.name == "outcome" else "unknown_value",
        fix="add to project.toml the lines that read them, filling in after each value what it records "
            "(surveys/callbacks.py explains the vocabulary):\n      "
            + recode.lines_to_add(col, spec.table, values, framework).replace("\n", "\n      ")
            + f"\n    (the same lines under [inputs.recode.{col.name}] of this file's [[inputs]] apply to it only)"))


class _Cells:
    """Cells of optional columns that could not be read or cannot be true: cleared, not the row.

    Collected while a file is checked; :meth:`settle` records those of the
    rows still in use in the ledger and clears them (the rows set aside keep
    their own reason).
    """

    def __init__(self):
        self.found: list[tuple[str, str, np.ndarray, object, bool]] = []

    def clear(self, mask, code: str, column: str, detail, *, plausibility: bool = False) -> None:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(idx):
            self.found.append((code, column, idx, detail, plausibility))

    def settle(self, df: pd.DataFrame, ok: np.ndarray, texts: dict[str, pd.Series], ledger: Ledger, *, file: str,
               table: str) -> pd.DataFrame:
        taken: set[tuple[str, int]] = set()
        rows = df["_row"].to_numpy()
        for code, column, idx, detail, rule in self.found:
            idx = np.array([i for i in idx[ok[idx]] if (column, i) not in taken], dtype=np.int64)
            if not len(idx):
                continue
            taken.update((column, int(i)) for i in idx)
            text = texts.get(column, df[column])
            values = text.iloc[idx].astype("string").fillna("").tolist()
            ledger.clear_cells(file=file, table=table, column=column, source_rows=rows[idx].tolist(),
                               departments=df["_dept_text"].iloc[idx].tolist(), values=values, code=code,
                               detail=list(detail(idx)) if rule else None)
            if rule:
                # A plausibility rule found a value that was read: clear it (a parsing failure is already missing).
                df.loc[df.index[idx], column] = None
        return df


def _filled(text: pd.Series) -> np.ndarray:
    """Cells that hold something (not empty, not a placeholder such as — or 无), as a bool array."""
    if not (isinstance(text.dtype, (pd.StringDtype, pd.CategoricalDtype)) or text.dtype == object):
        return text.notna().to_numpy()
    # per distinct value: a column of millions of rows has few
    codes, uniques = pd.factorize(text)
    stripped = pd.Series(uniques, dtype="string").str.strip().str.lower()
    hold = ~stripped.isin(["", *MISSING_TOKENS]).to_numpy(dtype=bool)
    return np.append(hold, False)[codes]


def _numeric_design_columns(spec, table, df) -> list[str]:
    names = [spec.design.get("weights")]
    fpc = spec.design.get("fpc")
    names += [fpc] if isinstance(fpc, str) else list(fpc or ())
    return [c for c in names if c and c in df.columns and c not in table.names]


class _Marks:
    """The first reason each row breaks, with its detail; details are built only for the rows marked."""

    def __init__(self, n: int):
        self.reason = np.zeros(n, dtype=np.int16)
        self.found: list[tuple[str, np.ndarray, list]] = []

    def ok(self) -> np.ndarray:
        return self.reason == 0

    def mark(self, mask, code: str, detail) -> None:
        """Mark rows of ``mask`` not marked yet; ``detail`` is a text or a function of their positions."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool) & (self.reason == 0))
        if not len(idx):
            return
        self.found.append((code, idx, list(detail(idx)) if callable(detail) else [detail] * len(idx)))
        self.reason[idx] = len(self.found)

    def by_code(self):
        """(code, positions, details) per reason code, codes in sorted order and positions ascending."""
        for code in sorted({c for c, _, _ in self.found}):
            parts = [(i, d) for c, i, d in self.found if c == code]
            idx = np.concatenate([i for i, _ in parts])
            detail = [x for _, d in parts for x in d]
            order = np.argsort(idx, kind="stable")
            yield code, idx[order], [detail[k] for k in order]


def _spread(codes: np.ndarray, values: np.ndarray, fill) -> np.ndarray:
    """Per-distinct ``values`` broadcast to rows by factor ``codes`` (``fill`` where the code is -1)."""
    return np.append(values, np.array([fill], dtype=values.dtype))[codes]


def _take(values: np.ndarray, codes: np.ndarray, dtype: str, index: pd.Index) -> pd.Series:
    """A text column from per-distinct ``values`` (None = missing) and factor ``codes`` (-1 = missing)."""
    return pd.Series(pd.array(list(values) + [None], dtype=dtype).take(np.where(codes < 0, len(values), codes)),
                     index=index)


def _per_distinct(s: pd.Series, fn) -> pd.Series:
    """``fn`` applied to the distinct values of ``s`` only, broadcast back (missing stays missing)."""
    codes, uniques = pd.factorize(s)
    out = fn(pd.Series(uniques, dtype=s.dtype))
    return pd.Series(out.array.take(codes, allow_fill=True), index=s.index)


def _text(s: pd.Series) -> pd.Series | None:
    """The stripped text of a text column (categorical when it came so, :func:`_typed_frame`); None for
    typed numbers and timestamps."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        stripped = s.cat.categories.str.strip()
        if stripped.is_unique and (stripped != "").all():
            return s.cat.rename_categories(stripped)
    if isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
        return s.astype("string").str.strip()
    return None


def _cells(s: pd.Series, text: pd.Series | None, name: str):
    """Detail of a bad cell, ``name=<cell as the reader shows it>`` (only the cell with ``bare``), for the given
    positions."""
    def detail(idx, bare: bool = False):
        if text is not None:
            shown = text.iloc[idx].astype("string").fillna("")
            return (shown if bare else name + "=" + shown).tolist()
        import pyarrow as pa

        shown = arrow_text(pa.array(s.iloc[idx].to_numpy(), from_pandas=True))
        return [("" if bare else name + "=") + ("" if v is None else v) for v in shown.to_pylist()]
    return detail


def _match_problem(spec, known: int, nonblank: int, unmatched: list) -> Problem:
    examples = ", ".join(repr(x) for x in unmatched[:5])
    return Problem(
        f"only {known} of {nonblank} rows name a department in the register (e.g. {examples})",
        file=str(spec.path), column="department_id",
        fix="map the right column to department_id, or add the names as aliases in the framework's register")


def _drop_duplicate_keys(df: pd.DataFrame, table: TableSpec, ledger: Ledger) -> pd.DataFrame:
    """Across several files of one table, keep the first occurrence of each key.

    Each row is compared by the key its file has (:meth:`TableSpec.key_for`):
    a call numbered in its log by its attempt number, a call of a log without
    numbers by its call time.
    """
    key = list(table.key_for(df.columns))
    if not key:
        return df
    ident = _row_keys(df, table, key)
    dup = ident.duplicated(keep="first")
    if dup.any():
        q = df.loc[dup]
        # Each row is listed under its own file (a row number means nothing
        # without it); the detail names the file whose row was kept.
        kept = pd.DataFrame({"_k": ident[~dup], "_file": df.loc[~dup, "_file"]}).drop_duplicates("_k")
        first = ident[dup].to_frame("_k").merge(kept, on="_k", how="left")["_file"].to_numpy()
        detail = pd.Series(first, index=q.index).astype(str) + ":" + q[key[0]].astype(str)
        for fname, grp in q.groupby("_file", sort=False):
            ledger.quarantine(file=fname, table=table.name, source_rows=grp["_row"].tolist(),
                              departments=grp["_dept_text"].tolist(), code="duplicate_id",
                              detail=detail[grp.index].tolist())
        for fname, n in q.groupby("_file").size().items():
            for rec in ledger.counts:
                if rec["file"] == fname and rec["table"] == table.name:
                    rec["rows_used"] -= int(n)
                    rec["rows_quarantined"] += int(n)
    return df.loc[~dup].reset_index(drop=True)


def _row_keys(df: pd.DataFrame, table: TableSpec, key: list[str]) -> pd.Series:
    """Each row's key as one text; rows missing a column of ``key`` use the table's ``alt_key``."""
    def joined(columns, rows):
        parts = [df.loc[rows, c].astype("string").fillna("\x00") for c in columns]
        out = parts[0]
        for p in parts[1:]:
            out = out + "\x1f" + p
        return out

    if not table.alt_key or not set(table.key) <= set(key):
        return joined(key, df.index)
    full = df[list(table.key)].notna().all(axis=1)
    alt = [c for c in table.alt_key if c in df.columns]
    out = pd.Series("", index=df.index, dtype="string")
    out[full] = "k\x1f" + joined(list(table.key), df.index[full])
    if (~full).any():
        out[~full] = "a\x1f" + joined(alt, df.index[~full])
    return out


# --------------------------------------------------------------- Parquet, typed and streamed


def _column_targets(columns, spec: InputSpec, table: TableSpec, preset: Preset | None = None) -> dict:
    """File column -> canonical name.

    In this order: the project's mapping (keyed by the header as in the
    file, or by its question text once the preset's numbering is stripped),
    the canonical name, the preset's platform columns, and the names the
    framework gives the column (its Chinese name, English name or an
    alias), compared with the header's text (:func:`surveys.presets.header_key`:
    spaces and trailing punctuation such as ``：`` aside).  A header of
    several rows (``header_rows = 2``) whose joined name matches nothing is
    tried by its bottom cell, the question under a group cell
    (``检查项目_窗口标识清晰`` -> ``窗口标识清晰``).
    """
    mapping = {_norm_header(k): v for k, v in spec.columns.items()}
    loose = {header_key(k): v for k, v in spec.columns.items()}
    if preset is not None:
        loose.update({header_key(preset.clean(k)): v for k, v in spec.columns.items()
                      if header_key(preset.clean(k)) not in loose})
    platform = preset.columns if preset is not None else {}
    by_zh = {header_key(h): c.name for c in table.columns for h in (c.zh, c.en, *c.aliases) if h}
    rename = {}
    for col in columns:
        key = _norm_header(col)
        text = header_key(preset.clean(key)) if preset is not None else header_key(key)
        target = (mapping.get(key) or loose.get(header_key(key)) or loose.get(text)
                  or (key if key in table.names else None) or platform.get(header_key(key)) or by_zh.get(text))
        if not target and spec.header_rows > 1 and "_" in key:
            bottom = key.rsplit("_", 1)[1]
            target = (mapping.get(bottom) or loose.get(header_key(bottom)) or (bottom if bottom in table.names else None)
                      or by_zh.get(header_key(bottom)))
        if target:
            rename[col] = target
    return rename


def _read(spec: InputSpec, table: TableSpec, limits: ReadLimits | None = None, preset: Preset | None = None,
          problems: list[Problem] | None = None, binary=frozenset()) -> RawTable | None:
    """The file's cells as :func:`~surveys.readers.read_table` gives them, except Parquet numbers and timestamps.

    A Parquet column that maps to a number, count or code column and holds
    numbers, or to a date column and holds timestamps or dates, stays typed:
    parsing its text again would cost more than reading it, and gives the
    same values.  Every other Parquet column is the reader's text.  A
    Parquet column whose type cannot hold its field (a Boolean column for a
    Likert item) is a structural problem (:func:`_type_problems`), added to
    ``problems``; None is returned then.
    """
    if spec.path.suffix.lower() not in PARQUET_SUFFIXES:
        return read_table(spec.path, sheet=spec.sheet, header_rows=spec.header_rows, delimiter=spec.delimiter,
                          encoding=spec.encoding, limits=limits)
    pf = _parquet_file(spec.path)
    names = [str(n).strip() for n in pf.schema_arrow.names]
    targets = _column_targets(names, spec, table, preset)
    wrong = _type_problems(pf.schema_arrow, targets, table, spec, binary)
    if wrong:
        if problems is None:
            raise DataValidationError(f"cannot read {spec.path}", wrong)
        problems.extend(wrong)
        return None
    kinds = {n: table.column(c).kind for n, c in targets.items()}
    frame = _typed_frame(pf.read(), kinds)
    return RawTable(frame, spec.path, np.arange(2, len(frame) + 2, dtype=np.int64), None, None, 0)


#: Arrow type groups a column of each kind may have in a Parquet file (text and null always may)
_TYPES_FOR = {
    "number": ("integer", "floating", "decimal"), "count": ("integer", "floating", "decimal"),
    "code": ("integer", "floating", "decimal"), "date": ("timestamp", "date", "integer", "floating"),
    "month": ("timestamp", "date", "integer"), "id": ("integer",), "department": ("integer",),
    "category": ("integer",), "phone": ("integer",), "hashed": ("integer",), "text": ("integer", "floating"),
}


def _type_problems(schema, targets: dict, table: TableSpec, spec: InputSpec, binary=frozenset()) -> list[Problem]:
    """Parquet columns whose type cannot hold the field they map to: one structural problem each.

    A Boolean column mapped to a Likert item holds only two values where the
    scale has five, a timestamp mapped to a count holds no count: reading
    them cell by cell would clear or quarantine every row of the channel.
    A yes/no item (a scale of kind ``binary``, named in ``binary``) may be
    Boolean: true is 1, false 0.
    """
    import pyarrow as pa

    out = []
    for f in schema:
        name = str(f.name).strip()
        if name not in targets:
            continue
        col = table.column(targets[name])
        kind = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        groups = {"integer": pa.types.is_integer, "floating": pa.types.is_floating,
                  "decimal": pa.types.is_decimal, "timestamp": pa.types.is_timestamp, "date": pa.types.is_date}
        if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
            continue
        allowed = _TYPES_FOR.get(col.kind, ())
        if any(groups[g](kind) for g in allowed):
            continue
        if pa.types.is_boolean(kind) and col.kind == "code" and col.scale in binary:
            continue
        what = f"a {col.kind} on scale '{col.scale}'" if col.kind == "code" else f"a {col.kind}"
        out.append(Problem(
            f"the Parquet column '{name}' has type {kind}, which cannot hold '{col.name}' ({what})",
            file=str(spec.path), column=name, code="column_type",
            fix=f"export '{name}' as numbers or text (the codes or labels of the answers), or map another column "
                f"to '{col.name}' under [inputs.columns]"))
    return out


def _parquet_source(spec: InputSpec, framework: Framework, problems: list[Problem]):
    """How the engine reads one Parquet input, as :func:`_load_file` reads a file: the open file, its column
    targets, the file columns to read, the :class:`_Reading`, the non-response markers and the mapped columns.

    None, with the problems added, when the columns cannot be mapped or a
    column's type cannot hold its field (the warnings of the mapping are given here, once a file).
    """
    table = input_table(framework, spec.table)
    preset = load_preset(spec.preset) if spec.preset else None
    pf = _parquet_file(spec.path)
    names = [str(n).strip() for n in pf.schema_arrow.names]
    n_before = len(problems)
    mapped = _map_columns(pd.DataFrame(columns=names), spec, table, problems, preset)
    targets = _column_targets(names, spec, table, preset)
    problems.extend(_type_problems(pf.schema_arrow, targets, table, spec, _binary(framework)))
    reading = _reading(spec, framework, mapped.columns, targets, problems)
    if len(problems) > n_before:
        return None
    read = [orig for orig, name in zip(pf.schema_arrow.names, names) if name in targets]
    markers = (*(preset.missing if preset else ()), *spec.missing)
    return pf, targets, read, reading, markers, tuple(mapped.columns)


def _prepare_batch(frame: pd.DataFrame, table: TableSpec, spec: InputSpec, markers: tuple) -> pd.DataFrame:
    """A record batch as :func:`_load_file` prepares a file's cells: skip markers missing, ids behind the prefix."""
    return recode.prefix_ids(recode.apply_markers(frame, table, markers), table, spec.id_prefix)


def _opened(spec: InputSpec, label: str, framework: Framework, reading: _Reading, columns, ledger: Ledger,
            declared: dict | None) -> None:
    """What the year's books note of an input read on the engine, as :func:`_load_file` notes it."""
    if spec.table != "callback_attempts":
        _note_absent_columns(framework, spec.table, columns, label, ledger)
    if declared is not None and spec.table == "callback_attempts":
        declared[label] = frozenset(v for v in reading.recode.get("outcome", {}).values() if v)


def _parquet_file(path):
    """An open Parquet file whose columns are table cells; else the reader's structural problem is raised."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Read page by page: pre-buffering would hold every requested column chunk of the file at once.
        pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 22)
        names = [str(n).strip() for n in pf.schema_arrow.names]
        sound = (len(set(names)) == len(names) and pf.metadata.num_rows > 0
                 and all(arrow_text(pa.array([], type=f.type)) is not None for f in pf.schema_arrow))
    except (pa.ArrowException, OSError, ValueError):
        sound = False
    if not sound:
        read_table(path)  # names the problem, with its fix
        raise DataValidationError(f"cannot read {path}", [Problem(
            "the Parquet file cannot be read in record batches", file=str(path), code="corrupt_file",
            fix="export the table again")])
    return pf


def _typed_frame(data, kinds: dict[str, str]) -> pd.DataFrame:
    """A Parquet table or record batch as rows to check (typing rule in :func:`_read`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = {}
    for name, column in zip(data.schema.names, data.columns):
        name = str(name).strip()
        kind, kind_of = kinds.get(name), column.type
        if kind == "code" and pa.types.is_boolean(kind_of):
            # a yes/no item stored as Boolean (the type check let only those through): true is 1, false 0
            columns[name] = pd.Series(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
            continue
        if kind in ("number", "count", "code") and (pa.types.is_integer(kind_of) or pa.types.is_floating(kind_of)):
            columns[name] = pd.Series(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
            continue
        if kind == "date" and (pa.types.is_timestamp(kind_of) or pa.types.is_date(kind_of)):
            try:
                stamps = column.cast(pa.timestamp("ms")) if pa.types.is_date(kind_of) else column
                stamps = pd.Series(stamps.to_pandas())
                if stamps.dt.tz is not None:
                    stamps = stamps.dt.tz_localize(None)  # wall-clock time, as the text reader keeps it
                columns[name] = stamps.astype("datetime64[ns]")
                continue
            except (pd.errors.OutOfBoundsDatetime, OverflowError, pa.ArrowInvalid):
                pass  # outside the nanosecond range: as text, where it is a bad date
        if kind in ("department", "category") and pa.types.is_dictionary(kind_of):
            # Few distinct names over many records: clean the dictionary, keep the codes.
            column = column.unify_dictionaries().combine_chunks() if isinstance(column, pa.ChunkedArray) else column
            values = text_column(arrow_text(column.dictionary))
            if values.notna().all() and values.is_unique:
                codes = pc.fill_null(column.indices, -1).to_numpy(zero_copy_only=False)
                columns[name] = pd.Series(pd.Categorical.from_codes(codes, categories=values.astype(object)))
                continue
        columns[name] = text_column(arrow_text(column))
    return pd.DataFrame(columns)


def _read_ahead(batches, kinds: dict, targets: dict):
    """Typed frames of the record batches, the next one decoded in a thread while the caller checks this one.

    Parquet decoding and Arrow conversions release the GIL, so reading
    overlaps with checking on a second core; one batch ahead bounds memory.
    """
    from concurrent.futures import ThreadPoolExecutor

    batches = iter(batches)

    def next_frame():
        batch = next(batches, None)
        return None if batch is None else _typed_frame(batch, kinds).rename(columns=targets)

    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(next_frame)
        while (frame := ahead.result()) is not None:
            ahead = pool.submit(next_frame)
            yield frame


class _Tally:
    """The department-match check of a streamed file, counted over its batches."""

    def __init__(self):
        self.nonblank = self.known = 0
        self.unmatched: list[str] = []

    def add(self, nonblank: int, known: int, unmatched: list) -> None:
        self.nonblank += nonblank
        self.known += known
        self.unmatched += [u for u in unmatched if u not in self.unmatched][:5]

    def problem(self, spec) -> Problem | None:
        if self.nonblank and self.known < MIN_DEPARTMENT_MATCH * self.nonblank:
            return _match_problem(spec, self.known, self.nonblank, self.unmatched)
        return None
