"""Out-of-core 好差评: streamed batches give the books and figures of the in-memory load; the scale benchmark's summary."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from evaluation.indicators import estimate_indicators
from evaluation.quality import quality_table
from surveys import aggregate
from surveys.errors import DataValidationError
from surveys.ingest import load_year
from surveys.project import load_project

TINY = {"departments": 40, "totals": {"survey": 3000, "callback_cases": 1200, "visits": 100, "ratings": 12000}}


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory):
    """A tiny province-style Parquet project whose 好差评 come in two files.

    The second file repeats ids of the first (cross-file duplicates) and the
    generator plants a repeated id, a bad level and a date of last year in
    each (within-file duplicates land in later batches than their originals).
    """
    from minping.synthetic.province import province_config, write_parquet_project

    folder = tmp_path_factory.mktemp("tiny")
    path = write_parquet_project(folder, province_config(1.0, departments=TINY["departments"],
                                                         totals=TINY["totals"]))
    data = folder / "data" / "2024"
    table = pq.read_table(data / "ratings.parquet")
    half = table.num_rows // 2
    first, second = table.slice(0, half), table.slice(half)
    again = first.take([3, 500, half - 1])          # used ids of the first file, again in the second
    pq.write_table(first, data / "ratings.parquet")
    pq.write_table(pa.concat_tables([second.slice(0, 100), again, second.slice(100)]), data / "ratings_b.parquet")
    text = path.read_text(encoding="utf-8")
    block = text[text.index('[[inputs]]\nyear = 2024\ntable = "ratings"'):]
    path.write_text(text.rstrip("\n") + "\n\n" + block.replace("ratings.parquet", "ratings_b.parquet"),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def every_channel(tmp_path_factory):
    """A tiny province whose every channel is Parquet in several row groups, with problems planted in each.

    Survey: split into two files, the second repeating two used ids of the first (cross-file duplicates), a
    respondent repeated within the first file and an answer outside its scale; call records: an attempt
    repeated; site visits: a rater's row repeated; 好差评 in two files as in ``tiny_project``.  Row groups
    of a few hundred rows make the batches and the workers' tasks cut through every file.
    """
    from minping.synthetic.province import province_config, write_parquet_project

    folder = tmp_path_factory.mktemp("every")
    path = write_parquet_project(folder, province_config(1.0, departments=TINY["departments"],
                                                         totals=TINY["totals"]))
    data = folder / "data" / "2024"
    survey = pq.read_table(data / "survey.parquet")
    half = survey.num_rows // 2
    first = pa.concat_tables([survey.slice(0, 700), survey.slice(5, 1), survey.slice(700, half - 700)])
    items = [n for n in first.column_names if n.startswith("Q3")]
    q = first.column(items[0]).to_pylist()
    q[40] = 7                                                     # outside the 1-5 scale
    first = first.set_column(first.column_names.index(items[0]), items[0], pa.array(q, first.schema.field(items[0]).type))
    pq.write_table(first, data / "survey.parquet", row_group_size=311)
    second = pa.concat_tables([survey.slice(half, 50), survey.take([10, 20]), survey.slice(half + 50)])
    # the second file as another export reads it: its own word for enterprises (a recode) and -3 for "skipped"
    kind = pa.array(["企业法人" if v == "企业" else v for v in second.column("受访者类型").to_pylist()])
    second = second.set_column(second.column_names.index("受访者类型"), "受访者类型", kind)
    q1 = second.column(items[0]).to_pylist()
    q1[3] = q1[60] = -3
    second = second.set_column(second.column_names.index(items[0]), items[0],
                               pa.array(q1, second.schema.field(items[0]).type))
    pq.write_table(second, data / "survey_b.parquet", row_group_size=257)
    for name, repeat in (("callback_attempts", 100), ("visits", 30), ("callback_interviews", None),
                         ("guides", None), ("admin_monthly", None), ("admin_matters", None)):
        t = pq.read_table(data / f"{name}.parquet")
        if repeat is not None:
            t = pa.concat_tables([t.slice(0, repeat + 7), t.slice(repeat, 1), t.slice(repeat + 7)])
        pq.write_table(t, data / f"{name}.parquet", row_group_size=173)
    ratings = pq.read_table(data / "ratings.parquet")
    rhalf = ratings.num_rows // 2
    pq.write_table(ratings.slice(0, rhalf), data / "ratings.parquet", row_group_size=1500)
    pq.write_table(pa.concat_tables([ratings.slice(rhalf, 100), ratings.take([3, 500]), ratings.slice(rhalf + 100)]),
                   data / "ratings_b.parquet", row_group_size=1100)
    text = path.read_text(encoding="utf-8")
    for table, name in (("survey", "survey_b.parquet"), ("ratings", "ratings_b.parquet")):
        start = text.index(f'[[inputs]]\nyear = 2024\ntable = "{table}"')
        end = text.find("[[inputs]]", start + 1)
        block = text[start:end if end > 0 else len(text)]
        block = block.replace(f"{table}.parquet", name).rstrip("\n") + "\n"
        if table == "survey":
            block = (block.replace(f'{name}"\n', f'{name}"\nmissing = ["-3"]\n', 1)
                     + '[inputs.recode."受访者类型"]\n"企业法人" = "enterprise"\n')
        text = text.rstrip("\n") + "\n\n" + block
    # the site visits numbered per export: their ids behind a prefix
    text = text.replace('path = "data/2024/visits.parquet"\n', 'path = "data/2024/visits.parquet"\nid_prefix = "V-"\n', 1)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("workers", [False, True], ids=["this_process", "worker_processes"])
def test_every_parquet_channel_on_the_engine_keeps_the_books_and_the_figures(every_channel, workers, monkeypatch):
    """Streamed through the engine, every channel gives the in-memory load's ledger, flags, tables and figures.

    With ``worker_processes`` the reduced 好差评 table is checked by worker processes, one row group each.
    """
    from evaluation.evaluate import evaluate
    from surveys import engine

    whole, framework = _load(every_channel, stream=False)
    if workers:
        monkeypatch.setattr(engine, "PARALLEL_ROWS", 0)
    streamed, _ = _load(every_channel, stream=True, batch_rows=211)
    ledger = whole.ledger.frame()
    pd.testing.assert_frame_equal(streamed.ledger.frame(), ledger)
    codes = ledger.groupby(["table", "reason_code"]).size()
    for table in ("survey", "callback_attempts", "visits", "ratings"):
        assert codes.loc[(table, "duplicate_id")] >= 1, table
    # an answer out of range clears its cell, not the respondent: the cleared cells and the values not read agree
    cells = whole.ledger.cells_frame()
    pd.testing.assert_frame_equal(streamed.ledger.cells_frame(), cells)
    assert ((cells["table"] == "survey") & (cells["reason_code"] == "code_out_of_range")).any()
    unread = lambda y: y.ledger.unread_frame().sort_values(["file", "column", "value"]).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(unread(streamed), unread(whole))
    assert streamed.ledger.filled == whole.ledger.filled
    pd.testing.assert_frame_equal(streamed.ledger.absent_frame(), whole.ledger.absent_frame())
    assert (ledger["file"] == "data/2024/survey_b.parquet").any()
    # the input's own reading applies on the engine too: its recode, its skip marker, its id prefix
    survey = streamed.tables["survey"]
    assert not survey["respondent_type"].isin(["企业法人"]).any() and survey["respondent_type"].notna().all()
    assert streamed.tables["visits"]["visit_id"].str.startswith("V-").all()
    # a table's files are counted together, at its first input (as the streamed 好差评 always were)
    counts = lambda y: y.ledger.counts_frame().sort_values("file").reset_index(drop=True)   # noqa: E731
    pd.testing.assert_frame_equal(counts(streamed), counts(whole))
    pd.testing.assert_frame_equal(streamed.ledger.flags_frame(), whole.ledger.flags_frame())
    assert set(streamed.tables) == set(whole.tables)
    for name, df in whole.tables.items():
        if name != "ratings":
            pd.testing.assert_frame_equal(streamed.tables[name], df, obj=name)
    assert aggregate.is_aggregated(streamed.tables["ratings"])
    a = evaluate(whole.data, framework, seed=3, robustness=False)
    b = evaluate(streamed.data, framework, seed=3, robustness=False)
    pd.testing.assert_frame_equal(b.indicators, a.indicators)
    pd.testing.assert_frame_equal(b.quality, a.quality)
    pd.testing.assert_frame_equal(b.departments, a.departments)


def _load(path, **kw):
    project = load_project(path)
    framework = project.load_framework()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_year(project, framework, 2024, **kw), framework


def test_streamed_batches_keep_the_books_and_the_figures(tiny_project):
    whole, framework = _load(tiny_project, stream=False)
    streamed, _ = _load(tiny_project, stream=True, batch_rows=997)
    assert not aggregate.is_aggregated(whole.tables["ratings"])
    assert aggregate.is_aggregated(streamed.tables["ratings"])
    assert len(streamed.tables["ratings"]) < len(whole.tables["ratings"]) / 10

    ledger = whole.ledger.frame()
    pd.testing.assert_frame_equal(streamed.ledger.frame(), ledger)
    reasons = ledger[ledger["table"] == "ratings"].groupby(["file", "reason_code"]).size()
    assert reasons.loc[("data/2024/ratings_b.parquet", "duplicate_id")] >= 3   # the cross-file repeats
    assert {"code_out_of_range", "outside_period"} <= set(reasons.index.get_level_values(1))
    counts = lambda y: y.ledger.counts_frame().sort_values("file").reset_index(drop=True)
    pd.testing.assert_frame_equal(counts(streamed), counts(whole))

    est_whole = estimate_indicators(whole.data, framework).frame
    est_streamed = estimate_indicators(streamed.data, framework).frame
    pd.testing.assert_frame_equal(est_streamed, est_whole)
    assert (est_whole["channel"] == "H").sum() > 0
    pd.testing.assert_frame_equal(quality_table(streamed.data, est_streamed, framework),
                                  quality_table(whole.data, est_whole, framework))


def test_sufficient_statistics_by_hand():
    records = pd.DataFrame({
        "department_id": ["A", "A", "A", "B", "B"],
        "rated_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-01", "2024-01-09", "2024-01-10"]),
        "level": [5.0, 1.0, 4.0, 2.0, np.nan],
        "default_rating": [1.0, 0.0, np.nan, 0.0, 0.0],
        "callback_level": [np.nan, 4.0, np.nan, 2.0, np.nan],
        "is_bad": [0.0, 1.0, 0.0, 1.0, 0.0],
    })
    stats = aggregate.sufficient_statistics(records, "ratings").set_index(["department_id", "month"])
    jan = stats.loc[("A", "2024-01")]
    assert jan["_count"] == 2 and jan["level"] == 6.0 and jan["level__n"] == 2
    assert jan["good"] == 1.0 and jan["active_good"] == 0.0             # the only good rating is a default
    assert jan["callback_level"] == 4.0 and jan["callback_level__n"] == 1
    assert stats.loc[("A", "2024-02"), "active_good"] == 1.0            # no default flag: active
    b = stats.loc[("B", "2024-01")]
    assert b["_count"] == 2 and b["level__n"] == 1 and b["is_bad"] == 1.0 and b["good"] == 0.0
    # batches added up, and records or statistics, give the same department sums
    halves = aggregate.combine([aggregate.sufficient_statistics(records.iloc[:2], "ratings"),
                                aggregate.sufficient_statistics(records.iloc[2:], "ratings")])
    pd.testing.assert_frame_equal(halves, aggregate.combine([aggregate.sufficient_statistics(records, "ratings")]))
    fields = ["level", "callback_level", "is_bad"]
    by_rows = aggregate.department_sums(records, fields)
    pd.testing.assert_frame_equal(aggregate.department_sums(halves, fields), by_rows, check_dtype=False)
    assert by_rows.loc["B", "callback_level"] == 2.0 and np.isnan(aggregate.department_sums(
        records.assign(callback_level=np.nan), fields).loc["A", "callback_level"])


def test_key_book_is_exact_even_when_every_hash_collides(monkeypatch):
    rng = np.random.default_rng(7)
    ids = [f"R{k}" for k in range(60)]
    files = {name: pd.DataFrame({"rating_id": pd.array(rng.choice(ids, n), dtype="string")})
             for name, n in (("a", 400), ("b", 300))}
    files["a"].loc[[5, 77], "rating_id"] = pd.NA
    # A hash that only sees the length: most distinct ids collide, so exactness rests on the key comparison.
    monkeypatch.setattr(aggregate, "_text_hash", lambda text: text.str.len().fillna(-1).to_numpy().astype(np.uint64))
    book = aggregate.KeyBook.from_frames(["rating_id"], [files["a"], files["b"]], 700)
    first_used = {}
    for name, keys in files.items():
        book.start_file()
        repeated, later = [], []
        for k in range(0, len(keys), 64):
            batch = keys.iloc[k:k + 64]
            dup = book.repeated_rows(batch)
            repeated.append(dup)
            later.append(book.across(batch, ~dup, name)[0])
        repeated, later = np.concatenate(repeated), np.concatenate(later)
        np.testing.assert_array_equal(repeated, keys.duplicated(keep="first").to_numpy())
        used = keys["rating_id"].where(~repeated)
        expected = used.notna() & used.isin([k for k, f in first_used.items() if f != name])
        np.testing.assert_array_equal(later, expected.to_numpy())
        for key in used.dropna():
            first_used.setdefault(key, name)
    assert later.sum() > 0


def test_department_match_problem_is_the_same_streamed(tmp_path):
    (tmp_path / "data").mkdir()
    pq.write_table(pa.table({"评价编号": ["R1", "R2", "R3"], "部门": ["某某局", "另一局", "不存在局"],
                             "评价时间": pa.array(pd.to_datetime(["2024-03-01"] * 3)),
                             "评价等级": pa.array([5, 4, 1], type=pa.int8())}), tmp_path / "data" / "r.parquet")
    (tmp_path / "project.toml").write_text(
        '[project]\nyears = [2024]\nsalt = "s"\n\n[[inputs]]\nyear = 2024\ntable = "ratings"\n'
        'path = "data/r.parquet"\n[inputs.columns]\n"评价编号" = "rating_id"\n"部门" = "department_id"\n'
        '"评价时间" = "rated_at"\n"评价等级" = "level"\n', encoding="utf-8")
    messages = []
    for stream in (False, True):
        with pytest.raises(DataValidationError) as exc:
            _load(tmp_path / "project.toml", stream=stream)
        messages.append([p.message for p in exc.value.problems])
    assert messages[0] == messages[1] and "only 0 of 3 rows" in messages[0][0]


def test_the_sql_gives_the_same_statistics(tiny_project):
    duckdb = pytest.importorskip("duckdb")
    whole, _ = _load(tiny_project, stream=False)
    records = whole.tables["ratings"]  # noqa: F841 (the relation the query reads)
    expected = aggregate.sufficient_statistics(whole.tables["ratings"], "ratings")
    found = duckdb.sql(aggregate.sufficient_statistics_sql(source="records")).df()
    found = found.sort_values(["department_id", "month"], ignore_index=True)[expected.columns]
    pd.testing.assert_frame_equal(found.astype(expected.dtypes.to_dict()), expected)


def test_small_benchmark_summary_shape(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("scale_benchmark", ROOT / "benchmarks" / "scale.py")
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)
    monkeypatch.setattr(scale, "SMALL", TINY)
    monkeypatch.setattr(scale, "GROWTH_STAGES", ("read_validate",))   # the whole run once is enough here
    stages = ("read_validate", "estimation", "ranks_1000", "run_no_documents")
    summary = scale.benchmark(tmp_path, small=True, growth=True, stages=stages, in_process=True, log=lambda m: None)
    assert summary["mode"] == "small" and summary["machine"]["cpus"] >= 1
    assert summary["data"]["rows"]["ratings"] > 0 and summary["io_floor_s"] > 0
    assert set(summary["stages"]) == set(stages)
    assert all(r["seconds"] > 0 and r["peak_rss_mb"] > 0 for r in summary["stages"].values())
    assert summary["stages"]["run_no_documents"]["exit_code"] == 0
    assert set(summary["targets"]) == {"run_over_io_floor", "run_within_target", "run_peak_rss_mb", "run_within_4gb"}
    points = summary["ratings_out_of_core"]
    assert [p["streamed"] for p in points.values()] == [True, True, False]
    assert points["streamed_x1"]["records"] > points["streamed_x0.1"]["records"]
    growth = summary["growth"]
    assert growth["factors"] == [0.5, 1.0, 2.0] and set(growth["exponent"]) == {"io_floor", "read_validate"}
    assert all(len(v) == 3 for v in growth["seconds"].values())
    assert np.isclose(scale.exponent([1, 2, 4], [3, 6, 12]), 1.0) and np.isclose(scale.exponent([1, 2], [1, 4]), 2.0)
