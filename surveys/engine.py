"""Parquet inputs on the engine: record batches checked by the rules of an in-memory file, on every core.

A table whose inputs are all Parquet is read record batch by record batch
(:data:`BATCH_ROWS`) and every batch passes :func:`surveys.ingest._check_rows`,
the very function that checks an in-memory file: the same parsing, the same
quarantine reasons, the same plausibility rules, the same department match.
A table of :data:`surveys.aggregate.SUMMED` (好差评) is then derived
(:mod:`surveys.derive`) and reduced to sufficient statistics per department
and month (:func:`surveys.aggregate.sufficient_statistics`) batch by batch, so
its memory does not grow with its records; any other table is returned as its
used rows.  The ledger, the flags, the plausibility findings that stop the
year and the department-match check come out as they would from the whole
file (``tests/test_scale.py`` checks it for every channel).

Both cores
    A large reduced table (at least :data:`PARALLEL_ROWS` records) is checked
    in worker processes, one Parquet row group per task, while the calling
    process goes on with the year's other files (:func:`start`).  A worker
    keeps its own books; the caller settles them (:meth:`Loaded.settle`) in
    file and row-group order at the place in the year's files where the
    table's first input stands, so that every list in the ledger, every
    flag's first example and every problem comes out in the order of a
    serial load.  Smaller tables run the same tasks in the calling process.

Repeated keys
    Whether a row repeats the key of an earlier row depends on every earlier
    row of the file, and across files on the rows earlier files used, which
    no single batch sees.  The batches therefore mark no duplicate; they
    return the *candidate* rows, those whose key columns could repeat, with
    their parsed key and whether the other rules kept them.  The caller then
    applies the rule of :func:`surveys.ingest._check_rows` and
    :func:`surveys.ingest._drop_duplicate_keys` exactly, file by file: a used
    row whose key an earlier row of its file has, or whose key an earlier
    file used, is quarantined as ``duplicate_id``.  For a large table a first
    pass hashes the key's id columns (:func:`surveys.aggregate.key_hash`) on
    the workers, and only rows whose hash repeats are candidates; a reduced
    table's candidate rows are kept out of the batch's statistics and added
    back once they are settled.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import aggregate, derive
from .ledger import Ledger
from .plausibility import Checker

__all__ = ["BATCH_ROWS", "PARALLEL_ROWS", "WORKERS", "Loaded", "Rules", "begin", "load"]

#: records per batch
BATCH_ROWS = 1 << 19
#: a reduced table with at least this many records is checked in worker processes
PARALLEL_ROWS = 1 << 21
#: worker processes (both cores of the reference machine); at most the machine's CPUs
WORKERS = 2


# ----------------------------------------------------------------------------- what a table needs


@dataclass(frozen=True)
class Rules:
    """The functions of an in-memory load that the engine runs, given by :mod:`surveys.ingest`.

    The engine calls exactly these (the per-row rules of a file, its column
    mapping, its Parquet reader); it never imports the loader, which imports
    the engine.  Module-level functions travel to worker processes by name.
    """

    check_rows: object      # surveys.ingest._check_rows
    tally: object           # surveys.ingest._Tally
    source: object          # surveys.ingest._parquet_source: how one input is read (mapping, preset, recodes)
    prepare_batch: object   # surveys.ingest._prepare_batch: skip markers and id prefix, as for a file
    opened: object          # surveys.ingest._opened: what the year's books note of an input once it is read
    parquet_file: object    # surveys.ingest._parquet_file
    read_ahead: object      # surveys.ingest._read_ahead



@dataclass(frozen=True)
class _Source:
    """One Parquet input of the table, as the workers read it."""

    path: str
    label: str
    spec: object            # surveys.project.InputSpec
    targets: dict           # file column (stripped) -> canonical name
    read: list              # the file's column names to read
    groups: tuple           # row counts of the file's row groups
    key: tuple = ()         # the table's key columns the file has
    reading: object = None  # surveys.ingest._Reading: the table as the file is read, its preset and recodes
    markers: tuple = ()     # cell values that mean "not answered" (the preset's and the input's)
    columns: tuple = ()     # the file's columns after mapping


@dataclass(frozen=True)
class _Context:
    """What every batch of one table is checked with."""

    rules: Rules
    table: str
    framework: object
    lookup: dict
    year: int
    period: object
    salt: str
    paths: dict             # ledger label -> path, for the plausibility findings
    reduce: bool            # reduce to sufficient statistics (else keep the used rows)
    columns: tuple          # key columns of the table
    hashed: tuple           # key columns hashed in the first pass (id columns all files have)


@dataclass
class _Part:
    """The books and rows of one task (a row group, or a file in the calling process)."""

    file_no: int
    entries: list
    cells: list
    filled: dict
    unread: dict
    flags: list
    stops: dict
    tally: tuple
    rows_in: int
    used: pd.DataFrame | None = None       # used rows (rows kept) or their statistics (reduced)
    stats: pd.DataFrame | None = None
    cand: pd.DataFrame | None = None       # candidate rows: _pos, _row, _ok, _dept, _key0 and the key columns
    cand_rows: pd.DataFrame | None = None  # derived used candidate rows, aligned with cand[cand._ok] (reduced)


class _DeferredKeys:
    """Stands in for the key book in :func:`surveys.ingest._check_rows`: marks no duplicate, records the
    candidate rows (their parsed key, position, source row and whether the other rules kept them)."""

    def __init__(self, candidates: np.ndarray | None, source_rows: np.ndarray, department: pd.Series):
        self.candidates, self.source_rows, self.department = candidates, source_rows, department
        self.idx = np.zeros(0, dtype=np.int64)
        self.keys: pd.DataFrame | None = None
        self.ok: np.ndarray | None = None

    def repeated_rows(self, keys: pd.DataFrame) -> np.ndarray:
        self.idx = np.arange(len(keys)) if self.candidates is None else self.candidates
        self.keys = keys.iloc[self.idx].reset_index(drop=True)
        return np.zeros(len(keys), dtype=bool)

    def across(self, keys: pd.DataFrame, ok: np.ndarray, label: str) -> tuple[np.ndarray, dict]:
        self.ok = np.asarray(ok, dtype=bool).copy()
        return np.zeros(len(keys), dtype=bool), {}

    def frame(self) -> pd.DataFrame:
        """The candidate rows: ``_pos`` (in the batch), ``_row``, ``_ok``, ``_dept``, then the key columns."""
        idx = self.idx
        ok = self.ok if self.ok is not None else np.ones(len(self.source_rows), dtype=bool)
        out = pd.DataFrame({"_pos": idx, "_row": self.source_rows[idx], "_ok": ok[idx],
                            "_dept": self.department.iloc[idx].astype(object).to_numpy()})
        if self.keys is not None:
            for c in self.keys.columns:
                out[c] = self.keys[c].to_numpy(dtype=object)
        return out


# ----------------------------------------------------------------------------- tasks


def _batches(rules: Rules, source: _Source, group: int | None, batch_rows: int, kinds: dict, columns=None):
    """Typed frames of the record batches of one row group (``None``: the whole file) and their first rows."""
    pf = rules.parquet_file(source.path)
    groups = list(range(len(source.groups))) if group is None else [group]
    first = 2 + int(sum(source.groups[:groups[0]])) if groups else 2
    frames = rules.read_ahead(pf.iter_batches(batch_size=batch_rows, row_groups=groups,
                                         columns=source.read if columns is None else columns), kinds,
                         source.targets)
    for frame in frames:
        yield frame, first
        first += len(frame)


def _hash_task(ctx: _Context, source: _Source, group: int | None, batch_rows: int) -> np.ndarray:
    """First pass: the hash of the id key columns of every record of a row group (text, as the key book)."""
    back = {c: n for n, c in source.targets.items()}
    names = {str(o).strip(): o for o in ctx.rules.parquet_file(source.path).schema_arrow.names}
    columns = [names[back[k]] for k in ctx.hashed]
    table = source.reading.table
    # the ids as the rules will see them: behind the input's prefix
    parts = [aggregate.key_hash(ctx.rules.prepare_batch(frame, table, source.spec, ()), list(ctx.hashed))
             for frame, _ in _batches(ctx.rules, source, group, batch_rows, {}, columns=columns)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def _check_task(ctx: _Context, source: _Source, file_no: int, group: int | None, batch_rows: int,
                candidates: np.ndarray | None = None) -> _Part:
    """Check the record batches of one row group (or file) by the rules of an in-memory file.

    ``candidates``: positions in the row group (or file) of the rows whose
    key may repeat, sorted (None: every row).
    """
    table = source.reading.table
    ledger = Ledger()
    checker = Checker(ctx.framework.plausibility, ledger, ctx.paths)
    tally = ctx.rules.tally()
    kinds = {n: table.column(c).kind for n, c in source.targets.items()}
    # what derivation and aggregation read (ids and free text are done with once the rows are checked)
    keep = ([c for c in source.targets.values() if table.column(c).kind not in ("id", "text", "phone", "hashed")]
            if ctx.reduce else None)
    used, stats, cands, cand_rows = [], [], [], []
    rows_in = 0
    for frame, first in _batches(ctx.rules, source, group, batch_rows, kinds):
        rows = np.arange(first, first + len(frame), dtype=np.int64)
        mine = None
        if candidates is not None:
            lo, hi = np.searchsorted(candidates, [rows_in, rows_in + len(frame)])
            mine = candidates[lo:hi] - rows_in
        rows_in += len(frame)
        frame = ctx.rules.prepare_batch(frame, table, source.spec, source.markers)
        keys = _DeferredKeys(mine, rows, frame["department_id"])
        ok_rows = ctx.rules.check_rows(frame, rows, source.spec, ctx.framework, ctx.lookup, ctx.year, ctx.period, ledger,
                              [], ctx.salt, label=source.label, keys=keys, tally=tally, columns=keep,
                              checker=checker, reading=source.reading)
        cand = keys.frame()
        is_cand = np.zeros(len(ok_rows), dtype=bool)
        if len(cand):
            ok = keys.ok if keys.ok is not None else np.ones(len(frame), dtype=bool)
            at = np.cumsum(ok) - 1                      # position of each row among the used rows
            is_cand[at[cand["_pos"].to_numpy()[cand["_ok"].to_numpy()]]] = True
            cand["_pos"] = cand["_pos"] + (rows[0] - 2)  # position in the file
            cands.append(cand)
        if ctx.reduce:
            derived = derive.derive_all({ctx.table: ok_rows})[ctx.table]
            stats.append(aggregate.sufficient_statistics(derived[~is_cand], ctx.table))
            if is_cand.any():
                cand_rows.append(derived[is_cand])
        else:
            used.append(ok_rows)
    part = _Part(file_no, ledger.entries, ledger.cells, ledger.filled, ledger.unread, ledger.flags, checker._stops,
                 (tally.nonblank, tally.known, tally.unmatched), rows_in)
    if ctx.reduce:
        part.stats = aggregate.combine(stats)
        part.cand_rows = pd.concat(cand_rows, ignore_index=True) if cand_rows else None
    else:
        part.used = pd.concat(used, ignore_index=True) if len(used) > 1 else (used[0] if used else None)
    part.cand = pd.concat(cands, ignore_index=True) if cands else None
    return part


# ----------------------------------------------------------------------------- running a table


@dataclass
class Loaded:
    """A table checked on the engine, its books still to be settled into the year's (:meth:`settle`)."""

    table: str
    rules: Rules
    ctx: _Context | None
    sources: list
    parts: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def settle(self, ledger: Ledger, problems: list, checker: Checker, declared: dict | None = None):
        """Add the books to the year's, in file and row-group order; the reduced table or the used rows.

        None when a file has a structural problem (added to ``problems``), as for an in-memory file.
        ``declared``: filled per call log with the call results its recodes declare (``rules.opened``).
        """
        problems.extend(self.problems)
        if self.ctx is None:
            return None
        tables_before = len(problems)
        first_file: dict = {}
        stats, used = [], []
        for file_no, source in enumerate(self.sources):
            parts = [p for p in self.parts if p.file_no == file_no]
            tally = self.rules.tally()
            rows_in = rows_used = 0
            self.rules.opened(source.spec, source.label, self.ctx.framework, source.reading, source.columns, ledger,
                              declared)
            for p in parts:
                ledger.entries.extend(p.entries)
                ledger.cells.extend(p.cells)
                for book, found in ((ledger.filled, p.filled), (ledger.unread, p.unread)):
                    for k, n in found.items():
                        book[k] = book.get(k, 0) + n
                _merge_flags(ledger, p.flags)
                _merge_stops(checker, p.stops)
                tally.nonblank += p.tally[0]
                tally.known += p.tally[1]
                tally.add(0, 0, p.tally[2])
                rows_in += p.rows_in
            dup = self._duplicates(parts, source, ledger, first_file)
            for p in parts:
                drop = dup.get(id(p), np.zeros(0, dtype=np.int64))
                if self.ctx.reduce:
                    stats.append(p.stats)
                    if p.cand_rows is not None:
                        kept = np.ones(len(p.cand_rows), dtype=bool)
                        kept[drop] = False
                        stats.append(aggregate.sufficient_statistics(p.cand_rows[kept], self.table))
                        rows_used += int(kept.sum())
                    rows_used += int(p.stats[aggregate.COUNT].sum()) if len(p.stats) else 0
                elif p.used is not None:
                    rows = p.used if not len(drop) else p.used.drop(index=p.used.index[drop])
                    used.append(rows)
                    rows_used += len(rows)
            problem = tally.problem(source.spec)
            if problem is not None:
                problems.append(problem)
                continue
            ledger.count(file=source.label, table=self.table, rows_in=rows_in, rows_used=rows_used, blank_rows=0)
        if len(problems) > tables_before:
            return None
        if self.ctx.reduce:
            return aggregate.combine(stats)
        if not used:
            return None
        return pd.concat(used, ignore_index=True) if len(used) > 1 else used[0].reset_index(drop=True)

    def later_files(self, source: _Source) -> bool:
        return source is not self.sources[-1]

    def _duplicates(self, parts: list, source: _Source, ledger: Ledger, first_file: dict) -> dict:
        """Quarantine the used rows whose key repeats (within the file, or used by an earlier file).

        Returns, per part, the positions to drop: among its used candidate
        rows (reduced) or its used rows.
        """
        cands = [(p, p.cand) for p in parts if p.cand is not None and len(p.cand)]
        if not cands or not self.ctx.columns:
            return {}
        frame = pd.concat([c.assign(_part=k) for k, (_, c) in enumerate(cands)], ignore_index=True)
        frame = frame.sort_values("_pos", kind="stable").reset_index(drop=True)
        key = [k for k in self.ctx.columns if k in frame.columns]
        within = frame[key].duplicated(keep="first").to_numpy()
        ok = frame["_ok"].to_numpy(dtype=bool)
        dup_within = within & ok
        dup_across = np.zeros(len(frame), dtype=bool)
        kept_in = np.full(len(frame), None, dtype=object)
        fresh = ok & ~within
        earlier = first_file.get("keys")
        if earlier is not None and len(earlier) and fresh.any():
            # the first file that used the key, for the used rows of this file (pandas matches missing to missing,
            # as the key book's tuples do)
            found = frame.loc[fresh, key].merge(earlier, on=key, how="left")["_label"].to_numpy(dtype=object)
            at = np.flatnonzero(fresh)
            hit = pd.notna(found)
            dup_across[at[hit]] = True
            kept_in[at[hit]] = found[hit]
        if self.later_files(source):
            # the keys this file used, for the files after it
            mine = frame.loc[fresh & ~dup_across, key].assign(_label=source.label)
            first_file["keys"] = mine if earlier is None else pd.concat([earlier, mine], ignore_index=True)
        for mask, across in ((dup_within, False), (dup_across, True)):
            idx = np.flatnonzero(mask)
            if not len(idx):
                continue
            values = frame[key[0]].iloc[idx]
            text = ([f"{kept_in[i]}:{v}" for i, v in zip(idx, values)] if across
                    else values.astype("string").fillna("").tolist())
            rows = frame["_row"].iloc[idx].tolist()
            ledger.quarantine(file=source.label, table=self.table, source_rows=rows,
                              departments=frame["_dept"].iloc[idx].tolist(), code="duplicate_id", detail=text)
            # a row set aside keeps its own reason, not the cells cleared in it (as for an in-memory file)
            gone = set(rows)
            ledger.cells = [c for c in ledger.cells if c["file"] != source.label or c["table"] != self.table
                            or c["source_row"] not in gone]
        drop = dup_within | dup_across
        out = {}
        for k, (p, cand) in enumerate(cands):
            mine = frame[(frame["_part"] == k)]
            if self.ctx.reduce:
                # candidate rows of the part that were used, in order: their place among p.cand_rows
                used = mine[mine["_ok"]].sort_values("_pos")
                out[id(p)] = np.flatnonzero(drop[used.index.to_numpy()])
            else:
                used_pos = _used_positions(p, mine)
                out[id(p)] = used_pos[drop[mine.index.to_numpy()] & mine["_ok"].to_numpy()]
        return out


def _used_positions(part: _Part, mine: pd.DataFrame) -> np.ndarray:
    """Position among the part's used rows of each candidate row of ``mine`` (used rows only are asked for)."""
    rows = part.used["_row"].to_numpy() if part.used is not None else np.zeros(0, dtype=np.int64)
    at = np.searchsorted(rows, mine["_row"].to_numpy())
    return np.minimum(at, max(len(rows) - 1, 0))


def _merge_flags(ledger: Ledger, flags: list) -> None:
    """Flags of a part into the year's: one per table, department and code, ``n`` added, first example kept."""
    known = {(rec["table"], rec["department_id"], rec["flag"]): rec for rec in ledger.flags}
    for rec in flags:
        have = known.get((rec["table"], rec["department_id"], rec["flag"]))
        if have is not None:
            have["n"] += rec["n"]
        else:
            ledger.flags.append(dict(rec))
            known[(rec["table"], rec["department_id"], rec["flag"])] = ledger.flags[-1]


def _merge_stops(checker: Checker, stops: dict) -> None:
    """Findings that stop the year, as :meth:`Checker._settle` adds them up: count, first 5 rows, 3 examples."""
    for key, found in stops.items():
        have = checker._stops.setdefault(key, {"n": 0, "rows": [], "examples": []})
        have["n"] += found["n"]
        have["rows"] += found["rows"][:5 - len(have["rows"])]
        room = 3 - len(have["examples"])
        if room > 0:
            have["examples"] += found["examples"][:room]


# ----------------------------------------------------------------------------- entry points


def _prepare(rules: Rules, specs, labels, framework, lookup, year, period, salt, paths) -> Loaded:
    """Open the files, map their columns (warnings and problems once a file, here) and describe the table."""
    from .errors import DataValidationError, Problem

    problems: list = []
    sources = []
    for spec, label in zip(specs, labels):
        try:
            found = rules.source(spec, framework, problems)
        except DataValidationError as exc:
            problems.extend(exc.problems or [Problem(exc.summary, file=str(spec.path))])
            continue
        if found is None:
            continue
        pf, targets, read, reading, markers, columns = found
        groups = tuple(pf.metadata.row_group(g).num_rows for g in range(pf.metadata.num_row_groups))
        key = tuple(k for k in reading.table.key if k in targets.values())
        sources.append(_Source(str(spec.path), label, spec, targets, read, groups, key, reading, markers, columns))
    if problems or not sources:
        return Loaded(specs[0].table, rules, None, [], problems=problems)
    table = sources[0].reading.table
    columns = tuple(dict.fromkeys(k for s in sources for k in s.key))
    hashed = tuple(k for k in table.key if table.column(k).kind == "id" and all(k in s.key for s in sources))
    ctx = _Context(rules, table.name, framework, lookup, year, period, salt, paths, table.name in aggregate.SUMMED,
                   columns, hashed)
    return Loaded(table.name, rules, ctx, sources)


def _tasks(loaded: Loaded) -> list[tuple[_Source, int, int | None]]:
    return [(s, f, g) for f, s in enumerate(loaded.sources) for g in (range(len(s.groups)) or [None])]


def load(rules: Rules, specs, labels, framework, lookup, year, period, salt, paths, *,
         batch_rows: int = BATCH_ROWS) -> Loaded:
    """Check a table's Parquet files in this process, batch by batch (books to :meth:`Loaded.settle`)."""
    loaded = _prepare(rules, specs, labels, framework, lookup, year, period, salt, paths)
    if loaded.ctx is None:
        return loaded
    tasks = _tasks(loaded)
    candidates = _candidates([_hash_task(loaded.ctx, s, g, batch_rows) for s, _, g in tasks]
                             if loaded.ctx.hashed else None, len(tasks))
    loaded.parts = [_check_task(loaded.ctx, s, f, g, batch_rows, c) for (s, f, g), c in zip(tasks, candidates)]
    return loaded


class _Job:
    """A table on the engine: started now on the workers (large reduced tables) or checked when settled."""

    def __init__(self, run):
        self._run, self._future = run, None

    def start(self) -> _Job:
        self._future = start_future(self._run)
        return self

    def settle(self, ledger: Ledger, problems: list, checker: Checker, declared: dict | None = None):
        """The table's books into the year's (:meth:`Loaded.settle`); the reduced table or the used rows."""
        loaded = self._future.result() if self._future is not None else self._run(parallel=False)
        return loaded.settle(ledger, problems, checker, declared)


def begin(rules: Rules, specs, tables, labels, framework, lookup, year, period, salt, paths, *,
          batch_rows: int = BATCH_ROWS) -> dict[str, _Job]:
    """A job for each table of ``tables`` (whose inputs are all Parquet), the large reduced ones started.

    ``specs`` and ``labels`` are the year's inputs and their ledger labels,
    in order.  Settle each job at the place of the table's first input
    (:meth:`_Job.settle`), so that the books come out in the order of a
    serial load.
    """
    jobs = {}
    for table in dict.fromkeys(s.table for s in specs if s.table in tables):
        group = [(s, label) for s, label in zip(specs, labels) if s.table == table]
        mine = [s for s, _ in group]

        def run(parallel: bool, mine=mine, group=group):
            args = (rules, mine, [label for _, label in group], framework, lookup, year, period, salt, paths)
            return _run_parallel(*args, batch_rows) if parallel else load(*args, batch_rows=batch_rows)

        job = _Job(lambda parallel=True, run=run: run(parallel))
        if table in aggregate.SUMMED and rows_of(mine) >= PARALLEL_ROWS and WORKERS > 1:
            job.start()
        jobs[table] = job
    return jobs


def start_future(run) -> Future:
    """``run()`` in a thread of this process (it waits on the worker processes); its result as a future."""
    done: Future = Future()

    def target():
        try:
            done.set_result(run())
        except BaseException as exc:  # noqa: BLE001 (handed to the caller, raised when the table is settled)
            done.set_exception(exc)

    threading.Thread(target=target, name="minping-engine", daemon=True).start()
    return done


def rows_of(specs) -> int:
    """Records in a table's Parquet files (from the files' metadata; 0 for a file that cannot be opened)."""
    import pyarrow.parquet as pq

    total = 0
    for spec in specs:
        try:
            total += pq.ParquetFile(spec.path).metadata.num_rows
        except (OSError, ValueError):
            continue
    return total


def _run_parallel(rules, specs, labels, framework, lookup, year, period, salt, paths, batch_rows) -> Loaded:
    loaded = _prepare(rules, specs, labels, framework, lookup, year, period, salt, paths)
    if loaded.ctx is None:
        return loaded
    tasks = _tasks(loaded)
    ctx = loaded.ctx
    with _Workers(max(1, min(WORKERS, os.cpu_count() or 1, len(tasks)))) as pool:
        hashes = pool.map(_hash_task, [(ctx, s, g, batch_rows) for s, _, g in tasks]) if ctx.hashed else None
        candidates = _candidates(hashes, len(tasks))
        loaded.parts = pool.map(_check_task, [(ctx, s, f, g, batch_rows, c)
                                              for (s, f, g), c in zip(tasks, candidates)])
    return loaded


class _Workers:
    """Worker interpreters fed pickled tasks, one at a time, as each finishes its last.

    Each worker is a fresh ``python`` that imports this module and nothing
    of the caller (unlike a ``multiprocessing`` pool, which re-imports the
    caller's main script and forks a process that may hold locks of its
    threads).  Tasks go in on the worker's stdin; results come back on its
    stdout, which the worker keeps for them alone (anything else it prints
    goes to stderr).  An exception in a task is raised again here.
    """

    def __init__(self, n: int):
        import subprocess
        import sys

        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.procs = [subprocess.Popen([sys.executable, "-c", "from surveys.engine import _serve; _serve()"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env) for _ in range(n)]

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.stdin.close()
        for proc in self.procs:
            proc.wait()

    def map(self, fn, args: list) -> list:
        """``[fn(*a) for a in args]``, on the workers, in the order of ``args``."""
        import pickle
        import queue

        todo: queue.Queue = queue.Queue()
        for k, a in enumerate(args):
            todo.put((k, a))
        out: list = [None] * len(args)
        failed: list = []

        def feed(proc):
            while not failed:
                try:
                    k, a = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    pickle.dump((fn, a), proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                    proc.stdin.flush()
                    ok, value = pickle.load(proc.stdout)
                except (OSError, EOFError, pickle.UnpicklingError) as exc:
                    failed.append(RuntimeError(f"an engine worker stopped: {exc!r}"))
                    return
                if not ok:
                    failed.append(value)
                    return
                out[k] = value

        threads = [threading.Thread(target=feed, args=(p,), daemon=True) for p in self.procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failed:
            raise failed[0]
        return out


def _serve() -> None:
    """The loop of a worker interpreter (:class:`_Workers`): run each task read from stdin, answer on stdout."""
    import pickle
    import sys
    import traceback

    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())   # stray prints must not corrupt the answers
    tasks = sys.stdin.buffer
    while True:
        try:
            fn, args = pickle.load(tasks)
        except EOFError:
            return
        try:
            answer = (True, fn(*args))
        except BaseException as exc:  # noqa: BLE001 (sent to the caller, which raises it)
            answer = (False, exc)
        try:
            pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            pickle.dump((False, RuntimeError("".join(traceback.format_exception(answer[1]))
                                             if not answer[0] else "a result could not be sent")), answers)
        answers.flush()


def _candidates(hashes: list | None, n_tasks: int) -> list:
    """Per task, the positions of the rows whose id-key hash occurs more than once in the table (sorted), or
    None (every row) when the key has no id column to hash."""
    if hashes is None:
        return [None] * n_tasks
    everything = np.sort(np.concatenate(hashes)) if hashes else np.zeros(0, dtype=np.uint64)
    repeated = np.unique(everything[1:][everything[1:] == everything[:-1]])
    del everything
    if not len(repeated):
        return [np.zeros(0, dtype=np.int64) for _ in hashes]
    out = []
    for h in hashes:
        spot = np.minimum(np.searchsorted(repeated, h), len(repeated) - 1)
        out.append(np.flatnonzero(repeated[spot] == h))
    return out
