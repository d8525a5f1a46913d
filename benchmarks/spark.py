"""Benchmark: the 好差评 reduction on Spark SQL (local mode) against minping's own, on the same Parquet files.

The distributed path, run end to end on one machine:

1. Spark reads the project's 好差评 Parquet files, with each record's file
   and row number (``_metadata.file_name``, ``_metadata.row_index``);
2. ``mapInArrow`` runs minping's per-row rules on every Arrow batch
   unchanged -- :func:`surveys.ingest._check_rows` (parsing, register,
   codes, period, plausibility) and :mod:`surveys.derive` -- in Spark's Python
   workers, and returns each record's parsed key, whether the rules kept it,
   and its derived fields;
3. repeated keys are settled in Spark SQL as minping settles them: a kept
   record whose key an earlier record of its file has, or whose key an
   earlier file kept, is dropped (``ROW_NUMBER() OVER (PARTITION BY ...)``);
4. :func:`surveys.aggregate.sufficient_statistics_sql` (Spark dialect) reduces
   the kept records to sums and counts per department and month.

The result is compared, cell by cell, with the table minping's engine gives
(``surveys.ingest.load_year``, streamed), and so are the rows used and set
aside.  Needs the ``spark`` extra (``pip install ".[spark]"``) and a Java
runtime (Debian: ``apt-get install openjdk-17-jre-headless``); the test
suite never runs it.  Prints the figures; the last line is one JSON object::

    python benchmarks/spark.py --project /tmp/minping-scale/province-x1/project.toml
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TABLE = "ratings"
#: what mapInArrow returns for every record: where it came from, its key, whether the rules kept it, and the
#: derived fields the reduction reads (null where the record was set aside)
CHECKED = ("file_no int, source_row long, rating_id string, ok boolean, department_id string, rated_at timestamp_ntz, "
           "level double, default_rating double, deadline_days double, callback_level double, is_bad double, "
           "rectified_on_time double, rectification_called_back double, rectification_satisfied double")
DEDUP = """
WITH numbered AS (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY file_no, rating_id ORDER BY source_row) AS first_in_file
  FROM checked),
used AS (SELECT * FROM numbered WHERE ok AND first_in_file = 1),
settled AS (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY rating_id ORDER BY file_no) AS first_file
  FROM used)
SELECT * FROM settled WHERE first_file = 1
"""


def minping_statistics(project_file: Path):
    """The streamed 好差评 table of the project's first year, its rows used and quarantined, and the seconds."""
    from surveys.ingest import load_year
    from surveys.project import load_project

    project = load_project(project_file)
    framework = project.load_framework()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = load_year(project, framework, project.years[0], stream=True)
    seconds = time.perf_counter() - t0
    counts = loaded.ledger.counts_frame()
    counts = counts[counts["table"] == TABLE]
    return loaded.tables[TABLE], int(counts["rows_used"].sum()), int(counts["rows_quarantined"].sum()), seconds


def checker(project_file: str):
    """The function mapInArrow runs on each batch of raw records (it carries the project, not the data)."""
    def check(batches):
        import numpy as np
        import pyarrow as pa

        from surveys import derive, engine, ingest
        from surveys.ledger import Ledger
        from surveys.plausibility import Checker
        from surveys.project import load_project

        project = load_project(project_file)
        framework = project.load_framework()
        year = project.years[0]
        specs = [s for s in project.inputs_for(year) if s.table == TABLE]
        names = {s.path.name: (k, s) for k, s in enumerate(specs)}
        opened = {}   # file_no -> how the input is read (mapping, preset, recodes, markers), as the engine reads it
        lookup = {ingest._norm_header(k): v for k, v in framework.name_lookup().items()}
        schema = None
        for batch in batches:
            file_no, spec = names[os.path.basename(batch.column("file_name")[0].as_py())]
            rows = batch.column("row_index").to_numpy() + 2
            raw = batch.drop_columns(["file_name", "row_index"])
            if file_no not in opened:
                opened[file_no] = ingest._parquet_source(spec, framework, [])
            _, targets, _, reading, markers, _ = opened[file_no]
            table = reading.table
            kinds = {n: table.column(c).kind for n, c in targets.items()}
            frame = ingest._prepare_batch(ingest._typed_frame(raw, kinds).rename(columns=targets), table, spec, markers)
            keys = engine._DeferredKeys(None, rows, frame["department_id"])
            ledger = Ledger()
            used = ingest._check_rows(frame, rows, spec, framework, lookup, year, project.periods.get(year), ledger,
                                      [], project.salt, label=project.label(spec.path), keys=keys,
                                      tally=ingest._Tally(), checker=Checker(framework.plausibility, ledger, {}),
                                      reading=reading)
            used = derive.derive_all({TABLE: used})[TABLE]
            ok = keys.ok if keys.ok is not None else np.ones(len(rows), dtype=bool)
            at = np.cumsum(ok) - 1
            out = {"file_no": pa.array(np.full(len(rows), file_no, dtype=np.int32)),
                   "source_row": pa.array(rows.astype(np.int64)),
                   "rating_id": pa.array(keys.keys["rating_id"].astype(object).to_numpy(), pa.string()),
                   "ok": pa.array(ok)}
            # each record's derived fields, from its place among the used records (null where set aside)
            take = np.where(ok, at, 0) if len(used) else np.zeros(len(rows), dtype=np.int64)
            pad = used if len(used) else used.reindex(range(1))
            out["department_id"] = pa.array(pad["department_id"].astype(object).to_numpy()[take], pa.string(),
                                            mask=~ok)
            stamps = pad["rated_at"].to_numpy(dtype="datetime64[us]")[take]
            out["rated_at"] = pa.array(stamps, pa.timestamp("us"), mask=~ok | np.isnat(stamps))
            for name in ("level", "default_rating", "deadline_days", "callback_level", "is_bad", "rectified_on_time",
                         "rectification_called_back", "rectification_satisfied"):
                values = (pad[name].to_numpy(dtype=float, na_value=np.nan) if name in pad
                          else np.full(len(pad), np.nan))[take]
                out[name] = pa.array(values, pa.float64(), mask=~ok | np.isnan(values))
            result = pa.RecordBatch.from_pydict(out)
            schema = schema or result.schema
            yield result
    return check


def spark_statistics(project_file: Path, cores: int):
    """The same reduction on Spark SQL in local mode: statistics, rows used, rows quarantined, seconds."""
    from pyspark.sql import SparkSession

    from surveys import aggregate
    from surveys.project import load_project

    project = load_project(project_file)
    files = [str(s.path) for s in project.inputs_for(project.years[0]) if s.table == TABLE]
    spark = (SparkSession.builder.master(f"local[{cores}]").appName("minping-sufficient-statistics")
             .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(1 << 17))
             .config("spark.driver.memory", "4g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        t0 = time.perf_counter()
        raw = spark.read.parquet(*files).select("*", "_metadata.file_name", "_metadata.row_index")
        checked = raw.mapInArrow(checker(str(project_file)), CHECKED)
        checked.createOrReplaceTempView("checked")
        checked.cache()
        rows_in = checked.count()
        kept = spark.sql(DEDUP)
        kept.createOrReplaceTempView("kept")
        stats = spark.sql(aggregate.sufficient_statistics_sql(TABLE, source="kept", dialect="spark")).toPandas()
        used = int(stats[aggregate.COUNT].sum())
        seconds = time.perf_counter() - t0
        return stats, used, rows_in - used, seconds
    finally:
        spark.stop()


def compare(found, expected) -> dict:
    """Cell-by-cell equality of two statistics tables (rows in department and month order)."""
    found = found.sort_values(["department_id", "month"], ignore_index=True)[expected.columns]
    found = found.astype(expected.dtypes.to_dict())
    same = found.shape == expected.shape and bool((found.fillna(-1).to_numpy() == expected.fillna(-1).to_numpy()).all())
    return {"rows": len(expected), "columns": len(expected.columns), "identical": same}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--project", type=Path, default=Path("/tmp/minping-scale/province-x1/project.toml"))
    p.add_argument("--cores", type=int, default=2, help="Spark's local[N]")
    args = p.parse_args(argv)
    expected, used, quarantined, seconds = minping_statistics(args.project)
    print(f"minping engine: {seconds:.1f} s, {used:,} records used, {quarantined:,} set aside, "
          f"{len(expected):,} department-months")
    stats, s_used, s_quarantined, s_seconds = spark_statistics(args.project, args.cores)
    result = compare(stats, expected)
    print(f"Spark SQL local[{args.cores}]: {s_seconds:.1f} s, {s_used:,} used, {s_quarantined:,} set aside; "
          f"statistics identical: {result['identical']} ({result['rows']} x {result['columns']})")
    out = {"project": str(args.project), "minping_seconds": round(seconds, 2), "spark_seconds": round(s_seconds, 2),
           "rows_used": [used, s_used], "rows_quarantined": [quarantined, s_quarantined], **result}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
